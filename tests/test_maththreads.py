"""Servers and workers ask for one linear-algebra thread, unless the operator chose."""

from __future__ import annotations

import os

import pytest

from guanxi.core.maththreads import THREAD_VARIABLES, one_math_thread


def test_one_thread_is_asked_for_where_the_environment_says_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given no thread variables but an operator's OMP_NUM_THREADS=4, when a server starts,
    then OpenBLAS and MKL get one thread and the operator's choice stays."""
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    one_math_thread()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    assert os.environ["MKL_NUM_THREADS"] == "1"
    assert os.environ["OMP_NUM_THREADS"] == "4"
