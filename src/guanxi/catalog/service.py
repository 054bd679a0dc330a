"""Loading and querying the catalog. It is read-only data shipped inside the package."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from functools import cache
from pathlib import Path

from pydantic import ValidationError

from guanxi.catalog.models import (
    Access,
    Catalog,
    Platform,
    PlatformKind,
    PlatformStatus,
    Region,
    Source,
)

DATA_DIR = Path(__file__).resolve().parent / "platforms"
SOURCES_FILE = Path(__file__).resolve().parent / "sources.toml"


class CatalogDataError(RuntimeError):
    """A catalog data file is invalid; the message names the file and the problem."""


def load_catalog(data_dir: Path = DATA_DIR, sources_file: Path = SOURCES_FILE) -> Catalog:
    """Read and validate every platform file and the sources they cite."""
    digest = hashlib.sha256()
    raw_sources = _read_toml(sources_file, digest)
    try:
        sources = {
            key: Source.model_validate({**value, "id": key})
            for key, value in raw_sources.items()
            if isinstance(value, dict)
        }
    except ValidationError as exc:
        msg = f"{sources_file}: {exc}"
        raise CatalogDataError(msg) from exc
    platforms = []
    for path in sorted(data_dir.glob("*.toml")):
        data = _read_toml(path, digest)
        try:
            platform = Platform.model_validate(data)
        except ValidationError as exc:
            msg = f"{path.name}: {exc}"
            raise CatalogDataError(msg) from exc
        if platform.slug != path.stem:
            msg = f"{path.name}: slug {platform.slug!r} must match the file name"
            raise CatalogDataError(msg)
        platforms.append(platform)
    catalog = Catalog(version=digest.hexdigest()[:12], platforms=platforms, sources=sources)
    _check_references(catalog)
    return catalog


def _read_toml(path: Path, digest: hashlib._Hash) -> dict[str, object]:
    content = path.read_bytes()
    digest.update(path.name.encode() + b"\0" + content)
    try:
        return tomllib.loads(content.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path.name}: {exc}"
        raise CatalogDataError(msg) from exc


def _check_references(catalog: Catalog) -> None:
    slugs = {p.slug for p in catalog.platforms}
    for platform in catalog.platforms:
        cited = [f.source for f in platform.figures] + [h.source for h in platform.history]
        cited += [r.source for r in platform.reach if r.source]
        if platform.audience and platform.audience.source:
            cited.append(platform.audience.source)
        for source in cited:
            if source not in catalog.sources:
                msg = f"{platform.slug}.toml cites unknown source {source!r}"
                raise CatalogDataError(msg)
        for change in platform.history:
            if change.into and change.into not in slugs:
                msg = f"{platform.slug}.toml merges into unknown platform {change.into!r}"
                raise CatalogDataError(msg)


@cache
def get_catalog() -> Catalog:
    """The packaged catalog, loaded once per process."""
    return load_catalog()


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
    """Platforms matching every given filter, by name."""
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
