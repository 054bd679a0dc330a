"""Fault injection: latency, 5xx, a timeout after the request was accepted, rate-limit
storms and token revocation, matched by platform and path, with seeded randomness."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """What goes wrong."""

    LATENCY = "latency"  # answer, but only after delay_s
    SERVER_ERROR = "server_error"  # a 5xx in the platform's error shape; nothing happens
    TIMEOUT_AFTER_ACCEPT = "timeout_after_accept"  # do the work, then hang past the timeout
    RATE_LIMIT = "rate_limit"  # the platform's rate-limit error; nothing happens
    # Revoke the platform's tokens, then handle the request (which then fails on its token).
    REVOKE_TOKEN = "revoke_token"  # noqa: S105 - a fault's name, not a secret


@dataclass
class FaultRule:
    """One fault: where it applies, how often, how many times."""

    kind: FaultKind
    platform: str = "*"  # "weibo", "wechat", "douyin" or "*"
    path_contains: str = ""  # e.g. "statuses/share"; empty: every API path
    probability: float = 1.0
    remaining: int | None = None  # None: until cleared
    delay_s: float = 0.0  # LATENCY and TIMEOUT_AFTER_ACCEPT

    def matches(self, platform: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        return (self.platform in {"*", platform}) and self.path_contains in path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view of the rule."""
        return asdict(self)


class FaultPlan:
    """The active fault rules; thread-safe, reproducible with a seed."""

    def __init__(self, seed: int = 0) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - fault injection, not cryptography

    def add(self, rule: FaultRule) -> None:
        """Activate a rule."""
        if not 0.0 <= rule.probability <= 1.0:
            msg = "probability must be between 0 and 1"
            raise ValueError(msg)
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        """A copy of the active rules."""
        with self._lock:
            return list(self._rules)

    def draw(self, platform: str, path: str) -> list[FaultRule]:
        """The rules that fire for this request (each consumes one of its ``remaining``)."""
        fired = []
        with self._lock:
            for rule in list(self._rules):
                if not rule.matches(platform, path):
                    continue
                if self._random.random() >= rule.probability:
                    continue
                fired.append(rule)
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
        return fired
