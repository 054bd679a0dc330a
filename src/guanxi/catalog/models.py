"""The catalog's schema. Entries are data files in ``catalog/platforms/``, one per platform.

Figures are dated data points with a source, never "today's truth": the seed's 2012-2013
numbers stay what they were, and later figures are added only with a citation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from guanxi.core.errors import N_


class PlatformKind(StrEnum):
    """What a platform mainly is."""

    SOCIAL_NETWORK = "social_network"
    MICROBLOG = "microblog"
    MESSAGING = "messaging"
    VIDEO = "video"
    SHORT_VIDEO = "short_video"
    COMMUNITY = "community"  # forums, reviews, Q&A: Douban, Zhihu, Xiaohongshu
    BLOG = "blog"
    SEARCH_ENGINE = "search_engine"
    ECOMMERCE = "ecommerce"


KIND_LABELS: dict[PlatformKind, str] = {
    PlatformKind.SOCIAL_NETWORK: N_("Social network"),
    PlatformKind.MICROBLOG: N_("Microblog"),
    PlatformKind.MESSAGING: N_("Messaging"),
    PlatformKind.VIDEO: N_("Video sharing"),
    PlatformKind.SHORT_VIDEO: N_("Short video"),
    PlatformKind.COMMUNITY: N_("Community, reviews and Q&A"),
    PlatformKind.BLOG: N_("Blogging"),
    PlatformKind.SEARCH_ENGINE: N_("Search engine"),
    PlatformKind.ECOMMERCE: N_("E-commerce"),
}


class PlatformStatus(StrEnum):
    """Whether the platform still runs on its own."""

    ACTIVE = "active"
    MERGED = "merged"
    DEFUNCT = "defunct"


STATUS_LABELS: dict[PlatformStatus, str] = {
    PlatformStatus.ACTIVE: N_("Active"),
    PlatformStatus.MERGED: N_("Merged"),
    PlatformStatus.DEFUNCT: N_("Defunct"),
}


class Region(StrEnum):
    """Where a platform can or cannot be reached from."""

    MAINLAND = "mainland"
    HONG_KONG = "hong_kong"
    SHANGHAI_FTZ = "shanghai_ftz"
    OVERSEAS = "overseas"


REGION_LABELS: dict[Region, str] = {
    Region.MAINLAND: N_("Mainland China"),
    Region.HONG_KONG: N_("Hong Kong"),
    Region.SHANGHAI_FTZ: N_("Shanghai Free-Trade Zone"),
    Region.OVERSEAS: N_("Overseas"),
}


class Access(StrEnum):
    """How reachable a platform is from a region during a period."""

    OPEN = "open"
    BLOCKED = "blocked"  # only through a VPN
    REPORTED_OPEN = "reported_open"  # reported, not confirmed (the 2013 FTZ exception)
    LIMITED = "limited"  # works, but few users there or a separate local version


ACCESS_LABELS: dict[Access, str] = {
    Access.OPEN: N_("Reachable"),
    Access.BLOCKED: N_("Blocked"),
    Access.REPORTED_OPEN: N_("Reported reachable"),
    Access.LIMITED: N_("Limited"),
}


class Goal(StrEnum):
    """What a brand wants from a platform; the planner scores against these."""

    AWARENESS = "awareness"
    ENGAGEMENT = "engagement"
    SALES = "sales"
    VIDEO = "video"


GOAL_LABELS: dict[Goal, str] = {
    Goal.AWARENESS: N_("Awareness"),
    Goal.ENGAGEMENT: N_("Engagement"),
    Goal.SALES: N_("Sales"),
    Goal.VIDEO: N_("Video"),
}


class Education(StrEnum):
    """Highest education of the audience, coarse on purpose."""

    SECONDARY = "secondary"
    UNIVERSITY = "university"
    POSTGRADUATE = "postgraduate"


class Device(StrEnum):
    """What the audience uses the platform on."""

    MOBILE = "mobile"
    DESKTOP = "desktop"
    FEATURE_PHONE = "feature_phone"


class ApiLevel(StrEnum):
    """Whether an official API covers a use."""

    OFFICIAL = "official"
    LIMITED = "limited"  # exists, but for approved partners or a narrow part of the use
    NONE = "none"


class Metric(StrEnum):
    """What a user figure counts; different metrics are never compared with each other."""

    REGISTERED_ACCOUNTS = "registered_accounts"
    ACTIVE_ACCOUNTS = "active_accounts"
    MONTHLY_ACTIVE_USERS = "monthly_active_users"
    DAILY_ACTIVE_USERS = "daily_active_users"
    DAILY_UNIQUE_VISITORS = "daily_unique_visitors"
    INTERNATIONAL_USERS = "international_users"


METRIC_LABELS: dict[Metric, str] = {
    Metric.REGISTERED_ACCOUNTS: N_("Registered accounts"),
    Metric.ACTIVE_ACCOUNTS: N_("Active accounts"),
    Metric.MONTHLY_ACTIVE_USERS: N_("Monthly active users"),
    Metric.DAILY_ACTIVE_USERS: N_("Daily active users"),
    Metric.DAILY_UNIQUE_VISITORS: N_("Daily unique visitors"),
    Metric.INTERNATIONAL_USERS: N_("Users outside China"),
}

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Source(BaseModel):
    """Where a fact comes from."""

    model_config = _STRICT

    id: str
    title: str
    publisher: str
    published: date | None = None
    url: HttpUrl | None = None


class UserFigure(BaseModel):
    """One dated count of users, with its source."""

    model_config = _STRICT

    metric: Metric
    value: int = Field(ge=0)
    as_of: date
    source: str  # a Source id
    note: str = ""


class StatusChange(BaseModel):
    """A change of status: a merger, a shutdown."""

    model_config = _STRICT

    status: PlatformStatus
    on: date
    into: str | None = None  # slug of the platform it merged into
    note: str = ""
    source: str


class Reach(BaseModel):
    """Access from a region over a period (``until`` empty: still so)."""

    model_config = _STRICT

    region: Region
    access: Access
    since: date | None = None
    until: date | None = None
    note: str = ""
    source: str | None = None


class Audience(BaseModel):
    """Who uses the platform, as far as the sources say."""

    model_config = _STRICT

    age_min: int = Field(ge=0, le=120)
    age_max: int = Field(ge=0, le=120)
    education: list[Education] = Field(default_factory=list)
    city_tiers: list[int] = Field(default_factory=list)  # 1 = Beijing, Shanghai, ...; 4 = rural
    devices: list[Device] = Field(default_factory=list)
    note_en: str = ""
    note_zh: str = ""
    source: str | None = None

    @model_validator(mode="after")
    def _ages_in_order(self) -> Audience:
        if self.age_min > self.age_max:
            msg = "age_min is above age_max"
            raise ValueError(msg)
        if any(tier not in {1, 2, 3, 4} for tier in self.city_tiers):
            msg = "city tiers are 1 to 4"
            raise ValueError(msg)
        return self


class Apis(BaseModel):
    """Which official APIs exist for each use guanxi has."""

    model_config = _STRICT

    publish: ApiLevel = ApiLevel.NONE
    comments: ApiLevel = ApiLevel.NONE
    messages: ApiLevel = ApiLevel.NONE
    listening: ApiLevel = ApiLevel.NONE
    docs_url: HttpUrl | None = None
    note: str = ""


class Platform(BaseModel):
    """One catalog entry."""

    model_config = _STRICT

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name_en: str
    name_zh: str
    owner: str
    launched: int = Field(ge=1990, le=2100)
    kind: PlatformKind
    status: PlatformStatus
    origin: str = Field(pattern=r"^(china|foreign)$")
    website: HttpUrl | None = None
    summary_en: str
    summary_zh: str
    goals: list[Goal] = Field(default_factory=list)
    history: list[StatusChange] = Field(default_factory=list)
    figures: list[UserFigure] = Field(default_factory=list)
    audience: Audience | None = None
    reach: list[Reach] = Field(default_factory=list)
    apis: Apis = Field(default_factory=Apis)

    def reach_on(self, region: Region, on: date) -> Reach | None:
        """The reach entry in force for ``region`` on ``on``, if the catalog has one."""
        found = [
            r
            for r in self.reach
            if r.region == region
            and (r.since is None or r.since <= on)
            and (r.until is None or on < r.until)
        ]
        # The most specific period wins: the latest start.
        return max(found, key=lambda r: r.since or date.min, default=None)

    def latest_figure(self, metric: Metric | None = None) -> UserFigure | None:
        """The newest figure, of ``metric`` when given."""
        figures = [f for f in self.figures if metric is None or f.metric == metric]
        return max(figures, key=lambda f: f.as_of, default=None)


class Catalog(BaseModel):
    """Every platform and every source, with a version that changes with the data."""

    model_config = ConfigDict(frozen=True)

    version: str
    platforms: list[Platform]
    sources: dict[str, Source]

    def get(self, slug: str) -> Platform | None:
        """The platform with ``slug``, if any."""
        return next((p for p in self.platforms if p.slug == slug), None)
