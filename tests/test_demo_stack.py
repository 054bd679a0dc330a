"""`guanxi up` prepares the demo in steps; one that fails does not stop the others."""

from __future__ import annotations

import logging

import pytest

from guanxi.devtools.demo import stack as demo_stack


def test_a_failing_demo_step_is_logged_and_the_others_still_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Given the WeChat push set-up failing, the sandbox's history, the posts, the inbox
    warm-up, the first pull and the first collection still happen, and the failure is
    logged with what could not be done."""
    ran: list[str] = []

    def broken(_port: int, _sandbox_port: int) -> None:
        raise RuntimeError("sandbox down")

    monkeypatch.setattr(demo_stack, "_sandbox_history", lambda port: ran.append(f"history {port}"))
    monkeypatch.setattr(demo_stack, "_configure_wechat_push", broken)
    monkeypatch.setattr(demo_stack, "_add_demo_posts", lambda: ran.append("posts"))
    monkeypatch.setattr(demo_stack, "_warm_inbox", lambda port: ran.append(f"inbox {port}"))
    monkeypatch.setattr(demo_stack, "_first_pull", lambda: ran.append("pull"))
    monkeypatch.setattr(demo_stack, "_first_collection", lambda: ran.append("analytics"))
    with caplog.at_level(logging.ERROR, logger=demo_stack.logger.name):
        demo_stack._prepare_demo(8000, 8100)
    assert ran == ["history 8100", "posts", "inbox 8100", "pull", "analytics"]
    assert "could not set up the WeChat push" in caplog.text
    assert "sandbox down" in caplog.text
