"""What the connectors' metrics tests share: one "now" for the sandbox and the connector,
tokens held in memory, faults, and the sandbox's request log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from guanxi.connectors.base import Token
from guanxi.connectors.metrics_days import beijing_today
from guanxi.sandbox.server import RunningSandbox
from tests import http_support as local

# Noon in Beijing on a Friday: far from midnight, so "yesterday" is the same for everyone.
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
TODAY = date(2026, 11, 20)
YESTERDAY = TODAY - timedelta(days=1)
assert beijing_today(NOW) == TODAY


class MemoryTokens:
    """A channel's token held in memory; a refresh fetches a new one (one worker)."""

    def __init__(self, token: Token | None) -> None:
        self.token = token

    def current(self) -> Token | None:
        """The token."""
        return self.token

    def refresh(self, stale: Token | None, fetch: Callable[[], Token]) -> Token:
        """Fetch and keep a new one."""
        self.token = fetch()
        return self.token


def pin_now(
    running: RunningSandbox, monkeypatch: pytest.MonkeyPatch, moment: datetime = NOW
) -> None:
    """Make ``moment`` "now" for the sandbox's figures and for the connectors' day counting."""
    running.sandbox.state.clock.set(now=moment)
    monkeypatch.setattr("guanxi.connectors.metrics_days.utcnow", lambda: moment)


def fault(running: RunningSandbox, platform: str, **rule: object) -> None:
    """Inject a fault through the sandbox's admin API."""
    response = local.post(
        f"{running.base_url}/_sandbox/faults", json={"platform": platform, **rule}
    )
    assert response.status_code == 201, response.text


def calls(running: RunningSandbox, contains: str) -> int:
    """How many API calls reached a path containing ``contains``."""
    requests = Counter(path for _, path in running.sandbox.state.requests)
    return sum(count for path, count in requests.items() if contains in path)
