"""The catalog's schema. Entries are data files in ``catalog/platforms/``, one per platform.

Figures are dated data points with a source, never "today's truth": the seed's 2012-2013
numbers stay what they were, and later figures are added only with a citation.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cached_property

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
    # Running in the seed (2013); what became of it has no source yet: check before relying on it.
    UNKNOWN = "unknown"


STATUS_LABELS: dict[PlatformStatus, str] = {
    PlatformStatus.ACTIVE: N_("Active"),
    PlatformStatus.MERGED: N_("Merged"),
    PlatformStatus.DEFUNCT: N_("Defunct"),
    PlatformStatus.UNKNOWN: N_("Unknown since 2013"),
}


class Origin(StrEnum):
    """Where the platform comes from: what decides its reach from the mainland."""

    CHINA = "china"
    FOREIGN = "foreign"


ORIGIN_LABELS: dict[Origin, str] = {
    Origin.CHINA: N_("Chinese"),
    Origin.FOREIGN: N_("Foreign"),
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


EDUCATION_LABELS: dict[Education, str] = {
    Education.SECONDARY: N_("Secondary school"),
    Education.UNIVERSITY: N_("University"),
    Education.POSTGRADUATE: N_("Postgraduate"),
}


class Device(StrEnum):
    """What the audience uses the platform on."""

    MOBILE = "mobile"
    DESKTOP = "desktop"
    FEATURE_PHONE = "feature_phone"


DEVICE_LABELS: dict[Device, str] = {
    Device.MOBILE: N_("Smartphone"),
    Device.DESKTOP: N_("Computer"),
    Device.FEATURE_PHONE: N_("Feature phone"),
}


class ApiLevel(StrEnum):
    """Whether an official API covers a use."""

    OFFICIAL = "official"
    LIMITED = "limited"  # exists, but for approved partners or a narrow part of the use
    NONE = "none"


API_LEVEL_LABELS: dict[ApiLevel, str] = {
    ApiLevel.OFFICIAL: N_("Official API"),
    ApiLevel.LIMITED: N_("Limited API"),
    ApiLevel.NONE: N_("No API: manual"),
}

# The uses guanxi has for an API, in the order of the ``Apis`` fields.
API_USE_LABELS: dict[str, str] = {
    "publish": N_("Publishing"),
    "comments": N_("Comments"),
    "messages": N_("Private messages"),
    "listening": N_("Listening (search)"),
}


class Metric(StrEnum):
    """What a user figure counts; different metrics are never compared with each other."""

    REGISTERED_ACCOUNTS = "registered_accounts"
    ACTIVE_ACCOUNTS = "active_accounts"
    MONTHLY_ACTIVE_USERS = "monthly_active_users"
    DAILY_ACTIVE_USERS = "daily_active_users"
    DAILY_UNIQUE_VISITORS = "daily_unique_visitors"
    INTERNATIONAL_USERS = "international_users"
    INTERNET_USERS = "internet_users"  # people online in a country: ``market.toml`` only


METRIC_LABELS: dict[Metric, str] = {
    Metric.REGISTERED_ACCOUNTS: N_("Registered accounts"),
    Metric.ACTIVE_ACCOUNTS: N_("Active accounts"),
    Metric.MONTHLY_ACTIVE_USERS: N_("Monthly active users"),
    Metric.DAILY_ACTIVE_USERS: N_("Daily active users"),
    Metric.DAILY_UNIQUE_VISITORS: N_("Daily unique visitors"),
    Metric.INTERNATIONAL_USERS: N_("Users outside China"),
    Metric.INTERNET_USERS: N_("Internet users"),
}

_STRICT = ConfigDict(extra="forbid", frozen=True)
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class Source(BaseModel):
    """Where a fact comes from."""

    model_config = _STRICT

    id: str = Field(pattern=SLUG_PATTERN)
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
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
    note_zh: str = ""


class StatusChange(BaseModel):
    """A change of status: a merger, a shutdown."""

    model_config = _STRICT

    status: PlatformStatus
    on: date
    into: str | None = None  # slug of the platform it merged into
    note: str = ""
    note_zh: str = ""
    source: str

    @model_validator(mode="after")
    def _merger_names_its_target(self) -> StatusChange:
        if self.status == PlatformStatus.MERGED and not self.into:
            msg = "a merger needs `into`: the slug of the platform it merged into"
            raise ValueError(msg)
        if self.status != PlatformStatus.MERGED and self.into:
            msg = "`into` is only for status merged"
            raise ValueError(msg)
        if self.status in {PlatformStatus.ACTIVE, PlatformStatus.UNKNOWN}:
            msg = "history records mergers and shutdowns: status merged or defunct"
            raise ValueError(msg)
        return self


class Reach(BaseModel):
    """Access from a region over a period (``until`` empty: still so)."""

    model_config = _STRICT

    region: Region
    access: Access
    since: date | None = None
    until: date | None = None
    note: str = ""
    note_zh: str = ""
    source: str | None = None

    @model_validator(mode="after")
    def _period_in_order(self) -> Reach:
        if self.since and self.until and self.since >= self.until:
            msg = f"reach for {self.region}: since {self.since} is not before until {self.until}"
            raise ValueError(msg)
        return self


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
        if self.source is None and not (self.note_en and self.note_zh):
            msg = "a profile without a source says so in note_en and note_zh (an industry reading)"
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
    note_zh: str = ""

    def levels(self) -> dict[str, ApiLevel]:
        """Each use (the keys of ``API_USE_LABELS``) with its level."""
        return {use: getattr(self, use) for use in API_USE_LABELS}


class Platform(BaseModel):
    """One catalog entry."""

    model_config = _STRICT

    slug: str = Field(pattern=SLUG_PATTERN)
    name_en: str = Field(min_length=1)
    name_zh: str = Field(min_length=1)
    owner: str = Field(min_length=1)
    launched: int | None = Field(default=None, ge=1990, le=2100)  # None: no source gives it
    kind: PlatformKind
    status: PlatformStatus
    origin: Origin
    website: HttpUrl | None = None
    summary_en: str = Field(min_length=1)
    summary_zh: str = Field(min_length=1)
    goals: list[Goal] = Field(default_factory=list)
    history: list[StatusChange] = Field(default_factory=list)
    figures: list[UserFigure] = Field(default_factory=list)
    audience: Audience | None = None
    reach: list[Reach] = Field(default_factory=list)
    apis: Apis = Field(default_factory=Apis)

    @model_validator(mode="after")
    def _consistent(self) -> Platform:
        if len(set(self.goals)) != len(self.goals):
            msg = "goals are listed twice"
            raise ValueError(msg)
        if self.history != sorted(self.history, key=lambda change: change.on):
            msg = "history is not in date order"
            raise ValueError(msg)
        if self.status in {PlatformStatus.MERGED, PlatformStatus.DEFUNCT} and (
            not self.history or self.history[-1].status != self.status
        ):
            msg = f"status {self.status} needs a history entry saying when, with a source"
            raise ValueError(msg)
        if self.history and self.status != self.history[-1].status:
            msg = f"status {self.status} disagrees with the last history entry"
            raise ValueError(msg)
        seen = set()
        for figure in self.figures:
            key = (figure.metric, figure.as_of)
            if key in seen:
                msg = f"two {figure.metric} figures as of {figure.as_of}"
                raise ValueError(msg)
            seen.add(key)
            if figure.metric == Metric.INTERNET_USERS:
                msg = "internet_users counts a country, not a platform: it belongs in market.toml"
                raise ValueError(msg)
            if self.launched and figure.as_of.year < self.launched:
                msg = f"a figure as of {figure.as_of} predates the launch in {self.launched}"
                raise ValueError(msg)
        periods = [(r.region, r.since) for r in self.reach]
        if len(set(periods)) != len(periods):
            msg = "two reach entries for the same region start on the same date"
            raise ValueError(msg)
        return self

    def name(self, language: str) -> str:
        """The platform's name in the UI ``language``."""
        return self.name_zh if language == "zh_Hans" else self.name_en

    def summary(self, language: str) -> str:
        """The summary in the UI ``language``."""
        return self.summary_zh if language == "zh_Hans" else self.summary_en

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

    def figures_by_metric(self) -> dict[Metric, list[UserFigure]]:
        """The figures grouped by metric, each group oldest first: one chart series each."""
        series: dict[Metric, list[UserFigure]] = {}
        for figure in sorted(self.figures, key=lambda f: f.as_of):
            series.setdefault(figure.metric, []).append(figure)
        return series

    def cited_sources(self) -> list[str]:
        """Every source id the entry cites, once each, in order of first citation."""
        cited = [h.source for h in self.history] + [f.source for f in self.figures]
        if self.audience and self.audience.source:
            cited.append(self.audience.source)
        cited += [r.source for r in self.reach if r.source]
        return list(dict.fromkeys(cited))


class Catalog(BaseModel):
    """Every platform and every source, with a version that changes with the data."""

    model_config = ConfigDict(frozen=True)

    version: str
    platforms: list[Platform]
    sources: dict[str, Source]
    # China's internet population over time (``market.toml``): the context for every figure.
    internet_users: list[UserFigure] = Field(default_factory=list)

    @cached_property
    def platforms_by_slug(self) -> dict[str, Platform]:
        """Each platform by its slug (the first, should two share one)."""
        found: dict[str, Platform] = {}
        for platform in self.platforms:
            found.setdefault(platform.slug, platform)
        return found

    def get(self, slug: str) -> Platform | None:
        """The platform with ``slug``, if any (the pages name one per line of a list: found
        by key, not by walking every platform)."""
        return self.platforms_by_slug.get(slug)


# --- API schemas -------------------------------------------------------------------------


class ReachNow(BaseModel):
    """Access from one region on the day asked."""

    region: Region
    access: Access | None  # None: the catalog does not say


class PlatformListItem(BaseModel):
    """A platform as the list shows it: who, what, and where it can be reached."""

    slug: str
    name_en: str
    name_zh: str
    owner: str
    launched: int | None
    kind: PlatformKind
    status: PlatformStatus
    origin: Origin
    website: HttpUrl | None
    summary_en: str
    summary_zh: str
    goals: list[Goal]
    reach_now: list[ReachNow]
    latest_figure: UserFigure | None

    @classmethod
    def build(cls, platform: Platform, on: date) -> PlatformListItem:
        """The list item for ``platform``, with its reach on ``on``."""
        reach_now = []
        for region in Region:
            reach = platform.reach_on(region, on)
            reach_now.append(ReachNow(region=region, access=reach.access if reach else None))
        return cls(
            **platform.model_dump(
                include={
                    "slug",
                    "name_en",
                    "name_zh",
                    "owner",
                    "launched",
                    "kind",
                    "status",
                    "origin",
                    "website",
                    "summary_en",
                    "summary_zh",
                    "goals",
                }
            ),
            reach_now=reach_now,
            latest_figure=platform.latest_figure(),
        )


class PlatformDetail(Platform):
    """A whole catalog entry, with the sources it cites spelled out."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[Source]
