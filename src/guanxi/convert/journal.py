"""The click journal: each click is appended to a file before the redirect is answered, and
copied into the database in batches.

A redirect must be fast and must not lose a click, even when its process is killed right
after answering. Writing the click to the database first would cost each redirect a
commit; instead each web process appends one line per click to a journal file of its own
(a single ``write`` to a file opened for appending: once it returns, the line is in the
operating system's cache and survives the process being killed). A thread of the same
process copies new lines into the database every fraction of a second; each line carries
its click id, unique in the table, so a line copied twice is stored once.

A process holds an exclusive lock on its journal while it lives. A journal whose lock can
be taken belongs to a process that is gone: whoever finds it (a web process starting, the
worker's periodic job) copies all of it and deletes it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Click = Mapping[str, Any]
# Stores a batch of clicks (idempotent on their click ids).
Store = Callable[[list[dict[str, Any]]], None]

ROTATE_BYTES = 32 * 1024 * 1024  # a fully copied journal larger than this starts anew
# Stored (and committed) 200 lines at a time: a web process's copier holds the interpreter
# for a few milliseconds at a time, while the redirects wait for it.
BATCH_LINES = 200


def journal_dir(data_dir: Path) -> Path:
    """Where the web processes keep their click journals."""
    return data_dir / "clicks"


class ClickJournal:
    """This process's journal: append clicks, copy them into the database."""

    def __init__(self, directory: Path, store: Store) -> None:
        self.directory = directory
        self.store = store
        self._lock = threading.Lock()  # the file descriptor and the copied offset
        directory.mkdir(parents=True, exist_ok=True)
        self._fd, self.path = self._open_new()
        self._copied = 0

    def _open_new(self) -> tuple[int, Path]:
        path = self.directory / f"clicks-{os.getpid()}-{uuid.uuid4().hex[:8]}.jsonl"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd, path

    def append(self, click: Click) -> None:
        """Record ``click``: durable against this process dying once this returns."""
        line = json.dumps(click, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            os.write(self._fd, line.encode())

    def copy_new(self) -> int:
        """Copy the lines appended since the last copy into the database; how many."""
        with self._lock:
            path, start = self.path, self._copied
        clicks, end = _read_lines(path, start)
        for batch in _batches(clicks):
            self.store(batch)
        with self._lock:
            if self.path == path:
                self._copied = end
                if end >= ROTATE_BYTES and os.fstat(self._fd).st_size == end:
                    self._rotate()
        return len(clicks)

    def _rotate(self) -> None:
        old_fd, old_path = self._fd, self.path
        self._fd, self.path = self._open_new()
        self._copied = 0
        os.close(old_fd)
        old_path.unlink(missing_ok=True)

    def close(self) -> None:
        """Copy what is left, then let the file go: deleted when everything in it is stored,
        else left for ``recover_orphans``."""
        try:
            self.copy_new()
        except Exception:
            logger.exception("clicks left in %s for the next start to store", self.path.name)
            with self._lock:
                os.close(self._fd)
            return
        with self._lock:
            os.close(self._fd)
            self.path.unlink(missing_ok=True)


def recover_orphans(directory: Path, store: Store) -> int:
    """Copy and delete the journals of processes that are gone; the clicks recovered."""
    recovered = 0
    if not directory.is_dir():
        return 0
    for path in sorted(directory.glob("clicks-*.jsonl")):
        with _orphan(path) as owned:
            if not owned:
                continue  # its process is alive and copies it itself
            clicks, _end = _read_lines(path, 0)
            for batch in _batches(clicks):
                store(batch)
            path.unlink(missing_ok=True)
            recovered += len(clicks)
            logger.info("recovered %d clicks from %s", len(clicks), path.name)
    return recovered


@contextmanager
def _orphan(path: Path) -> Iterator[bool]:
    """Whether ``path`` is a journal no living process holds (locked while inside)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _read_lines(path: Path, start: int) -> tuple[list[dict[str, Any]], int]:
    """The complete lines of ``path`` from byte ``start``, and where the last one ends (a
    line cut short by a crash mid-write is left: its redirect was never answered)."""
    try:
        with path.open("rb") as file:
            file.seek(start)
            data = file.read()
    except FileNotFoundError:
        return [], start
    end = data.rfind(b"\n") + 1
    clicks: list[dict[str, Any]] = []
    for raw in data[:end].splitlines():
        try:
            clicks.append(json.loads(raw))
        except ValueError:
            logger.warning("skipped an unreadable line in %s", path.name)
    return clicks, start + end


def _batches(clicks: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(clicks), BATCH_LINES):
        yield clicks[start : start + BATCH_LINES]
