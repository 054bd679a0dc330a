"""Which of the consumer's three kinds of information source a post is.

The seed's model: personal sources (word of mouth from friends and family), public sources
(forums, reviews, media, consumer reports) and marketer-dominated ones (brand accounts and
sites, advertising). The rules, first match wins:

1. the workspace's own or a competitor's official account (``Document.author_kind_hint``)
   is a marketer;
2. advertising in the content is a marketer: a shop link, or an explicit 广告/推广 marker,
   or two weaker promotion cues together (优惠券 and 包邮; a consumer who writes 淘宝
   once is not advertising);
3. the author's Weibo verified_type: companies and apps are marketers; government, media,
   campus, websites, organisations, verified individuals and grassroots experts are public;
   ordinary users (-1, or no verification known) are personal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import ahocorasick

from guanxi.nlp.pipeline import Work

PERSONAL = "personal"
PUBLIC = "public"
MARKETER = "marketer"

# verified_type -> (kind, what it is).
VERIFIED_TYPES: dict[int, tuple[str, str]] = {
    -1: (PERSONAL, "an ordinary user"),
    0: (PUBLIC, "a verified individual (public figure)"),
    1: (PUBLIC, "a government account"),
    2: (MARKETER, "a company account"),
    3: (PUBLIC, "a media account"),
    4: (PUBLIC, "a campus account"),
    5: (PUBLIC, "a website's account"),
    6: (MARKETER, "an app's account"),
    7: (PUBLIC, "an organisation's account"),
    200: (PUBLIC, "a grassroots expert"),
    220: (PUBLIC, "a grassroots expert"),
}
# Saying it is an advertisement, or a link to a shop: one is enough.
STRONG_AD_CUES = ("广告", "推广", "赞助", "sponsored", "advertisement")
SHOP_LINK_RE = re.compile(
    r"(?:taobao\.com|tmall\.com|jd\.com|3\.cn|pinduoduo\.com|yangkeduo\.com|weidian\.com"
    r"|youzan\.com|tb\.cn|m\.tb\.cn|shop\w*\.|item\.)",
    re.IGNORECASE,
)
# Promotion vocabulary a consumer may also use once: two are needed.
WEAK_AD_CUES = (
    "优惠券",
    "领券",
    "券后",
    "包邮",
    "链接",
    "淘宝",
    "天猫",
    "京东",
    "拼多多",
    "秒杀",
    "限时",
    "抢购",
    "下单立减",
    "折扣",
    "特价",
    "促销",
    "满减",
    "官方旗舰店",
    "旗舰店",
    "专柜价",
    "代购",
    "私信",
    "加微信",
    "加v",
    "团购",
    "直播间",
    "点击购买",
    "立即购买",
    "购买链接",
    "promo code",
    "discount",
    "coupon",
    "free shipping",
    "buy now",
    "limited time",
)


@cache
def _cue_automaton() -> Any:  # ahocorasick.Automaton (untyped)
    automaton = ahocorasick.Automaton()
    for cue in WEAK_AD_CUES:
        automaton.add_word(cue, (False, cue))
    for cue in STRONG_AD_CUES:
        automaton.add_word(cue, (True, cue))
    automaton.make_automaton()
    return automaton


def ad_cues(text: str, urls: Sequence[str]) -> list[str]:
    """The advertising cues found in ``text`` and its URLs (a shop link counts as strong)."""
    strong: list[str] = []
    weak: list[str] = []
    # One Aho-Corasick pass finds every cue: this runs for every post.
    for _, (is_strong, cue) in _cue_automaton().iter(text.lower()):
        (strong if is_strong else weak).append(cue)
    strong += [url for url in urls if SHOP_LINK_RE.search(url)]
    if strong:
        return list(dict.fromkeys(strong))
    weak = list(dict.fromkeys(weak))
    return weak if len(weak) >= 2 else []


def source_kind(work: Work) -> tuple[str, str]:
    """The kind of source ``work``'s document is, and the English sentence saying why."""
    document = work.document
    if document.author_kind_hint == "own":
        return MARKETER, "the workspace's own official account"
    if document.author_kind_hint == "competitor":
        return MARKETER, "a competitor's official account"
    cues = ad_cues(work.normalized_text, work.urls)
    if cues:
        return MARKETER, "advertising cues in the text: " + ", ".join(cues[:4])
    verified = document.verified_type
    if verified is None:
        return PERSONAL, "no verification: an ordinary user"
    kind, what = VERIFIED_TYPES.get(verified, (PUBLIC, "a verified account of another type"))
    return kind, f"verified_type {verified}: {what}"


class SourceKindStep:
    """personal / public / marketer, with the reason."""

    name = "source_kind"

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every document has a kind of source."""
        return True

    def setup(self) -> None:
        """Build the cue automaton (once)."""
        _cue_automaton()

    def version(self) -> str:
        """Rules, no model."""
        return ""

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``source_kind`` and ``source_reason``."""
        for work in batch:
            work.source_kind, work.source_reason = source_kind(work)
