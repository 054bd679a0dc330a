"""Where the machine's CPU goes while ``guanxi bench web``'s people work.

Under load the tail of a page's latency is queueing for the cores, so what counts is the CPU
of every process on them: the web processes, the worker, the sandbox, the PostgreSQL
server's processes (when it runs on this machine) and the benchmark's own client of
simulated people. ``CpuMeter`` reads their ``/proc/<pid>/stat`` times when the load starts,
every second while it runs (so a process that ends in between is not lost), and when it
ends, and the whole machine's busy time from ``/proc/stat``; Linux only (elsewhere the
report says so and the run goes on).
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
SAMPLE_EVERY_S = 1.0
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
CLIENT = "bench client (this process)"
DATABASE_BACKENDS = "PostgreSQL: backends"
DATABASE_SERVER = "PostgreSQL: server"
# The titles of the server's own processes (the postmaster's is its command line).
AUXILIARY = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "logical replication launcher",
    "archiver",
    "stats collector",
)
_PARALLEL = re.compile(r"parallel worker for PID (\d+)")


@dataclass(frozen=True)
class CpuPart:
    """One part of the stack and the CPU seconds its processes used during the load."""

    name: str
    seconds: float


@dataclass
class CpuReport:
    """The parts' CPU seconds over the load, and the machine's busy and available time."""

    parts: list[CpuPart] = field(default_factory=list)
    elapsed_s: float = 0.0
    machine_busy_s: float = 0.0
    cores: int = 1

    @property
    def measured(self) -> bool:
        """Whether anything could be read (Linux's ``/proc``)."""
        return bool(self.parts)

    @property
    def stack_s(self) -> float:
        """The CPU seconds of every part together."""
        return sum(part.seconds for part in self.parts)

    @property
    def others_s(self) -> float:
        """What the rest of the machine used meanwhile (other work, the kernel's threads)."""
        return max(0.0, self.machine_busy_s - self.stack_s)


@dataclass(frozen=True)
class _Stat:
    """What ``/proc/<pid>/stat`` says of a process that matters here."""

    command: str  # the executable's name, not its title
    parent: int
    ticks: int  # user and system CPU ticks
    children_ticks: int  # those of its children that ended and it waited for


def _stat(pid: int) -> _Stat | None:
    """A process's ``/proc/<pid>/stat``; None when it is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: the fields follow the last ")".
    close = raw.rindex(b")")
    fields = raw[close + 2 :].split()
    return _Stat(
        command=raw[raw.index(b"(") + 1 : close].decode("utf-8", "replace"),
        parent=int(fields[1]),
        ticks=int(fields[11]) + int(fields[12]),
        children_ticks=int(fields[13]) + int(fields[14]),
    )


def _title(pid: int) -> str:
    """A process's command line, or the title it gave itself (PostgreSQL's processes)."""
    try:
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()


def _pids() -> list[int]:
    return [int(entry.name) for entry in PROC.iterdir() if entry.name.isdigit()]


def _machine_busy_ticks() -> int:
    """The ticks every core spent on anything but idling and waiting for disks."""
    line = (PROC / "stat").read_text().splitlines()[0].split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in line[1:9])
    return user + nice + system + irq + softirq + steal


class CpuMeter:
    """The CPU of the benchmark's stack during its load phase, part by part.

    ``trees`` are the stack's child processes by name (each with every process it started:
    the web app's worker processes, the worker's); ``database`` is the scratch database's
    name on a PostgreSQL server of this machine ("" otherwise): its backends are told apart
    from the server's own processes (checkpointer, writers, autovacuum launcher) by their
    process titles, and other databases' backends are left out.
    """

    def __init__(self, *, trees: dict[str, int], database: str = "") -> None:
        self.trees = trees
        self.database = database
        self.available = (PROC / "stat").exists() and (PROC / "self" / "stat").exists()
        self._first: dict[tuple[str, int], int] = {}
        self._last: dict[tuple[str, int], int] = {}
        self._started = 0.0
        self._busy_first = 0
        self.report = CpuReport(cores=os.cpu_count() or 1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _parts(self) -> Iterable[tuple[str, int, int]]:
        """Each (part, pid, ticks so far) of the processes now running."""
        stats = {pid: stat for pid in _pids() if (stat := _stat(pid)) is not None}
        for name, root in self.trees.items():
            members = {root}
            grew = True
            while grew:  # every descendant of the root
                found = {pid for pid, stat in stats.items() if stat.parent in members}
                grew = not found <= members
                members |= found
            for pid in members & stats.keys():  # ended children it waited for count too
                yield name, pid, stats[pid].ticks + stats[pid].children_ticks
        own = stats.get(os.getpid())
        if own is not None:  # its own time: its children are the stack
            yield CLIENT, os.getpid(), own.ticks
        if self.database:
            yield from self._postgres(stats)

    def _postgres(self, stats: dict[int, _Stat]) -> Iterable[tuple[str, int, int]]:
        """The server's processes: this database's backends (and their parallel workers)
        and the server's own; not the children's time (the server waits for every backend,
        other databases' too)."""
        titles = {pid: _title(pid) for pid, stat in stats.items() if stat.command == "postgres"}
        ours = {pid for pid, title in titles.items() if f" {self.database} " in f"{title} "}
        for pid, title in titles.items():
            helper = _PARALLEL.search(title)
            if pid in ours or (helper is not None and int(helper.group(1)) in ours):
                yield DATABASE_BACKENDS, pid, stats[pid].ticks
            elif not title.startswith("postgres:") or title.endswith(AUXILIARY):
                yield DATABASE_SERVER, pid, stats[pid].ticks

    def _sample(self, *, first: bool) -> None:
        for name, pid, ticks in self._parts():
            key = (name, pid)
            # A process that started during the load: all of its time counts.
            self._first.setdefault(key, ticks if first else 0)
            self._last[key] = ticks

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY_S):
            self._sample(first=False)

    def start(self) -> None:
        """The load starts: read every process once, then every second."""
        if not self.available:
            return
        self._sample(first=True)
        self._busy_first = _machine_busy_ticks()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="cpu-meter", daemon=True)
        self._thread.start()

    def stop(self) -> CpuReport:
        """The load is over: read every process a last time and sum by part."""
        if not self.available or self._thread is None:
            return self.report
        self._stop.set()
        self._thread.join()
        self._sample(first=False)
        seconds: dict[str, float] = dict.fromkeys(self.trees, 0.0)
        for (name, _pid), last in self._last.items():
            used = max(0, last - self._first.get((name, _pid), last))
            seconds[name] = seconds.get(name, 0.0) + used / TICKS_PER_S
        self.report.parts = [CpuPart(name, value) for name, value in seconds.items()]
        self.report.elapsed_s = time.monotonic() - self._started
        self.report.machine_busy_s = (_machine_busy_ticks() - self._busy_first) / TICKS_PER_S
        return self.report
