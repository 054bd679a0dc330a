"""What convert's analytics store answers, whatever the engine (SQL or ClickHouse).

The store holds the event facts conversions count: the clicks of tracked links (written by
the journal copier) and the scans and follows of scene codes (written by the WeChat push
handler). Orders, refunds, links, codes, KOLs and costs stay in the SQL database; callers
map links and codes to campaigns, posts and KOLs there and ask the store by id.
``sql.SqlConvertStore`` keeps the facts in the SQL tables (the default);
``clickhouse.ClickHouseConvertStore`` in ClickHouse (``GUANXI_ANALYTICS_URL``). The
contract tests (tests/analytics) hold both to the same answers.

Counts of a period are the raw facts in it plus, for facts a workspace's retention
deleted, their hourly counts whose hour starts in it (see ``convert.rollup_models``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Select

# What retention asks for the ids orders point back to (click ids, or OpenIDs); called only
# by a store that cannot ask the orders table in the same statement.
Kept = Callable[[], Collection[str]]


@dataclass(frozen=True)
class LinkCounts:
    """A link's clicks: counted (people, once an hour), every visit, and bots."""

    counted: int = 0
    visits: int = 0
    bots: int = 0


@dataclass(frozen=True)
class ClickFact:
    """One visit of a tracked link, as the redirect journalled it (the verdicts read)."""

    click_id: str
    link_id: int
    workspace_id: int
    clicked_at: datetime  # any offset; stored and counted in UTC
    hour: int  # hours since the epoch: one counted click per visitor, link and hour
    visitor: str
    network: str = ""
    platform: str = ""
    device: str = ""
    referrer_host: str = ""
    bot: bool = False
    illustrative: bool = False  # made up by the demo


@dataclass(frozen=True)
class ClickTouch:
    """What attribution reads of a person's click an order carries the id of."""

    link_id: int
    clicked_at: datetime
    platform: str


@dataclass(frozen=True)
class CodeEventFact:
    """A scan or a follow of one WeChat user, once per pushed event."""

    workspace_id: int
    channel_id: int
    event_id: str  # unique per channel: WeChat's retries of a push carry the same
    openid: str
    kind: str  # CodeEventKind
    occurred_at: datetime
    code_id: int | None = None
    scene: str = ""
    origin_checked: bool = False
    illustrative: bool = False
    id: int = 0  # the store's id once stored (0: not yet)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC time (a naive one is taken as UTC, as both engines store)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class ConvertStore(Protocol):
    """Convert's event facts: clicks and scene-code events, written as they arrive, read by
    the link, code, KOL, funnel and revenue pages, the report and the attribution engine."""

    # --- Clicks ------------------------------------------------------------------------

    def write_clicks(self, clicks: Sequence[ClickFact]) -> None:
        """Store each click once (by click id: a re-sent batch adds nothing); a person's
        first click on a link in an hour is counted, in batch order; bots never are.
        The caller commits."""

    def link_counts(self, *, link_ids: Sequence[int]) -> dict[int, LinkCounts]:
        """Counted clicks, visits and bot visits of each link, all time."""

    def counted_by_platform(self, *, link_id: int) -> dict[str, int]:
        """A link's counted clicks by the app they came from ("" = a plain browser)."""

    def has_illustrative_clicks(self, *, workspace_id: int) -> bool:
        """Whether the workspace's stored clicks include ones the demo made up."""

    def counted_by_link(
        self, *, workspace_id: int, link_ids: Sequence[int], start: datetime, end: datetime
    ) -> dict[int, int]:
        """Counted clicks in [``start``, ``end``) per link of ``link_ids`` (links without
        any left out)."""

    def click_touches(
        self, *, workspace_id: int, click_ids: Sequence[str], with_bots: bool = False
    ) -> dict[str, ClickTouch]:
        """The stored people's clicks (and bots' with ``with_bots``) among ``click_ids``,
        by click id."""

    def order_clicks(
        self,
        orders: Select[*tuple[Any, ...]],
        *,
        workspace_id: int,
        chunk: int,
        with_bots: bool = False,
    ) -> Iterator[list[tuple[tuple[Any, ...], ClickTouch | None]]]:
        """Run ``orders`` (a selection from the SQL database's orders table), streamed in
        chunks of ``chunk`` rows, each row (its own columns) with the stored person's click
        (a bot's too with ``with_bots``) whose id the order carries, or None."""

    def count_clicks_before(self, *, workspace_id: int, before: datetime, kept: Kept) -> int:
        """How many clicks before ``before`` retention would delete (not those ``kept``)."""

    def prune_clicks(self, *, workspace_id: int, before: datetime, limit: int, kept: Kept) -> int:
        """Delete at most ``limit`` clicks before ``before`` (not those ``kept``), their
        counts kept per hour; how many went."""

    # --- Scene-code events -------------------------------------------------------------

    def record_code_event(self, event: CodeEventFact) -> bool:
        """Store the event unless its channel already has its event id; True when new.
        The caller commits."""

    def pending_origins(self, *, limit: int) -> list[CodeEventFact]:
        """Follows without a scene not yet asked about, oldest stored first."""

    def set_origin(self, event: CodeEventFact, *, scene: str, code_id: int | None) -> None:
        """Mark the follow asked about, with the scene (and code) the platform named, if
        any. The caller commits."""

    def code_event_counts(
        self,
        *,
        workspace_id: int,
        code_ids: Sequence[int] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> dict[tuple[int, str], int]:
        """Events per (code id, kind): of ``code_ids`` (None: every code), in [``start``,
        ``end``) (None: all time). Events of no code are left out."""

    def scans_of(
        self, *, workspace_id: int, openids: Collection[str], since: datetime, until: datetime
    ) -> dict[str, list[tuple[datetime, int]]]:
        """The code events of ``openids`` in [``since``, ``until``] (both included):
        OpenID → [(time, code id)]."""

    def code_paths(
        self, *, workspace_id: int, since: datetime, until: datetime
    ) -> Iterator[tuple[str, datetime, int]]:
        """Every code event in [``since``, ``until``) as (OpenID, time, code id), by OpenID
        then time."""

    def count_code_events_before(self, *, workspace_id: int, before: datetime, kept: Kept) -> int:
        """How many events before ``before`` retention would delete (not of OpenIDs
        ``kept``: people who ordered)."""

    def prune_code_events(
        self, *, workspace_id: int, before: datetime, limit: int, kept: Kept
    ) -> int:
        """Delete at most ``limit`` events before ``before`` (not of OpenIDs ``kept``),
        their counts kept per hour; how many went."""
