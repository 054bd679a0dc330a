"""The tracked links' redirect: ``GET /l/<key>`` answers 302 to the link's destination and
journals the click.

It is the outermost layer of the web app, ahead of sessions, languages and CSRF: a visitor
of a short link has no session, and a campaign's clicks arrive in bursts. The answer needs
the link's destination, read once from the database and kept in this process (a link's
destination never changes); the click is appended to the process's journal
(``convert.journal``) before the answer, and a thread copies the journal into the database.
"""

from __future__ import annotations

import atexit
import logging
import secrets
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI, Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from guanxi.convert.journal import ClickJournal, journal_dir, recover_orphans
from guanxi.convert.links import journal_store
from guanxi.convert.models import TrackedLink
from guanxi.convert.visitors import USER_AGENT_MAX, network_of, visitor_key
from guanxi.web.deps import client_ip

logger = logging.getLogger(__name__)

PREFIX = "/l/"
CACHE_SIZE = 100_000
UNKNOWN_TTL_S = 30.0  # an unknown key is asked again after this (it may be made meanwhile)
COPY_EVERY_S = 0.5
SWITCH_INTERVAL_S = 0.0005
CLICK_PARAMETER = "gx_click"  # the click id, as the destination receives it
# For a visitor of a mistyped or deleted link, who has no language setting: both languages.
NOT_FOUND = "链接不存在,请检查地址。\nThis link does not exist: check the address."


@dataclass(frozen=True)
class Target:
    """What the redirect needs of a link."""

    link_id: int
    workspace_id: int
    destination: str


class LinkCache:
    """Links by key, most recently used kept; unknown keys remembered for a while."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._found: OrderedDict[str, Target] = OrderedDict()
        self._unknown: dict[str, float] = {}
        self._lock = threading.Lock()

    def cached(self, key: str) -> Target | bool | None:
        """The cached target, None for a key known not to exist, False when not cached."""
        with self._lock:
            target = self._found.get(key)
            if target is not None:
                self._found.move_to_end(key)
                return target
            until = self._unknown.get(key)
            if until is not None and until > time.monotonic():
                return None
        return False

    def load(self, key: str) -> Target | None:
        """Read ``key``'s link from the database (blocking) and remember the answer."""
        with self.sessions() as db:
            row = db.execute(
                select(TrackedLink.id, TrackedLink.workspace_id, TrackedLink.destination).where(
                    TrackedLink.key == key
                )
            ).first()
        with self._lock:
            if row is None:
                if len(self._unknown) > CACHE_SIZE:
                    self._unknown.clear()
                self._unknown[key] = time.monotonic() + UNKNOWN_TTL_S
                return None
            target = Target(link_id=row[0], workspace_id=row[1], destination=row[2])
            self._found[key] = target
            if len(self._found) > CACHE_SIZE:
                self._found.popitem(last=False)
            return target


class ClickCopier:
    """This process's journal and the thread that copies it into the database."""

    def __init__(self, journal: ClickJournal) -> None:
        self.journal = journal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="click-copier", daemon=True)

    def start(self) -> None:
        """Start copying; the rest is copied when the interpreter exits."""
        self._thread.start()
        atexit.register(self.stop)

    def _run(self) -> None:
        while not self._stop.wait(COPY_EVERY_S):
            try:
                self.journal.copy_new()
            except Exception:  # the database may be restarting: the lines wait in the file
                logger.exception("clicks not copied yet; retrying")

    def stop(self) -> None:
        """Stop the thread and copy what is left (once: at shutdown, or at exit)."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(timeout=5)
        self.journal.close()


class ShortLinks:
    """ASGI middleware: answers ``/l/<key>`` itself, passes everything else on."""

    def __init__(self, app: ASGIApp, *, web_app: FastAPI) -> None:
        self.app = app
        self.web_app = web_app
        self.cache = LinkCache(web_app.state.session_factory)
        self._copier: ClickCopier | None = None
        self._start_lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._watching_shutdown(receive), send)
            return
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        key = path[len(PREFIX) :]
        if scope["method"] not in ("GET", "HEAD") or not key.isalnum() or len(key) > 16:
            await _plain(send, 404, NOT_FOUND)
            return
        target = self.cache.cached(key)
        if target is False:
            target = await anyio.to_thread.run_sync(self.cache.load, key)
        if not isinstance(target, Target):
            await _plain(send, 404, NOT_FOUND)
            return
        click_id = secrets.token_urlsafe(16)
        # The first click starts the copier (and stores what gone processes left): off the loop.
        journal = self._journal() if self._copier else await anyio.to_thread.run_sync(self._journal)
        journal.append(self._click(Request(scope), target, click_id))
        separator = "&" if "?" in target.destination else "?"
        location = f"{target.destination}{separator}{CLICK_PARAMETER}={click_id}"
        await _redirect(send, location)

    def _watching_shutdown(self, receive: Receive) -> Receive:
        """``receive``, storing the journal's last clicks when the server shuts down."""

        async def watched() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self._copier is not None:
                await anyio.to_thread.run_sync(self._copier.stop)
            return message

        return watched

    def _journal(self) -> ClickJournal:
        copier = self._copier
        if copier is None:
            with self._start_lock:
                if self._copier is None:
                    self._copier = _start_copier(self.web_app)
                copier = self._copier
        return copier.journal

    def _click(self, request: Request, target: Target, click_id: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        agent = request.headers.get("user-agent", "")
        address = client_ip(request)
        referrer = urlsplit(request.headers.get("referer", "")).hostname or ""
        return {
            "click_id": click_id,
            "link_id": target.link_id,
            "workspace_id": target.workspace_id,
            "clicked_at": now.isoformat(),
            "hour": int(now.timestamp()) // 3600,
            "visitor": visitor_key(
                self.web_app.state.click_secret,
                address=address,
                user_agent=agent,
                day=now.date().isoformat(),
            ),
            "network": network_of(address),
            "referrer_host": referrer[:200],
            # The app, device and bot verdict are read from the agent when the click is
            # stored (``links.journal_store``): the crawler list would cost a new agent more
            # than the rest of the answer, which does not depend on it.
            "agent": agent[:USER_AGENT_MAX],
            # A HEAD asks about the page without opening it: a link checker, not a person.
            "head": request.method == "HEAD",
        }


def _start_copier(app: FastAPI) -> ClickCopier:
    # The copier and the event loop share the interpreter: a waiting loop gets it back after
    # 0.5 ms rather than Python's default 5 ms (bench convert: p99 -30%, +40% clicks/s).
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
    store = journal_store(app.state.writing_sessions)
    directory = journal_dir(app.state.settings.data_dir)
    recover_orphans(directory, store)
    copier = ClickCopier(ClickJournal(directory, store))
    copier.start()
    return copier


async def _redirect(send: Send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 302,
            "headers": [
                (b"location", location.encode()),
                (b"cache-control", b"no-store"),
                (b"referrer-policy", b"no-referrer"),
                (b"content-length", b"0"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b""})


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _NoRedirectsInAccessLog(logging.Filter):
    """Leaves the redirects out of uvicorn's access log: the journal records each click, and
    a campaign's burst of clicks would fill the log (its line costs as much as the journal's)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        return not (isinstance(args, tuple) and len(args) > 2 and str(args[2]).startswith(PREFIX))


_ACCESS_LOG_FILTER = _NoRedirectsInAccessLog()


def set_up(app: FastAPI) -> None:
    """Put the redirect in front of the app (called once the app is built)."""
    app.state.click_secret = app.state.settings.resolved_secret_key().encode()
    app.add_middleware(ShortLinks, web_app=app)
    logging.getLogger("uvicorn.access").addFilter(_ACCESS_LOG_FILTER)  # added once
