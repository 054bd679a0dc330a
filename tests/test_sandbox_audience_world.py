"""The sandbox audience talks about the demo brand's world, at a pace a team can answer."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from guanxi.core.db import utcnow
from guanxi.core.settings import Settings
from guanxi.sandbox.audience import backfill, engagement_of
from guanxi.sandbox.audience_texts import (
    CRISIS_AFTER,
    CRISIS_REACTIONS,
    REAL_POSTS,
    WORLD_WORDS,
    Voice,
)
from guanxi.sandbox.wechat import DEMO_WECHAT_APPID
from guanxi.sandbox.weibo import DEMO_WEIBO_UID, SECOND_WEIBO_UID
from tests.inbox_ingest_support import make_stack

TOPICS = {"praise", "pairing", "gift", "question", "price", "delivery", "complaint", "spam"}


def _said(count: int, *, seed: int = 5, message_every: int = 4) -> list[tuple[str, str, bool]]:
    voice, rng = Voice(), random.Random(seed)
    said = []
    for index in range(count):
        message = index % message_every == 0
        line = voice.say(rng, author=f"粉丝{index % 40}", message=message)
        said.append((line.kind, line.text, message))
    return said


def test_every_text_is_about_wine_and_the_brands_world() -> None:
    """Given 2,000 texts of the audience, then each names wine vocabulary, every topic of
    the brand's world comes up, and advertising is a small share (never in a message)."""
    said = _said(2000)
    off_topic = [text for _, text, _ in said if not any(word in text for word in WORLD_WORDS)]
    assert off_topic == []
    kinds = Counter(kind for kind, _, _ in said)
    assert set(kinds) >= TOPICS
    assert 0.01 <= kinds["spam"] / len(said) <= 0.08
    assert not [text for kind, text, message in said if message and kind == "spam"]
    assert all(text.strip() and "{" not in text for _, text, _ in said)


def test_a_small_crisis_starts_is_shared_and_dies_down() -> None:
    """Given the audience's texts, then one corked or fake bottle complaint opens after a
    while, others share it (quoting its author) a bounded number of times, and no second
    crisis starts."""
    said = _said(400)
    openings = [index for index, (kind, _, _) in enumerate(said) if kind == "crisis"]
    assert len(openings) == 1
    assert openings[0] >= CRISIS_AFTER
    opening = said[openings[0]][1]
    assert "木塞" in opening or "假酒" in opening
    shares = [text for kind, text, _ in said if kind == "crisis-share"]
    assert len(shares) == CRISIS_REACTIONS
    assert any(f": {opening}" in text and "//@粉丝" in text for text in shares)


def test_off_weibo_the_crisis_is_not_quoted_as_a_repost() -> None:
    """On Douyin or WeChat, reactions to the crisis do not use Weibo's ``//@`` reposts."""
    voice, rng = Voice(), random.Random(5)
    said = [voice.say(rng, author="粉丝", weibo=False) for _ in range(400)]
    reactions = [line.text for line in said if line.kind == "crisis-share"]
    assert len(reactions) == CRISIS_REACTIONS
    assert not [text for text in reactions if "//@" in text or "转发微博" in text]


def test_the_one_real_post_is_a_public_wine_post_cited_in_the_source() -> None:
    """The real post mixed in is about wine and fits a Weibo comment (140 characters)."""
    assert all("葡萄酒" in post and len(post) <= 140 for post in REAL_POSTS)
    assert "real" in {kind for kind, _, _ in _said(2000)}


def test_paced_rounds_give_each_account_one_item_dated_at_the_pace() -> None:
    """Given the demo accounts with a post each, when eight rounds are played as if every
    15 minutes, then every account got exactly eight items, dated over the last 105
    minutes, and none in the future."""
    stack = make_stack()
    stack.publish("weibo", DEMO_WEIBO_UID, "普罗旺斯桃红，夏日首选")
    stack.publish_article("桃红配餐指南", "桃红配小龙虾")
    state = stack.sandbox.state
    before = utcnow()
    backfill(state, rounds=8, every_s=900)
    engagement = engagement_of(state)
    per_account = Counter(
        [(c.platform, c.account_id) for c in engagement.comments]
        + [(m.platform, m.account_id) for m in engagement.mentions]
        + [(m.platform, m.account_id) for m in engagement.messages]
    )
    assert per_account[("weibo", DEMO_WEIBO_UID)] == 8
    assert per_account[("weibo", SECOND_WEIBO_UID)] == 8
    assert per_account[("wechat", DEMO_WECHAT_APPID)] == 8
    assert sum(per_account.values()) <= 8 * 4  # the Douyin account has no video: nothing
    times = [c.created_at for c in engagement.comments] + [
        m.created_at for m in engagement.mentions
    ]
    assert min(times) >= before - timedelta(seconds=7 * 900 + 5)
    assert max(times) <= utcnow()


def test_the_default_pace_is_a_few_items_per_account_an_hour() -> None:
    """The background audience's default gives each account between 1 and 6 items an
    hour, what a team of three can answer (it used to be about 200)."""
    pace = Settings.model_fields["sandbox_audience_pace_s"].default
    assert 1 <= 3600 / pace <= 6


def test_the_round_endpoint_plays_paced_rounds() -> None:
    """``POST /_sandbox/audience/round?rounds=4`` plays four rounds (the demo's start)."""
    stack = make_stack()
    stack.publish("weibo", DEMO_WEIBO_UID, "桃红")
    answer = stack.http.post("/_sandbox/audience/round", params={"rounds": 4})
    assert answer.status_code == 200, answer.text
    assert sum(answer.json().values()) == 4 * 3  # two Weibo accounts and one WeChat
    summary = stack.http.get("/_sandbox/audience").json()
    assert summary["rounds"] == 4
    assert "weibo2018" in summary["source"]
