"""Loading the catalog data (errors name the file) and filtering it."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from guanxi.catalog import service
from guanxi.catalog.models import (
    Metric,
    Origin,
    Platform,
    PlatformKind,
    PlatformStatus,
    Region,
    StatusChange,
)
from guanxi.catalog.service import CatalogDataError, InvalidFilterError, load_catalog

PACKAGE = Path(service.__file__).resolve().parent


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A copy of the packaged data to break: ``platforms/``, ``sources.toml``, ``market.toml``."""
    shutil.copytree(PACKAGE / "platforms", tmp_path / "platforms")
    shutil.copy(PACKAGE / "sources.toml", tmp_path / "sources.toml")
    shutil.copy(PACKAGE / "market.toml", tmp_path / "market.toml")
    return tmp_path


def load(data: Path) -> None:
    load_catalog(data / "platforms", data / "sources.toml", data / "market.toml")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_copy_loads(data: Path) -> None:
    load(data)


def test_broken_toml_names_the_file(data: Path) -> None:
    (data / "platforms" / "weibo.toml").write_text('slug = "weibo\n', encoding="utf-8")
    with pytest.raises(CatalogDataError, match=r"^weibo\.toml: "):
        load(data)


def test_unknown_source_names_the_file_and_the_source(data: Path) -> None:
    edit(data / "platforms" / "douban.toml", 'source = "seed-2013"', 'source = "rumour-2099"')
    with pytest.raises(CatalogDataError, match=r"douban\.toml cites unknown source 'rumour-2099'"):
        load(data)


def test_slug_must_match_the_file_name(data: Path) -> None:
    edit(data / "platforms" / "zhihu.toml", 'slug = "zhihu"', 'slug = "zhihu2"')
    with pytest.raises(CatalogDataError, match=r"zhihu\.toml: slug 'zhihu2' must match"):
        load(data)


def test_bad_slug_is_refused(data: Path) -> None:
    shutil.move(data / "platforms" / "zhihu.toml", data / "platforms" / "Zhi Hu.toml")
    edit(data / "platforms" / "Zhi Hu.toml", 'slug = "zhihu"', 'slug = "Zhi Hu"')
    with pytest.raises(CatalogDataError, match=r"Zhi Hu\.toml: .*slug"):
        load(data)


def test_unknown_field_is_refused(data: Path) -> None:
    edit(data / "platforms" / "qq.toml", "launched = 1999", "launched = 1999\nfounder = 'Pony Ma'")
    with pytest.raises(CatalogDataError, match=r"qq\.toml: .*founder"):
        load(data)


def test_merger_into_an_unknown_platform_is_refused(data: Path) -> None:
    edit(data / "platforms" / "tudou.toml", 'into = "youku"', 'into = "youku-tudou"')
    with pytest.raises(CatalogDataError, match=r"tudou\.toml merges into unknown platform"):
        load(data)


def test_merged_status_needs_its_history(data: Path) -> None:
    edit(data / "platforms" / "douban.toml", 'status = "active"', 'status = "defunct"')
    with pytest.raises(CatalogDataError, match=r"douban\.toml: .*needs a history entry"):
        load(data)


def test_unknown_source_in_the_market_file_is_refused(data: Path) -> None:
    edit(data / "market.toml", 'source = "cnnic-53"', 'source = "cnnic-99"')
    with pytest.raises(CatalogDataError, match=r"market\.toml cites unknown source 'cnnic-99'"):
        load(data)


def test_a_source_without_a_publisher_is_refused(data: Path) -> None:
    (data / "sources.toml").write_text('[x]\ntitle = "T"\n', encoding="utf-8")
    with pytest.raises(CatalogDataError, match=r"sources\.toml: \[x\]: .*publisher"):
        load(data)


def test_a_merger_must_say_into_what() -> None:
    with pytest.raises(ValueError, match="into"):
        StatusChange(status=PlatformStatus.MERGED, on=date(2012, 3, 12), source="seed-2013")


def test_figures_of_one_metric_form_one_series_oldest_first() -> None:
    weibo = service.get_catalog().get("weibo")
    assert weibo is not None
    series = weibo.figures_by_metric()
    assert set(series) == {f.metric for f in weibo.figures}
    for metric, figures in series.items():
        assert all(f.metric == metric for f in figures)
        assert [f.as_of for f in figures] == sorted(f.as_of for f in figures)
    registered = weibo.latest_figure(Metric.REGISTERED_ACCOUNTS)
    assert registered is not None
    assert registered.as_of.year == 2013


def slugs(platforms: list[Platform]) -> set[str]:
    return {p.slug for p in platforms}


def test_filters_narrow_the_list() -> None:
    catalog = service.get_catalog()
    everything = service.filter_platforms(catalog)
    assert len(everything) == len(catalog.platforms)
    videos = service.filter_platforms(catalog, kind=PlatformKind.VIDEO)
    assert {"youku", "tudou", "56com", "youtube", "bilibili"} <= slugs(videos)
    assert all(p.kind == PlatformKind.VIDEO for p in videos)
    merged = service.filter_platforms(catalog, status=PlatformStatus.MERGED)
    assert "tudou" in slugs(merged)
    foreign = service.filter_platforms(catalog, origin=Origin.FOREIGN)
    assert {"facebook", "twitter", "youtube", "whatsapp", "line", "amazon"} <= slugs(foreign)
    assert "weibo" not in slugs(foreign)


def test_reachable_from_the_mainland_leaves_out_the_blocked() -> None:
    catalog = service.get_catalog()
    mainland = slugs(service.filter_platforms(catalog, reachable_from=Region.MAINLAND))
    assert "weibo" in mainland
    assert not {"facebook", "twitter", "youtube"} & mainland
    ftz_2013 = slugs(
        service.filter_platforms(catalog, reachable_from=Region.SHANGHAI_FTZ, on=date(2013, 10, 1))
    )
    assert {"facebook", "twitter"} <= ftz_2013, "reported open counts as reachable"
    assert "youtube" not in ftz_2013
    whatsapp_2016 = service.filter_platforms(
        catalog, reachable_from=Region.MAINLAND, on=date(2016, 1, 1), query="whatsapp"
    )
    assert slugs(whatsapp_2016) == {"whatsapp"}


def test_text_search_matches_chinese_and_english_names_and_owners() -> None:
    catalog = service.get_catalog()
    assert "weibo" in slugs(service.filter_platforms(catalog, query="微博"))
    assert "wechat" in slugs(service.filter_platforms(catalog, query="WEIXIN"))
    assert {"wechat", "qq", "qzone"} <= slugs(service.filter_platforms(catalog, query="tencent"))
    assert service.filter_platforms(catalog, query="no such platform") == []


def test_parse_filters_reads_text_and_treats_empty_as_any() -> None:
    filters = service.parse_filters(kind="video", status="", origin=" china ", on="2013-10-01")
    assert filters.kind == PlatformKind.VIDEO
    assert filters.status is None
    assert filters.origin == Origin.CHINA
    assert filters.on == date(2013, 10, 1)
    assert service.parse_filters() == service.PlatformFilters()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("kind", "podcast", "not a valid kind. Choose one of: social_network"),
        ("status", "alive", "not a valid status"),
        ("origin", "japan", "Choose one of: china, foreign"),
        ("region", "taiwan", "Choose one of: mainland, hong_kong"),
        ("on", "2013-13-01", "Write it as YYYY-MM-DD"),
        ("query", "x" * 101, "at most 100 characters"),
    ],
)
def test_bad_filter_values_say_what_to_do(field: str, value: str, expected: str) -> None:
    with pytest.raises(InvalidFilterError, match=expected) as caught:
        service.parse_filters(**{field: value})
    assert caught.value.status_code == 400


def test_a_platform_is_found_by_its_slug() -> None:
    """Every platform of the packaged catalog is found by its slug; an unknown one is not."""
    catalog = service.get_catalog()
    assert all(catalog.get(platform.slug) is platform for platform in catalog.platforms)
    assert catalog.get("no-such-platform") is None
    assert service.platform_name("no-such-platform") == "no-such-platform"
