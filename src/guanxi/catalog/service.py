"""Loading and querying the catalog. It is read-only data shipped inside the package."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from guanxi.catalog.models import (
    Access,
    Catalog,
    Metric,
    Origin,
    Platform,
    PlatformDetail,
    PlatformKind,
    PlatformListItem,
    PlatformStatus,
    Region,
    Source,
    UserFigure,
)
from guanxi.core import i18n
from guanxi.core.errors import N_, NotFoundError, UserError
from guanxi.core.report import Name

CATALOG_DIR = Path(__file__).resolve().parent
DATA_DIR = CATALOG_DIR / "platforms"
SOURCES_FILE = CATALOG_DIR / "sources.toml"
MARKET_FILE = CATALOG_DIR / "market.toml"
QUERY_MAX_LENGTH = 100
_E = TypeVar("_E", bound=StrEnum)


class CatalogDataError(RuntimeError):
    """A catalog data file is invalid; the message names the file and the problem."""


class InvalidFilterError(UserError):
    """A catalog filter has a value the catalog does not know."""


def load_catalog(
    data_dir: Path = DATA_DIR, sources_file: Path = SOURCES_FILE, market_file: Path = MARKET_FILE
) -> Catalog:
    """Read and validate every platform file, the market figures and the sources they cite."""
    digest = hashlib.sha256()
    raw_sources = _read_toml(sources_file, digest)
    sources = {}
    for key, value in raw_sources.items():
        if not isinstance(value, dict):
            msg = f"{sources_file.name}: {key!r} must be a table: [{key}] with title and publisher"
            raise CatalogDataError(msg)
        try:
            sources[key] = Source.model_validate({**value, "id": key})
        except ValidationError as exc:
            msg = f"{sources_file.name}: [{key}]: {_problems(exc)}"
            raise CatalogDataError(msg) from exc
    platforms = []
    for path in sorted(data_dir.glob("*.toml")):
        data = _read_toml(path, digest)
        try:
            platform = Platform.model_validate(data)
        except ValidationError as exc:
            msg = f"{path.name}: {_problems(exc)}"
            raise CatalogDataError(msg) from exc
        if platform.slug != path.stem:
            msg = f"{path.name}: slug {platform.slug!r} must match the file name"
            raise CatalogDataError(msg)
        platforms.append(platform)
    internet_users = _read_market(market_file, digest) if market_file.exists() else []
    catalog = Catalog(
        version=digest.hexdigest()[:12],
        platforms=platforms,
        sources=sources,
        internet_users=internet_users,
    )
    _check_references(catalog, market_file.name)
    return catalog


def _problems(exc: ValidationError) -> str:
    """Each problem as ``where: what`` on one line, without echoing the whole file back."""
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(the file)"
        problems.append(f"{where}: {error['msg']}")
    return "; ".join(problems)


def _read_toml(path: Path, digest: hashlib._Hash) -> dict[str, object]:
    content = path.read_bytes()
    digest.update(path.name.encode() + b"\0" + content)
    try:
        return tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path.name}: {exc}"
        raise CatalogDataError(msg) from exc


class _Market(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    internet_users: list[UserFigure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _only_internet_users(self) -> _Market:
        if any(figure.metric != Metric.INTERNET_USERS for figure in self.internet_users):
            msg = 'every [[internet_users]] entry has metric = "internet_users"'
            raise ValueError(msg)
        return self


def _read_market(path: Path, digest: hashlib._Hash) -> list[UserFigure]:
    try:
        market = _Market.model_validate(_read_toml(path, digest))
    except ValidationError as exc:
        msg = f"{path.name}: {_problems(exc)}"
        raise CatalogDataError(msg) from exc
    return market.internet_users


def _check_references(catalog: Catalog, market_name: str) -> None:
    slugs = {p.slug for p in catalog.platforms}
    for platform in catalog.platforms:
        for source in platform.cited_sources():
            if source not in catalog.sources:
                msg = (
                    f"{platform.slug}.toml cites unknown source {source!r}; add it to sources.toml"
                )
                raise CatalogDataError(msg)
        for change in platform.history:
            if change.into and (change.into not in slugs or change.into == platform.slug):
                msg = f"{platform.slug}.toml merges into unknown platform {change.into!r}"
                raise CatalogDataError(msg)
    for figure in catalog.internet_users:
        if figure.source not in catalog.sources:
            msg = f"{market_name} cites unknown source {figure.source!r}; add it to sources.toml"
            raise CatalogDataError(msg)


@cache
def get_catalog() -> Catalog:
    """The packaged catalog, loaded once per process."""
    return load_catalog()


def platform_name(slug: str) -> str:
    """The catalog's name of a platform in the UI language, or its slug if unknown."""
    platform = get_catalog().get(slug)
    return platform.name(i18n.current_language()) if platform else slug


class PlatformFilters(BaseModel):
    """What the list of platforms is narrowed to; every field empty means every platform."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: PlatformKind | None = None
    status: PlatformStatus | None = None
    origin: Origin | None = None
    region: Region | None = None  # reachable (not blocked) from this region
    on: date | None = None  # the day reach is judged on; today when empty
    query: str = Field(default="", max_length=QUERY_MAX_LENGTH)


def _choice(enum: type[_E], field: str, value: str | None) -> _E | None:
    if value is None or not value.strip():
        return None
    try:
        return enum(value.strip())
    except ValueError:
        raise InvalidFilterError(
            N_("“{value}” is not a valid {field}. Choose one of: {choices}."),
            value=value,
            field=field,
            choices=", ".join(member.value for member in enum),
        ) from None


def parse_filters(
    *,
    kind: str | None = None,
    status: str | None = None,
    origin: str | None = None,
    region: str | None = None,
    on: str | None = None,
    query: str | None = None,
) -> PlatformFilters:
    """Filters from text (a query string, the command line); empty values mean "any".

    Raises ``InvalidFilterError`` naming the first bad value and the values allowed.
    """
    day = None
    if on and on.strip():
        try:
            day = date.fromisoformat(on.strip())
        except ValueError:
            raise InvalidFilterError(
                N_("“{value}” is not a date. Write it as YYYY-MM-DD, for example 2013-10-01."),
                value=on,
            ) from None
    text = (query or "").strip()
    if len(text) > QUERY_MAX_LENGTH:
        raise InvalidFilterError(
            N_("The search text is too long: at most {limit} characters."), limit=QUERY_MAX_LENGTH
        )
    return PlatformFilters(
        kind=_choice(PlatformKind, "kind", kind),
        status=_choice(PlatformStatus, "status", status),
        origin=_choice(Origin, "origin", origin),
        region=_choice(Region, "region", region),
        on=day,
        query=text,
    )


def filter_platforms(
    catalog: Catalog,
    *,
    kind: PlatformKind | None = None,
    status: PlatformStatus | None = None,
    origin: str | None = None,
    reachable_from: Region | None = None,
    on: date | None = None,
    query: str = "",
) -> list[Platform]:
    """Platforms matching every given filter, by name.

    ``reachable_from`` keeps the platforms whose reach from that region on ``on`` (today
    when empty) is known and not blocked; ``query`` matches the slug, names and owner.
    """
    on = on or date.today()  # noqa: DTZ011 - a calendar date, the zone does not matter here
    needle = query.strip().lower()
    result = []
    for platform in catalog.platforms:
        if kind and platform.kind != kind:
            continue
        if status and platform.status != status:
            continue
        if origin and platform.origin != origin:
            continue
        if reachable_from:
            reach = platform.reach_on(reachable_from, on)
            if reach is None or reach.access == Access.BLOCKED:
                continue
        if needle and not any(
            needle in text.lower()
            for text in (platform.slug, platform.name_en, platform.name_zh, platform.owner)
        ):
            continue
        result.append(platform)
    return sorted(result, key=lambda p: p.name_en.lower())


def search_platforms(catalog: Catalog, filters: PlatformFilters) -> list[Platform]:
    """``filter_platforms`` with a ``PlatformFilters``: what the page, API and CLI call."""
    return filter_platforms(
        catalog,
        kind=filters.kind,
        status=filters.status,
        origin=filters.origin,
        reachable_from=filters.region,
        on=filters.on,
        query=filters.query,
    )


def today() -> date:
    """The day reach is judged on when none is asked for."""
    return date.today()  # noqa: DTZ011 - a calendar date, the zone does not matter here


def list_platforms(catalog: Catalog, filters: PlatformFilters) -> list[PlatformListItem]:
    """The platforms the filters keep, as the API lists them (reach on ``filters.on``)."""
    day = filters.on or today()
    return [
        PlatformListItem.build(platform, day) for platform in search_platforms(catalog, filters)
    ]


def get_platform(catalog: Catalog, slug: str) -> Platform:
    """The platform with ``slug``; ``NotFoundError`` when the catalog has none."""
    platform = catalog.get(slug)
    if platform is None:
        raise NotFoundError(
            N_("The catalog has no platform “{slug}”. Pick one from the catalog list."), slug=slug
        )
    return platform


def platform_detail(catalog: Catalog, platform: Platform) -> PlatformDetail:
    """The entry with every source it cites."""
    sources = [catalog.sources[source] for source in platform.cited_sources()]
    return PlatformDetail(**dict(platform), sources=sources)


def platform_names(slug: str) -> Name:
    """A platform's name in English and in Chinese (a report is written in either), its slug
    in both when the catalog lacks it."""
    platform = get_catalog().get(slug)
    return Name(platform.name_en, platform.name_zh) if platform else Name(slug, slug)
