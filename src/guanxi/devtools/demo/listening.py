"""The listening part of the demo workspace.

Its mentions are a sample of real Sina Weibo posts shipped in ``data/demo_mentions.jsonl``:
40 posts from each of the six files of ``../shared/data/weibo_topics`` (artificial
intelligence, Tongji University, Jay Chou, Hollywood, graduation, Trump), which come from
the dengxiuqi/weibo2018 corpus (``topics/``). Authors, times (the last four weeks) and
counts are invented but fixed, so every demo looks the same. Beside them,
``data/demo_wine_mentions.jsonl`` holds posts written for the demo about the brand's world
(Provence rosé, and Bordeaux, the competitor its topics compare it with), so the brand and
competitor topics and their share of voice have something to count. The mentions are enriched at
load; if the NLP model is not trained yet, the worker's enrichment job catches up later.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanxi.accounts.models import Workspace
from guanxi.channels.models import Channel, ChannelStatus
from guanxi.core.db import utcnow
from guanxi.core.errors import UserError
from guanxi.devtools.demo import DemoStep
from guanxi.devtools.demo.listening_topics import load_insight_demo
from guanxi.listening.intake import service
from guanxi.listening.intake.importers.base import ParsedAuthor, ParsedMention
from guanxi.listening.intake.models import SourceFormat
from guanxi.listening.mentions import flows
from guanxi.listening.mentions.models import OfficialRelation
from guanxi.listening.mentions.service import track_account

log = logging.getLogger(__name__)

SAMPLE = "demo_mentions.jsonl"
SOURCE_NAME = "Demo · Weibo topics (weibo2018)"
WINE_SAMPLE = "demo_wine_mentions.jsonl"
WINE_SOURCE_NAME = "Demo · wine talk (written for the demo)"
# The brand listens for its own name: the sandbox audience's posts that @-mention it are public.
PULL_SOURCE_NAME = "Weibo search · 普罗旺斯葡萄酒"
PULL_QUERY = "普罗旺斯葡萄酒"
OWN_ACCOUNT = ("5821937460", "普罗旺斯葡萄酒官方微博")  # the sandbox's demo brand account
COMPETITOR_ACCOUNT = ("6190000001", "波尔多红酒官方微博")

_NAMES = ("小鹿", "阿杰", "糖糖", "老王", "木木", "豆豆", "大橙子", "七七", "阿乐", "小米")
_PREFIXES = ("爱喝茶的", "北漂的", "同济的", "追剧的", "熬夜的", "早起的")


def demo_author(index: int) -> ParsedAuthor:
    """Invented author ``index`` of the sample: mostly ordinary users, some verified."""
    verified_type = {0: 3, 1: 0, 2: 220, 3: 2, 4: 1, 5: 5}.get(index % 12, -1)
    followers = {3: 3_200_000, 0: 96_000, 220: 180_000, 2: 52_000, 1: 410_000, 5: 75_000}
    return ParsedAuthor(
        external_id=str(7_300_000_000 + index * 104_729),
        name=_PREFIXES[index % len(_PREFIXES)] + _NAMES[index % len(_NAMES)] + str(index),
        verified_type=verified_type,
        followers=followers.get(verified_type, 30 + index * 41),
    )


def sample(name: str = SAMPLE) -> list[dict[str, Any]]:
    """A shipped sample's records."""
    text = resources.files("guanxi.devtools.demo").joinpath("data", name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _mentions(records: list[dict[str, Any]], *, real: bool) -> list[ParsedMention]:
    """The sample's records as mentions; only real Weibo posts link to Weibo."""
    now = utcnow()
    return [
        ParsedMention(
            platform="weibo",
            external_id=str(item["mid"]),
            text=str(item["text"]),
            posted_at=now - timedelta(hours=int(item["hours_ago"])),
            url=f"https://m.weibo.cn/detail/{item['mid']}" if real else "",
            author=demo_author(int(item["author"])),
            likes=int(item["likes"]),
            comments=int(item["comments"]),
            reposts=int(item["reposts"]),
            raw={
                "source": "dengxiuqi/weibo2018 topics" if real else "written for the guanxi demo",
                "topic": item["topic"],
            },
        )
        for item in records
    ]


def load_demo(db: Session, *, workspace: Workspace) -> None:
    """Add this capability's demo data to ``workspace``; running it again changes nothing."""
    for (uid, name), relation in (
        (OWN_ACCOUNT, OfficialRelation.OWN),
        (COMPETITOR_ACCOUNT, OfficialRelation.COMPETITOR),
    ):
        track_account(
            db,
            workspace_id=workspace.id,
            platform="weibo",
            external_id=uid,
            name=name,
            relation=relation,
        )
    for name, records, real in (
        (SOURCE_NAME, sample(), True),
        (WINE_SOURCE_NAME, sample(WINE_SAMPLE), False),
    ):
        source = service.source_named(
            db, workspace_id=workspace.id, name=name, file_format=SourceFormat.JSONL
        )
        service.store_batch(
            db,
            workspace_id=workspace.id,
            source_id=source.id,
            mentions=_mentions(records, real=real),
        )
    add_demo_search(db, workspace=workspace)
    try:
        pipeline = flows.pipeline_for(db, workspace_id=workspace.id)
        flows.reenrich(db, workspace_id=workspace.id, pipeline=pipeline, commit=False)
    except UserError as exc:  # the sentiment model is not trained: the worker catches up
        log.warning("demo mentions stored without enrichment: %s", exc)
    # Topics match the mentions already stored, so they come after them.
    load_insight_demo(db, workspace=workspace)


def add_demo_search(db: Session, *, workspace: Workspace) -> None:
    """A keyword search through the demo's Weibo account, once that account is connected
    (the demo connects its sandbox accounts after the capabilities' data); safe to repeat."""
    weibo = db.scalar(
        select(Channel).where(
            Channel.workspace_id == workspace.id,
            Channel.connector == "weibo",
            Channel.status == ChannelStatus.CONNECTED,
        )
    )
    if weibo is not None:
        service.create_pull_source(
            db,
            workspace_id=workspace.id,
            name=PULL_SOURCE_NAME,
            channel_id=weibo.id,
            query=PULL_QUERY,
            platform=weibo.platform,
        )


DEMO = DemoStep(order=20, load=load_demo)
