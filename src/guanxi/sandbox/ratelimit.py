"""Fixed-window request counting, the way the platforms document their limits
(per account per hour, per app per day, ...)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Counts hits per key in fixed windows; ``hit`` says whether one more is allowed."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_s: int) -> bool:
        """Count a request for ``key``; False when it is over ``limit`` in this window."""
        window = int(self._clock() // window_s)
        with self._lock:
            count = self._windows.get((key, window), 0) + 1
            self._windows[(key, window)] = count
            if len(self._windows) > 100_000:  # forget finished windows now and then
                self._windows = {k: v for k, v in self._windows.items() if k[1] >= window - 1}
        return count <= limit

    def seconds_to_reset(self, window_s: int) -> float:
        """How long until the current window ends."""
        now = self._clock()
        return window_s - (now % window_s)
