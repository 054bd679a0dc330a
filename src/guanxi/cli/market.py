"""Market intelligence: `guanxi charts ...`."""

from __future__ import annotations

import typer


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
    """Add this capability's commands to ``app`` and its benchmarks to ``bench_app``."""
