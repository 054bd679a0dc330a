"""Worker processes started as separate machines would start them, and what they cost.

A bench starts each ``guanxi worker`` in a session of its own (its own process group, so it
is stopped as a whole), with its own data and temporary directories: what such a worker
shares with the others is only what its environment names (the database, the queue, the
secret key, the platforms). ``CpuClock`` reads, from Linux's scheduler statistics, how
long the workers, this process (the sandbox) and the database's backends ran on a CPU and
how long they waited for one: on a shared machine the wait says when CPU is the limit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from huey import Huey
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from guanxi.devtools.bench.common import BenchError, Progress
from guanxi.devtools.bench.publishing import STOP_TIMEOUT_S

READY_TIMEOUT_S = 120.0  # a worker prints its first line once its code is loaded
SETTLE_TIMEOUT_S = 300.0  # the first round of scheduled work of every channel
QUIET_S = 3.0  # seconds without queued jobs and with idle workers: settled
IDLE_CPU_S = 0.05  # CPU seconds a second of an idle worker (its schedule's polling)
EXIT_WITH_US = "--exit-with-parent"  # a bench killed outright leaves no workers behind
ERROR_MARKERS = ("Traceback", " ERROR ", "Error:")


# --- Machines -----------------------------------------------------------------------------


@dataclass
class Machine:
    """One ``guanxi worker`` process, started as on a machine of its own."""

    root: Path
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        """What the worker printed."""
        return self.root / "worker.log"

    def ready(self) -> bool:
        """Whether the worker has loaded its code and started its consumer."""
        return self.log.exists() and "worker:" in self.log.read_text(errors="replace")


def machine_env(base: dict[str, str], root: Path) -> dict[str, str]:
    """``base`` with this machine's own data and temporary directories."""
    for name in ("data", "tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return base | {
        "GUANXI_DATA_DIR": str(root / "data"),
        "TMPDIR": str(root / "tmp"),
        "PYTHONUNBUFFERED": "1",  # its log shows when it is ready
    }


def start_machine(base: dict[str, str], root: Path, *, threads: int) -> Machine:
    """A ``guanxi worker`` in a new session (its own process group) with its own dirs."""
    env = machine_env(base, root)
    with (root / "worker.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "guanxi", "worker", "--workers", str(threads), EXIT_WITH_US],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Machine(root=root, proc=proc)


def stop_machines(machines: list[Machine]) -> None:
    """SIGTERM each machine's process group, then SIGKILL what is left after a while."""
    for machine in machines:
        if machine.proc.poll() is None:
            os.killpg(machine.proc.pid, signal.SIGTERM)
    for machine in machines:
        try:
            machine.proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(machine.proc.pid, signal.SIGKILL)
            machine.proc.wait()


def wait_ready(machines: list[Machine]) -> None:
    """Wait until every worker is running; fail when one dies or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not all(m.ready() for m in machines):
        check_alive(machines)
        if time.monotonic() > deadline:
            msg = f"the workers did not start within {READY_TIMEOUT_S:.0f} s"
            raise BenchError(msg)
        time.sleep(0.2)


def wait_settled(machines: list[Machine], queue: Huey, progress: Progress) -> None:
    """Wait until the workers' first round of scheduled work is done: the queue empty and
    the workers idle for ``QUIET_S`` (new channels get their analytics history and a first
    inbox sync at start, work that would otherwise be timed with the publishing)."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    quiet_since = time.monotonic()
    before = sum(scheduler_s(m.proc.pid)[0] for m in machines)
    while time.monotonic() - quiet_since < QUIET_S and time.monotonic() < deadline:
        time.sleep(1.0)
        check_alive(machines)
        now = sum(scheduler_s(m.proc.pid)[0] for m in machines)
        busy = now - before > IDLE_CPU_S * len(machines) or queue.pending_count() > 0
        before = now
        if busy:
            quiet_since = time.monotonic()
        progress("workers settling (s)", int(time.monotonic() - quiet_since), int(QUIET_S))


def check_alive(machines: list[Machine]) -> None:
    """Fail the round when a worker exited on its own (its log says why)."""
    for machine in machines:
        if machine.proc.poll() is not None:
            tail = machine.log.read_text(errors="replace")[-2000:]
            msg = f"worker {machine.proc.pid} exited with {machine.proc.returncode}:\n{tail}"
            raise BenchError(msg)


def log_errors(machines: list[Machine]) -> list[str]:
    """The lines of the workers' logs that report an error."""
    return [
        f"worker {n}: {line.strip()[:200]}"
        for n, machine in enumerate(machines)
        for line in machine.log.read_text(errors="replace").splitlines()
        if any(marker in line for marker in ERROR_MARKERS)
    ]


def scheduler_s(pid: int) -> tuple[float, float]:
    """Seconds process ``pid`` (all its threads) ran on a CPU and waited for one so far."""
    ran = waited = 0
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:  # gone, or not Linux
        return 0.0, 0.0
    for task in tasks:
        try:
            fields = (task / "schedstat").read_text().split()
        except OSError:  # a thread that just ended
            continue
        ran, waited = ran + int(fields[0]), waited + int(fields[1])
    return ran / 1e9, waited / 1e9


@dataclass(frozen=True)
class Cores:
    """Cores busy during a phase (CPU seconds over wall seconds): the workers, this process
    (the sandbox), PostgreSQL's backends of the round's database; the cores' worth of time
    the workers and backends spent ready to run but waiting for a CPU; the machine's load
    average at the end."""

    workers: float = 0.0
    sandbox: float = 0.0
    database: float = 0.0
    waiting: float = 0.0  # the workers and the backends, ready but without a CPU
    load: float = 0.0
    wall_s: float = 0.0  # how long the phase was watched

    def worker_ms_per(self, count: int) -> float:
        """The workers' CPU milliseconds per post or item of the phase."""
        return self.workers * self.wall_s * 1000 / count if count else 0.0

    def __str__(self) -> str:
        return f"{self.workers:.2f} / {self.sandbox:.2f} / {self.database:.2f}"


class CpuClock:
    """Reads the scheduler times of the workers, this process and the database's backends."""

    def __init__(self, machines: list[Machine], sessions: sessionmaker[Session]) -> None:
        self.machines, self.sessions = machines, sessions
        self.began = time.monotonic()
        self.start = self._sample()

    def _backends(self) -> dict[int, tuple[float, float]]:
        with self.sessions() as db:
            query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            return {pid: scheduler_s(pid) for pid in db.scalars(query)}

    def _sample(self) -> tuple[tuple[float, float], float, dict[int, tuple[float, float]]]:
        workers = [scheduler_s(m.proc.pid) for m in self.machines]
        ran, waited = sum(w[0] for w in workers), sum(w[1] for w in workers)
        return (ran, waited), scheduler_s(os.getpid())[0], self._backends()

    def cores(self) -> Cores:
        """Each part's seconds since the start, over the wall-clock seconds."""
        (ran, waited), own, backends = self._sample()
        wall = max(time.monotonic() - self.began, 1e-3)
        before = self.start[2]
        db_ran = sum(r - before.get(pid, (0.0, 0.0))[0] for pid, (r, _) in backends.items())
        db_waited = sum(w - before.get(pid, (0.0, 0.0))[1] for pid, (_, w) in backends.items())
        return Cores(
            workers=(ran - self.start[0][0]) / wall,
            sandbox=(own - self.start[1]) / wall,
            database=db_ran / wall,
            waiting=(waited - self.start[0][1] + db_waited) / wall,
            load=os.getloadavg()[0],
            wall_s=wall,
        )
