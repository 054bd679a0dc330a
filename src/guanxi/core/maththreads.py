"""One thread for the numerical libraries' linear algebra in servers and workers.

A request or a job does small linear algebra (the best-time model inverts a 175 × 175
matrix). OpenBLAS's default threads, one per core, only spin on cores the other requests
need: that inverse took 7 to 34 ms of CPU on a shared 2-core machine, 1 ms on one thread.
Concurrency comes from the requests and jobs themselves.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_math_thread() -> None:
    """Ask for one linear-algebra thread, unless the environment chose otherwise. Call it
    before numpy is imported (the libraries read these once, when loaded); child processes
    inherit it."""
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
