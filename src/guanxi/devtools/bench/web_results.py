"""What a run of ``guanxi bench web`` is asked (``WebBenchConfig``) and what it measured.

Each request is a ``Sample`` (its page kind, the role of who made it, its duration, what
went wrong); ``WebBenchResult`` computes the figures the report prints from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from guanxi.accounts.models import Role
from guanxi.devtools.bench.common import percentile
from guanxi.devtools.bench.web_cpu import CpuReport
from guanxi.devtools.bench.web_data import Volume


@dataclass(frozen=True)
class WebBenchConfig:
    """One run: who, how long, on what."""

    people: int
    seconds: float
    think_s: float = 3.0
    database_url: str = ""
    web_workers: int = 1
    volume: Volume = field(default_factory=Volume)
    max_requests: int = 0  # 0: no budget but the time
    seed: int = 0


@dataclass(frozen=True)
class Sample:
    """One request: its page kind, who made it, how long it took, and what went wrong."""

    kind: str
    role: Role
    ms: float
    error: str = ""


@dataclass
class WebBenchResult:
    """The samples of a run and the figures computed from them.

    ``samples`` are the working time's requests, the ones rates and percentiles speak of;
    the sign-ins before it (a password hash each, once per person) are kept apart.
    """

    people: int
    elapsed_s: float
    samples: list[Sample]
    sign_ins: list[Sample] = field(default_factory=list)
    stored: dict[str, int] = field(default_factory=dict)
    logs: Path | None = None  # where the stack's logs were kept (when a request failed)
    cpu: CpuReport = field(default_factory=CpuReport)  # the stack's CPU over the working time

    @property
    def errors(self) -> list[Sample]:
        """The requests that failed, sign-ins included, each with its cause."""
        return [sample for sample in [*self.sign_ins, *self.samples] if sample.error]

    @property
    def rps(self) -> float:
        """Requests answered per second over the working time."""
        return len(self.samples) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def by_kind(self) -> dict[str, list[float]]:
        """Durations (ms) per page kind, kinds sorted by name (sign-in among them)."""
        kinds: dict[str, list[float]] = {}
        for sample in [*self.sign_ins, *self.samples]:
            kinds.setdefault(sample.kind, []).append(sample.ms)
        return dict(sorted(kinds.items()))

    def by_role(self) -> dict[Role, int]:
        """Requests made per role in the working time."""
        counts = dict.fromkeys(Role, 0)
        for sample in self.samples:
            counts[sample.role] += 1
        return counts

    def p95_ms(self) -> float:
        """The 95th percentile of every request's duration."""
        return percentile([sample.ms for sample in self.samples], 95)

    def last_line(self) -> str:
        """The summary line scripts read."""
        return (
            f"people={self.people} rps={self.rps:.1f} p95_ms={self.p95_ms():.0f} "
            f"errors={len(self.errors)}"
        )
