"""The sandbox's clock: what "now" is for the figures the sandbox reports.

The platforms' figures grow with time (a post's views, an account's followers), so a test
or a demo needs to say when "now" is: fixed at a moment (``set(now=...)``), or the real time
moved by an offset (``set(offset=...)``, e.g. three days ahead to see a post's curve
flatten). ``PUT /_sandbox/clock`` does the same over HTTP.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from guanxi.core.db import utcnow


class SandboxClock:
    """The real time, unless a test fixed it or moved it."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The sandbox's current time (aware, UTC)."""
        with self._lock:
            fixed, offset = self._fixed, self._offset
        return fixed if fixed is not None else utcnow() + offset

    def set(self, *, now: datetime | None = None, offset: timedelta | None = None) -> None:
        """Fix the time at ``now`` (aware), or run the real time moved by ``offset``."""
        if now is not None and (now.tzinfo is None or now.utcoffset() is None):
            msg = "the sandbox's now must be an aware datetime"
            raise ValueError(msg)
        with self._lock:
            self._fixed = now
            self._offset = offset or timedelta(0)

    def reset(self) -> None:
        """Back to the real time."""
        self.set()

    def describe(self) -> dict[str, str | float | None]:
        """The clock as the admin endpoint shows it."""
        with self._lock:
            fixed, offset = self._fixed, self._offset
        return {
            "now": self.now().isoformat(),
            "fixed": fixed.isoformat() if fixed is not None else None,
            "offset_s": offset.total_seconds(),
        }
