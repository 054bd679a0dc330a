"""The packaged catalog: valid, complete for the seed, and faithful to its facts."""

from __future__ import annotations

from datetime import date

import pytest

from guanxi.catalog.models import (
    Access,
    ApiLevel,
    Catalog,
    Education,
    Metric,
    Origin,
    Platform,
    PlatformStatus,
    Region,
)
from guanxi.catalog.service import get_catalog, load_catalog

SEED_PLATFORMS = {
    "weibo",
    "wechat",
    "qq",
    "qzone",
    "renren",
    "pengyou",
    "kaixin001",
    "douban",
    "diandian",
    "youku",
    "tudou",
    "56com",
    "weimi",
    "yixin",
    "facebook",
    "twitter",
    "youtube",
    "whatsapp",
    "line",
    "baidu",
    "qihoo360",
    "soku",
    "taobao",
    "jd",
    "amazon",
}
TODAYS_MAJORS = {"douyin", "kuaishou", "xiaohongshu", "bilibili", "wechat-channels", "zhihu"}

# (platform, metric, value): the seed's 2012-2013 figures, each a dated data point.
SEED_FIGURES = [
    ("qzone", Metric.ACTIVE_ACCOUNTS, 600_000_000),
    ("weibo", Metric.REGISTERED_ACCOUNTS, 500_000_000),
    ("wechat", Metric.REGISTERED_ACCOUNTS, 400_000_000),
    ("wechat", Metric.INTERNATIONAL_USERS, 100_000_000),
    ("renren", Metric.REGISTERED_ACCOUNTS, 200_000_000),
    ("pengyou", Metric.REGISTERED_ACCOUNTS, 150_000_000),
    ("kaixin001", Metric.REGISTERED_ACCOUNTS, 100_000_000),
    ("douban", Metric.REGISTERED_ACCOUNTS, 100_000_000),
    ("diandian", Metric.REGISTERED_ACCOUNTS, 5_000_000),
    ("youku", Metric.DAILY_UNIQUE_VISITORS, 30_000_000),
    ("tudou", Metric.DAILY_UNIQUE_VISITORS, 18_000_000),
    ("56com", Metric.DAILY_UNIQUE_VISITORS, 10_000_000),
]


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return get_catalog()


def platform(catalog: Catalog, slug: str) -> Platform:
    found = catalog.get(slug)
    assert found is not None, f"the catalog has {slug}"
    return found


def access(entry: Platform, region: Region, on: date) -> Access | None:
    """What the catalog says of ``entry``'s reach from ``region`` on ``on``."""
    reach = entry.reach_on(region, on)
    return reach.access if reach else None


def test_the_packaged_catalog_loads_and_is_versioned(catalog: Catalog) -> None:
    assert len(catalog.platforms) >= len(SEED_PLATFORMS | TODAYS_MAJORS)
    assert len(catalog.version) == 12
    assert load_catalog().version == catalog.version, "the version depends on the data only"


def test_every_seed_platform_and_todays_majors_are_present(catalog: Catalog) -> None:
    slugs = {p.slug for p in catalog.platforms}
    assert slugs >= SEED_PLATFORMS | TODAYS_MAJORS


def test_every_entry_is_bilingual_and_owned(catalog: Catalog) -> None:
    for p in catalog.platforms:
        assert all(
            text.strip() for text in (p.name_en, p.name_zh, p.owner, p.summary_en, p.summary_zh)
        ), p.slug
        # The Chinese summary is written in Chinese, not a copy of the English one.
        assert any("\u4e00" <= char <= "\u9fff" for char in p.summary_zh), p.slug
        assert p.goals, f"{p.slug} serves at least one goal"


@pytest.mark.parametrize(("slug", "metric", "value"), SEED_FIGURES)
def test_every_seed_figure_is_a_dated_data_point_citing_the_seed(
    catalog: Catalog, slug: str, metric: Metric, value: int
) -> None:
    figures = [f for f in platform(catalog, slug).figures if f.metric == metric]
    seed = [f for f in figures if f.source == "seed-2013"]
    assert [f.value for f in seed] == [value]
    assert date(2012, 1, 1) <= seed[0].as_of <= date(2013, 12, 31)


def test_cnnic_2012_internet_users_are_recorded(catalog: Catalog) -> None:
    figures = {f.as_of.year: f for f in catalog.internet_users}
    assert figures[2012].value == 564_000_000
    assert figures[2012].source == "seed-2013"


def test_no_figure_without_a_known_source(catalog: Catalog) -> None:
    figures = [f for p in catalog.platforms for f in p.figures] + catalog.internet_users
    assert figures
    for figure in figures:
        assert figure.source in catalog.sources
    for p in catalog.platforms:
        for source in p.cited_sources():
            assert source in catalog.sources, (p.slug, source)


def test_later_figures_cite_a_dated_publication(catalog: Catalog) -> None:
    """Figures after the seed come from a company's or an institution's own publication."""
    later = [f for p in catalog.platforms for f in p.figures if f.as_of.year > 2013]
    assert later, "today's figures are in the catalog"
    for figure in later:
        source = catalog.sources[figure.source]
        assert not source.id.startswith("seed"), figure
        assert source.publisher
        assert source.title


def test_tudou_merged_into_youku_in_march_2012(catalog: Catalog) -> None:
    tudou = platform(catalog, "tudou")
    assert tudou.status == PlatformStatus.MERGED
    merger = tudou.history[-1]
    assert merger.into == "youku"
    assert (merger.on.year, merger.on.month) == (2012, 3)
    assert merger.source == "seed-2013"


@pytest.mark.parametrize("slug", ["facebook", "twitter"])
def test_facebook_and_twitter_blocked_in_mainland_and_reported_open_in_the_ftz(
    catalog: Catalog, slug: str
) -> None:
    entry = platform(catalog, slug)
    mainland = entry.reach_on(Region.MAINLAND, date(2010, 1, 1))
    assert mainland is not None
    assert mainland.access == Access.BLOCKED
    assert access(entry, Region.MAINLAND, date(2024, 1, 1)) == Access.BLOCKED
    assert access(entry, Region.SHANGHAI_FTZ, date(2013, 1, 1)) == Access.BLOCKED
    ftz = entry.reach_on(Region.SHANGHAI_FTZ, date(2013, 10, 1))
    assert ftz is not None
    assert ftz.access == Access.REPORTED_OPEN
    assert ftz.source == "seed-ftz-2013"
    assert ftz.since is not None
    assert (ftz.since.year, ftz.since.month) == (2013, 9)
    assert access(entry, Region.HONG_KONG, date(2013, 10, 1)) == Access.OPEN


def test_youtube_is_blocked_in_the_mainland_without_an_ftz_exception(catalog: Catalog) -> None:
    youtube = platform(catalog, "youtube")
    for region in (Region.MAINLAND, Region.SHANGHAI_FTZ):
        assert access(youtube, region, date(2013, 10, 1)) == Access.BLOCKED
    assert access(youtube, Region.HONG_KONG, date(2013, 10, 1)) == Access.OPEN


def test_chinese_platforms_are_open_in_the_mainland_and_reach_overseas(catalog: Catalog) -> None:
    for p in catalog.platforms:
        if p.origin != Origin.CHINA:
            continue
        assert access(p, Region.MAINLAND, date(2013, 10, 1)) == Access.OPEN
        assert access(p, Region.OVERSEAS, date(2024, 1, 1)) in {Access.OPEN, Access.LIMITED}, p.slug
    wechat = platform(catalog, "wechat")
    assert access(wechat, Region.OVERSEAS, date(2013, 10, 1)) == Access.OPEN


def test_every_platform_says_where_it_can_be_reached(catalog: Catalog) -> None:
    for p in catalog.platforms:
        for region in Region:
            assert p.reach_on(region, date(2013, 10, 1)) is not None, (p.slug, region)


def test_the_seed_audiences_cite_the_seed(catalog: Catalog) -> None:
    renren = platform(catalog, "renren").audience
    assert renren is not None
    assert renren.source == "seed-2013"
    assert renren.age_max <= 30
    assert Education.UNIVERSITY in renren.education
    assert set(renren.city_tiers) == {1, 2}
    youku = platform(catalog, "youku").audience
    assert youku is not None
    assert youku.source == "seed-2013"
    assert set(youku.city_tiers) == {1, 2}
    assert Education.UNIVERSITY in youku.education


def test_profiles_without_a_source_say_they_are_an_industry_reading(catalog: Catalog) -> None:
    for p in catalog.platforms:
        assert p.audience is not None, f"{p.slug} has an audience profile"
        if p.audience.source is None:
            assert "industry" in p.audience.note_en, p.slug
            assert "业内" in p.audience.note_zh, p.slug


def test_official_apis_as_the_platforms_offer_them(catalog: Catalog) -> None:
    assert platform(catalog, "weibo").apis.publish == ApiLevel.OFFICIAL
    assert platform(catalog, "wechat").apis.publish == ApiLevel.OFFICIAL
    assert platform(catalog, "douyin").apis.publish == ApiLevel.OFFICIAL
    for slug in ("xiaohongshu", "bilibili", "kuaishou", "zhihu"):
        apis = platform(catalog, slug).apis
        assert apis.publish == ApiLevel.NONE, slug
        assert apis.note, f"{slug} says how to work without an API"
    for p in catalog.platforms:
        if p.status in {PlatformStatus.DEFUNCT, PlatformStatus.UNKNOWN, PlatformStatus.MERGED}:
            assert set(p.apis.levels().values()) == {ApiLevel.NONE}, p.slug


def test_platforms_of_unknown_fate_say_so(catalog: Catalog) -> None:
    for p in catalog.platforms:
        if p.status == PlatformStatus.UNKNOWN:
            assert not p.history, p.slug
            assert "recorded here" in p.summary_en, p.slug
            assert "本目录" in p.summary_zh, p.slug
