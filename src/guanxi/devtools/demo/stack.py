"""The demo's connected accounts and the one-machine stack behind ``make run``.

The demo workspace's channels are the sandbox's demo accounts; ``sandbox_environment``
points the connectors at the local sandbox, the same way production points them at the
platforms: by base URL and app keys only.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.accounts.service import get_workspace_by_slug
from guanxi.channels import service as channels
from guanxi.channels.models import Channel
from guanxi.connectors.base import Token
from guanxi.core.db import make_engine, make_session_factory
from guanxi.core.security import SecretBox
from guanxi.core.settings import get_settings
from guanxi.devtools.demo.analytics import give_sandbox_history
from guanxi.devtools.demo.analytics import load_demo as load_demo_analytics
from guanxi.devtools.demo.convert import load_demo_codes, load_demo_post_sales
from guanxi.devtools.demo.listening import add_demo_search
from guanxi.devtools.demo.publishing import load_demo_posts
from guanxi.devtools.demo.workspace import DEMO_WORKSPACE
from guanxi.sandbox import douyin, wechat, weibo

logger = logging.getLogger(__name__)

DEMO_MANUAL_PLATFORM = "xiaohongshu"
DEMO_MANUAL_HANDLE = "普罗旺斯葡萄酒"


def sandbox_environment(port: int, host: str = "127.0.0.1") -> dict[str, str]:
    """The GUANXI_* settings that point every connector at a sandbox on ``host:port``."""
    base = f"http://{host}:{port}"
    return {
        "GUANXI_WEIBO_API_BASE": f"{base}/weibo",
        "GUANXI_WEIBO_APP_KEY": weibo.DEMO_APP_KEY,
        "GUANXI_WEIBO_APP_SECRET": weibo.DEMO_APP_SECRET,
        "GUANXI_WEIBO_SAFE_DOMAIN": weibo.DEMO_SAFE_DOMAIN,
        "GUANXI_WECHAT_API_BASE": f"{base}/wechat",
        "GUANXI_DOUYIN_API_BASE": f"{base}/douyin",
        "GUANXI_DOUYIN_CLIENT_KEY": douyin.DEMO_DOUYIN_CLIENT_KEY,
        "GUANXI_DOUYIN_CLIENT_SECRET": douyin.DEMO_DOUYIN_CLIENT_SECRET,
    }


def load_demo_channels(db: Session, *, workspace: Workspace, box: SecretBox) -> list[Channel]:
    """Connect the sandbox's demo accounts to the demo workspace (once: an account already
    there is left as it is), then the listening search that needs the Weibo account, the
    accounts' analytics history with its published posts, the tracked links and sales of
    those posts, and the WeChat scene codes (the demo steps ran before the accounts
    existed)."""
    connected = list(
        db.scalars(select(Channel).where(Channel.workspace_id == workspace.id).order_by(Channel.id))
    ) or _connect_demo_channels(db, workspace=workspace, box=box)
    db.flush()
    add_demo_search(db, workspace=workspace)  # it needs the Weibo account
    load_demo_analytics(db, workspace=workspace)
    load_demo_post_sales(db, workspace=workspace)  # it needs the published posts
    load_demo_codes(db, workspace=workspace)  # they need the WeChat account
    return connected


def _connect_demo_channels(db: Session, *, workspace: Workspace, box: SecretBox) -> list[Channel]:
    return [
        channels.create_channel(
            db,
            workspace=workspace,
            connector="weibo",
            platform="weibo",
            external_id=weibo.DEMO_WEIBO_UID,
            name=weibo.DEMO_WEIBO_NAME,
            credentials={},
            box=box,
            actor=None,
            token=Token(weibo.DEMO_WEIBO_TOKEN, None),
        ),
        channels.create_channel(
            db,
            workspace=workspace,
            connector="wechat_oa",
            platform="wechat",
            external_id=wechat.DEMO_WECHAT_APPID,
            name=wechat.DEMO_WECHAT_NAME,
            credentials={
                "app_id": wechat.DEMO_WECHAT_APPID,
                "app_secret": wechat.DEMO_WECHAT_SECRET,
                "server_token": wechat.DEMO_WECHAT_SERVER_TOKEN,
            },
            box=box,
            actor=None,
        ),
        channels.create_channel(
            db,
            workspace=workspace,
            connector="douyin",
            platform="douyin",
            external_id=douyin.DEMO_DOUYIN_OPEN_ID,
            name=douyin.DEMO_DOUYIN_NAME,
            credentials={"refresh_token": douyin.DEMO_DOUYIN_REFRESH_TOKEN},
            box=box,
            actor=None,
            token=Token(douyin.DEMO_DOUYIN_TOKEN, None),
        ),
        channels.create_channel(
            db,
            workspace=workspace,
            connector="manual",
            platform=DEMO_MANUAL_PLATFORM,
            external_id=f"{DEMO_MANUAL_PLATFORM}:{DEMO_MANUAL_HANDLE}",
            name=DEMO_MANUAL_HANDLE,
            credentials={"platform": DEMO_MANUAL_PLATFORM, "name": DEMO_MANUAL_HANDLE},
            box=box,
            actor=None,
        ),
    ]


def run_stack(
    *, port: int, sandbox_port: int, workers: int, console: Console, web_workers: int = 1
) -> None:
    """Start the sandbox and a worker as child processes, serve the web app, stop them all.

    Children get the sandbox's base URLs and app keys in their environment, and so does
    this process, so every part talks to the sandbox exactly as it would to the platforms.
    """
    env = {**os.environ, **sandbox_environment(sandbox_port)}
    os.environ.update(sandbox_environment(sandbox_port))
    get_settings.cache_clear()
    command = [sys.executable, "-m", "guanxi"]
    children = [
        subprocess.Popen([*command, "sandbox", "--port", str(sandbox_port)], env=env),  # noqa: S603
        subprocess.Popen([*command, "worker", "--workers", str(workers)], env=env),  # noqa: S603
    ]
    try:
        wait_for(f"http://127.0.0.1:{sandbox_port}/_sandbox/health")
        console.print(f"sandbox: http://127.0.0.1:{sandbox_port}/  web: http://127.0.0.1:{port}/")
        threading.Thread(target=_prepare_demo, args=(port, sandbox_port), daemon=True).start()
        # uvicorn re-raises SIGTERM after its shutdown; make that an exit that runs `finally`.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        # The app reads X-Forwarded-For itself, from GUANXI_TRUSTED_PROXIES only.
        get_settings().resolved_secret_key()  # one key for all web processes, made before them
        uvicorn.run(
            "guanxi.shell.main:app",
            host="127.0.0.1",
            port=port,
            proxy_headers=False,
            workers=web_workers,
        )
    finally:
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


# A busy two-core machine took more than 30 s to start the sandbox (its imports and demo
# accounts), and `make run` then failed; the wait ends as soon as the answer comes.
START_TIMEOUT_S = 120.0


def wait_for(url: str, timeout_s: float = START_TIMEOUT_S) -> None:
    """Return once ``url`` answers 200; RuntimeError after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    msg = f"{url} did not answer within {timeout_s:.0f} s"
    raise RuntimeError(msg)


# Paced rounds of the sandbox audience played before the first inbox sync, dated over the
# last hour at the audience's pace, so a newcomer's inbox has what a team would find at
# the start of a shift (one item per account a round) instead of waiting for the first.
WARM_UP_ROUNDS = 4


def _prepare_demo(port: int, sandbox_port: int) -> None:
    """Once the web app answers: the demo history's older posts in the sandbox, the WeChat
    push, the demo posts (the worker publishes them to the sandbox as they fall due), a few
    audience rounds, an inbox sync, the first pull of the listening search, the first
    analytics collection. Each step is a demo nicety the worker's schedule would also
    bring about: one that fails is logged and the others still run."""
    steps: tuple[tuple[str, Callable[[], object]], ...] = (
        ("give the sandbox the demo's older posts", lambda: _sandbox_history(sandbox_port)),
        ("set up the WeChat push", lambda: _configure_wechat_push(port, sandbox_port)),
        ("add the demo posts", _add_demo_posts),
        ("warm the demo inbox up", lambda: _warm_inbox(sandbox_port)),
        ("run the demo's first Weibo search", _first_pull),
        ("queue the demo's first analytics collection", _first_collection),
    )
    for description, step in steps:
        try:
            step()
        except Exception:  # logged with its traceback; the next step does not depend on it
            logger.exception("could not %s", description)


def _sandbox_history(sandbox_port: int) -> None:
    """The sandbox's demo accounts get the older posts of the demo's analytics history, so
    the collector's reads continue the demo's curves instead of contradicting them."""
    settings = get_settings()
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    with sessions() as db:
        give_sandbox_history(db, base_url=f"http://127.0.0.1:{sandbox_port}")


def _warm_inbox(sandbox_port: int) -> None:
    """The last hour of the audience's rounds, then an inbox sync queued for the worker."""
    from guanxi.inbox.scheduled import run_sync  # noqa: PLC0415 - builds the task queue at import, after run_stack has set the settings

    httpx.post(
        f"http://127.0.0.1:{sandbox_port}/_sandbox/audience/round",
        params={"rounds": WARM_UP_ROUNDS},
        timeout=10.0,
    ).raise_for_status()
    run_sync()  # queued: the worker reads the new items through the connectors


def _first_pull() -> None:
    """The listening search's first results at once (the worker's schedule repeats it)."""
    from guanxi.listening.intake.scheduled import run_pull  # noqa: PLC0415 - builds the task queue at import, after run_stack has set the settings

    run_pull()


def _first_collection() -> None:
    """The accounts' first analytics collection at once, after the sandbox has the demo's
    older posts (the worker's schedule repeats it every 15 minutes)."""
    from guanxi.measure.scheduled import run_collect  # noqa: PLC0415 - builds the task queue at import, after run_stack has set the settings

    run_collect()  # queued: the worker reads the figures through the connectors


def _add_demo_posts() -> None:
    """The demo workspace's posts, once; here because their checks need the sandbox's
    settings (the Weibo app's safe domain), which `guanxi up` sets."""
    settings = get_settings()
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    with sessions() as db:
        workspace = get_workspace_by_slug(db, slug=DEMO_WORKSPACE.slug)
        if workspace is None:
            return
        load_demo_posts(db, workspace=workspace, settings=settings)
        db.commit()


def _configure_wechat_push(port: int, sandbox_port: int) -> None:
    """Point the sandbox Official Account's event push at the demo channel's webhook."""
    settings = get_settings()
    sessions = make_session_factory(make_engine(settings.resolved_database_url))
    with sessions() as db:
        channel_id = db.scalar(
            select(Channel.id).where(
                Channel.connector == "wechat_oa", Channel.external_id == wechat.DEMO_WECHAT_APPID
            )
        )
    if channel_id is None:
        return
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        httpx.put(
            f"http://127.0.0.1:{sandbox_port}/wechat/_sandbox/accounts/{wechat.DEMO_WECHAT_APPID}/server",
            json={
                "url": f"http://127.0.0.1:{port}/hooks/wechat/{channel_id}",
                "token": wechat.DEMO_WECHAT_SERVER_TOKEN,
            },
            timeout=10.0,
        ).raise_for_status()
    except (httpx.HTTPError, RuntimeError) as exc:
        # Publishing still completes without the push: the engine polls the job's status.
        logger.warning("could not set up the WeChat push in the sandbox: %s", exc)
