"""The demo's chart dataset: chat apps on Google Play around July 27, 2013.

Built in code, deterministically (seeded), with no network. On July 27, 2013 it matches
every fact the seed states (docs/market.md lists them):

- WhatsApp is ranked #1 to #10 in 28 countries, and #1 in 10 of them;
- Line is #1 in Argentina and Chile, with WhatsApp just behind at #2;
- WeChat is #1 in Italy, with WhatsApp just behind at #2, after Lionel Messi signed to
  promote it (the effect was quick: WeChat climbs within days of the announcement);
- WhatsApp is very strong in India (#1), where Tencent ran a TV commercial for WeChat;
- in Hong Kong people prefer Facebook and WhatsApp to WeChat.

Everything else is illustrative: which 10 countries WhatsApp leads, every other rank, the
other days, the other apps, and the dates of the Messi announcement and of the Indian TV
commercial (the seed gives none). The dataset is flagged ``illustrative`` and says so.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from guanxi.core.errors import N_
from guanxi.market.fetchers import ParsedChart, RankedApp
from guanxi.market.models import Chart, Store

DATASET_NAME = "Chat apps on Google Play, summer 2013 (illustrative)"
DATASET_NOTE = N_(
    "Built to match the seed's facts for July 27, 2013: WhatsApp in the top 10 of 28 "
    "countries and #1 in 10; Line #1 in Argentina and Chile and WeChat #1 in Italy, WhatsApp "
    "#2 in all three. Every other rank, day and date is illustrative, not observed."
)
SEED_DAY = date(2013, 7, 27)
FIRST_DAY = date(2013, 6, 29)
LAST_DAY = date(2013, 8, 10)
DEPTH = 30
SEED = 20130727

WHATSAPP = "com.whatsapp"
LINE = "jp.naver.line.android"
WECHAT = "com.tencent.mm"
VIBER = "com.viber.voip"
KAKAO = "com.kakao.talk"
MESSENGER = "com.facebook.orca"
TANGO = "com.sgiggle.production"
SKYPE = "com.skype.raider"

# Illustrative dates: the seed says neither when Messi's deal was announced nor when the
# Indian TV commercial started.
MESSI_ANNOUNCED = date(2013, 7, 15)
INDIA_TV_STARTS = date(2013, 7, 8)

MESSAGING_APPS: dict[str, tuple[str, str]] = {
    WHATSAPP: ("WhatsApp Messenger", "WhatsApp Inc."),
    LINE: ("LINE: Free Calls & Messages", "LINE Corporation"),
    WECHAT: ("WeChat", "Tencent Technology (Shenzhen) Company Ltd."),
    VIBER: ("Viber", "Viber Media S.à r.l."),
    KAKAO: ("KakaoTalk", "Kakao Corp."),
    MESSENGER: ("Facebook Messenger", "Facebook"),
    TANGO: ("Tango", "TangoMe, Inc."),
    SKYPE: ("Skype", "Skype"),
}

# The rest of a 2013 chart, most popular first (the order each country's shuffle leans on).
BACKGROUND_APPS: tuple[tuple[str, str, str], ...] = (
    ("com.facebook.katana", "Facebook", "Facebook"),
    ("com.king.candycrushsaga", "Candy Crush Saga", "King.com"),
    ("com.kiloo.subwaysurf", "Subway Surfers", "Kiloo"),
    ("com.instagram.android", "Instagram", "Instagram"),
    ("com.gameloft.android.ANMP.GloftDMHM", "Despicable Me: Minion Rush", "Gameloft"),
    ("com.imangi.templerun2", "Temple Run 2", "Imangi Studios"),
    ("com.twitter.android", "Twitter", "Twitter, Inc."),
    ("me.pou.app", "Pou", "Zakeh"),
    ("com.shazam.android", "Shazam", "Shazam Entertainment Ltd."),
    ("com.snapchat.android", "Snapchat", "Snapchat Inc"),
    ("com.cleanmaster.mguard", "Clean Master", "KS Mobile"),
    ("com.UCMobile.intl", "UC Browser", "UCWeb Inc."),
    ("com.opera.mini.android", "Opera Mini", "Opera Software ASA"),
    ("com.fingersoft.hillclimb", "Hill Climb Racing", "Fingersoft"),
    ("com.outfit7.mytalkingtomfree", "My Talking Tom", "Outfit7"),
    ("kik.android", "Kik Messenger", "Kik Interactive"),
    ("com.dropbox.android", "Dropbox", "Dropbox, Inc."),
    ("net.zedge.android", "ZEDGE Ringtones & Wallpapers", "ZEDGE"),
    ("com.halfbrick.fruitninjafree", "Fruit Ninja Free", "Halfbrick Studios"),
    ("air.au.com.metro.DumbWaysToDie", "Dumb Ways to Die", "Metro Trains"),
    ("com.ea.games.r3_row", "Real Racing 3", "Electronic Arts"),
    ("co.vine.android", "Vine", "Vine Labs, Inc."),
    ("com.pinterest", "Pinterest", "Pinterest"),
    ("com.google.android.apps.translate", "Google Translate", "Google Inc."),
    ("com.google.android.talk", "Hangouts", "Google Inc."),
    ("com.google.zxing.client.android", "Barcode Scanner", "ZXing Team"),
    ("com.rovio.angrybirdsseasons", "Angry Birds Seasons", "Rovio Mobile Ltd."),
    ("flipboard.app", "Flipboard", "Flipboard"),
    ("com.avast.android.mobilesecurity", "Avast Mobile Security", "AVAST Software"),
    ("com.spotify.mobile.android.ui", "Spotify", "Spotify Ltd."),
    ("com.netflix.mediaclient", "Netflix", "Netflix, Inc."),
    ("tunein.player", "TuneIn Radio", "TuneIn Inc"),
    ("com.estrongs.android.pop", "ES File Explorer", "ES APP Group"),
    ("com.devuni.flashlight", "Tiny Flashlight", "Nikolay Ananiev"),
    ("com.topfreegames.bikeracefreeworld", "Bike Race Free", "Top Free Games"),
    ("com.gau.go.launcherex", "GO Launcher EX", "GO Launcher Dev Team"),
    ("com.waze", "Waze", "Waze Inc."),
    ("com.adobe.reader", "Adobe Reader", "Adobe Systems"),
    ("jp.naver.linecamera.android", "LINE camera", "LINE Corporation"),
    ("com.android.chrome", "Chrome Browser", "Google Inc."),
)

# Each country's messaging apps on July 27, 2013 (the seed's facts, the rest illustrative).
JULY_27: dict[str, dict[str, int]] = {
    # WhatsApp #1: ten countries (which ten is illustrative).
    "IN": {WHATSAPP: 1, VIBER: 4, WECHAT: 7, MESSENGER: 9, LINE: 12, SKYPE: 15, TANGO: 20},
    "BR": {WHATSAPP: 1, MESSENGER: 3, VIBER: 8, SKYPE: 12, WECHAT: 16, LINE: 18, TANGO: 22},
    "MX": {WHATSAPP: 1, MESSENGER: 4, LINE: 9, WECHAT: 12, VIBER: 14, TANGO: 19},
    "ES": {WHATSAPP: 1, LINE: 6, VIBER: 8, MESSENGER: 11, WECHAT: 14, SKYPE: 17},
    "DE": {WHATSAPP: 1, MESSENGER: 5, VIBER: 9, SKYPE: 13, LINE: 21, WECHAT: 26},
    "NL": {WHATSAPP: 1, MESSENGER: 6, VIBER: 10, SKYPE: 14, WECHAT: 23, LINE: 25},
    "ZA": {WHATSAPP: 1, MESSENGER: 4, VIBER: 11, LINE: 15, SKYPE: 18, WECHAT: 20},
    "SA": {WHATSAPP: 1, VIBER: 3, TANGO: 6, LINE: 10, MESSENGER: 12, SKYPE: 14, WECHAT: 17},
    "HK": {WHATSAPP: 1, MESSENGER: 3, WECHAT: 6, LINE: 8, VIBER: 12, SKYPE: 16},
    "TR": {WHATSAPP: 1, MESSENGER: 5, VIBER: 7, LINE: 12, TANGO: 15, WECHAT: 18, SKYPE: 20},
    # The seed's three: Line #1 in Argentina and Chile, WeChat #1 in Italy; WhatsApp #2.
    "AR": {LINE: 1, WHATSAPP: 2, MESSENGER: 5, WECHAT: 13, VIBER: 16, SKYPE: 19},
    "CL": {LINE: 1, WHATSAPP: 2, MESSENGER: 6, VIBER: 14, WECHAT: 15, SKYPE: 21},
    "IT": {WECHAT: 1, WHATSAPP: 2, MESSENGER: 5, VIBER: 7, LINE: 11, SKYPE: 16},
    # WhatsApp #2 to #10: fifteen more countries, 28 in all.
    "FR": {MESSENGER: 2, WHATSAPP: 3, VIBER: 9, SKYPE: 12, LINE: 19, WECHAT: 22},
    "GB": {MESSENGER: 3, WHATSAPP: 4, SKYPE: 8, VIBER: 11, LINE: 24, WECHAT: 25},
    "PT": {WHATSAPP: 2, MESSENGER: 4, VIBER: 10, LINE: 13, SKYPE: 15, WECHAT: 19},
    "CH": {WHATSAPP: 2, MESSENGER: 6, VIBER: 8, SKYPE: 11, LINE: 17, WECHAT: 21},
    "AT": {WHATSAPP: 3, MESSENGER: 5, VIBER: 7, SKYPE: 12, LINE: 20, WECHAT: 24},
    "BE": {MESSENGER: 3, WHATSAPP: 5, VIBER: 9, SKYPE: 13, LINE: 22, WECHAT: 26},
    "RU": {VIBER: 2, SKYPE: 4, WHATSAPP: 6, MESSENGER: 15, LINE: 18, WECHAT: 20},
    "PL": {MESSENGER: 3, SKYPE: 6, WHATSAPP: 7, VIBER: 10, LINE: 23, WECHAT: 27},
    "CO": {WHATSAPP: 2, MESSENGER: 4, LINE: 8, VIBER: 12, WECHAT: 14, TANGO: 18},
    "PE": {WHATSAPP: 3, MESSENGER: 5, LINE: 7, VIBER: 13, WECHAT: 16, TANGO: 20},
    "VE": {LINE: 3, WHATSAPP: 4, MESSENGER: 6, VIBER: 9, TANGO: 11, WECHAT: 17},
    "MY": {WHATSAPP: 2, WECHAT: 3, LINE: 5, MESSENGER: 8, VIBER: 10, KAKAO: 14, TANGO: 18},
    "SG": {WHATSAPP: 3, WECHAT: 5, LINE: 6, MESSENGER: 7, VIBER: 11, KAKAO: 16},
    "ID": {LINE: 3, MESSENGER: 6, WHATSAPP: 8, WECHAT: 9, KAKAO: 12, VIBER: 14},
    "PH": {MESSENGER: 3, VIBER: 4, WECHAT: 7, WHATSAPP: 9, LINE: 10, TANGO: 12, KAKAO: 13},
    # Countries where WhatsApp is not in the top 10.
    "US": {MESSENGER: 4, SKYPE: 13, TANGO: 11, WHATSAPP: 16, VIBER: 20, LINE: 28},
    "CA": {MESSENGER: 5, SKYPE: 10, WHATSAPP: 12, VIBER: 14, TANGO: 18, LINE: 25, WECHAT: 27},
    "AU": {MESSENGER: 4, VIBER: 9, WHATSAPP: 13, SKYPE: 14, WECHAT: 21, LINE: 26},
    "JP": {LINE: 1, KAKAO: 8, MESSENGER: 12, SKYPE: 15, VIBER: 18, WECHAT: 20},
    "KR": {KAKAO: 1, LINE: 6, MESSENGER: 16, WECHAT: 22},
    "TW": {LINE: 1, MESSENGER: 6, WECHAT: 9, KAKAO: 15, VIBER: 19, WHATSAPP: 24},
    "TH": {LINE: 1, MESSENGER: 5, WECHAT: 11, KAKAO: 17, WHATSAPP: 19, VIBER: 22},
}


@dataclass(frozen=True)
class DemoCampaign:
    """A campaign of the demo, on the demo dataset."""

    name: str
    app_key: str
    brand: str
    countries: tuple[str, ...]
    starts_on: date
    color: str
    description: str


DEMO_CAMPAIGNS = (
    DemoCampaign(
        name="Lionel Messi signs to promote WeChat",
        app_key=WECHAT,
        brand="Tencent",
        countries=("IT",),
        starts_on=MESSI_ANNOUNCED,
        color="#2e7d32",
        description=(
            "The seed: Messi, FC Barcelona's star, signed an agreement to promote WeChat; "
            "the effect on Italian fans was very quick, and on July 27 WeChat was #1 on "
            "Google Play in Italy. The start date is illustrative."
        ),
    ),
    DemoCampaign(
        name="WeChat TV commercial in India",
        app_key=WECHAT,
        brand="Tencent",
        countries=("IN",),
        starts_on=INDIA_TV_STARTS,
        color="#ef6c00",
        description=(
            "The seed: Tencent launched a Bollywood-style TV commercial to grow WeChat's "
            "user base in India, where WhatsApp and Facebook are very strong. The start "
            "date is illustrative."
        ),
    ),
)


def _days() -> list[date]:
    return [FIRST_DAY + timedelta(days=n) for n in range((LAST_DAY - FIRST_DAY).days + 1)]


def _ramp(day: date, start: date, before: float, after: float, days: int) -> float:
    """A level moving from ``before`` to ``after`` over ``days`` days from ``start``."""
    if day < start:
        return before
    progress = min(1.0, ((day - start).days + 1) / days)
    return before + (after - before) * progress


def _base_ranks(country: str) -> dict[str, float]:
    """The country's usual rank of each app (messaging from the table, the rest shuffled)."""
    rng = random.Random(f"{SEED}-{country}")  # noqa: S311 - reproducible demo, not secrets
    messaging = {app: float(rank) for app, rank in JULY_27[country].items()}
    taken = {round(rank) for rank in messaging.values()}
    order = sorted(range(len(BACKGROUND_APPS)), key=lambda index: index + rng.uniform(0, 12))
    free_ranks = (rank for rank in range(1, 100) if rank not in taken)
    background = {BACKGROUND_APPS[index][0]: float(next(free_ranks)) for index in order}
    return {**background, **messaging}


def _level(country: str, app: str, base: float, day: date) -> float:
    """The app's expected rank on ``day``: its base, moved by the seed's two campaigns."""
    if app == WECHAT and country == "IT":
        return _ramp(day, MESSI_ANNOUNCED, 27.0, 1.3, 6)
    if app == WECHAT and country == "IN":
        return _ramp(day, INDIA_TV_STARTS, 14.0, 7.0, 10)
    if app == WHATSAPP and base == 1:
        return 0.6  # a leader that stays the leader most days
    return base


def _chart(country: str, day: date, bases: dict[str, float]) -> ParsedChart:
    rng = random.Random(f"{SEED}-{country}-{day.isoformat()}")  # noqa: S311
    scores = {
        app: _level(country, app, base, day) + rng.gauss(0, 0.12 * base + 0.4)
        for app, base in bases.items()
    }
    pinned = JULY_27[country] if day == SEED_DAY else {}
    ordered = [app for app in sorted(scores, key=lambda a: (scores[a], a)) if app not in pinned]
    for app, rank in sorted(pinned.items(), key=lambda item: item[1]):
        ordered.insert(rank - 1, app)
    names = {key: (name, publisher) for key, name, publisher in BACKGROUND_APPS}
    names.update(MESSAGING_APPS)
    entries = tuple(
        RankedApp(rank, app, *names[app]) for rank, app in enumerate(ordered[:DEPTH], start=1)
    )
    return ParsedChart(Store.GOOGLE_PLAY, country, Chart.TOP_FREE, "", day, entries)


@cache
def demo_charts() -> tuple[ParsedChart, ...]:
    """Every chart of the demo dataset: 35 countries × 43 days, top 30, deterministic
    (built once per process)."""
    charts: list[ParsedChart] = []
    for country in sorted(JULY_27):
        bases = _base_ranks(country)
        charts.extend(_chart(country, day, bases) for day in _days())
    return tuple(charts)
