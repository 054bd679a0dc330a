"""Which of the consumer's three kinds of information source a post is.

The seed's model: personal sources (word of mouth from friends and family), public sources
(forums, reviews, media, consumer reports) and marketer-dominated ones (brand accounts and
sites, advertising). Whose voice it is and what the content does decide, not the badge.

The workspace's own and competitors' official accounts are always marketers (a rule).
Otherwise the shipped model decides (``data/source-model.json.gz``, a multinomial logistic
regression trained on the team's labelled posts by ``guanxi nlp train-insight``) over the
text and, when known, the author's profile (``guanxi.nlp.features``); the reason names its
strongest features. Without a model file the previous version's rules run (they are also
the baseline ``guanxi nlp evaluate`` compares with). The rules, first match wins:

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

from guanxi.nlp.features import (
    PHONE_RE,
    PRICE_RE,
    author_features,
    marked_features,
    text_grams,
    text_window,
    texts_matching,
)
from guanxi.nlp.grams import batch_grams
from guanxi.nlp.linear import SOURCE_MODEL_FILE, LinearModelStep
from guanxi.nlp.pipeline import Document, Work

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


def official_account(document: Document) -> tuple[str, str] | None:
    """Marketer with the reason when the author is the workspace's own or a competitor's
    official account (known from the workspace's settings, not guessed)."""
    if document.author_kind_hint == "own":
        return MARKETER, "the workspace's own official account"
    if document.author_kind_hint == "competitor":
        return MARKETER, "a competitor's official account"
    return None


def rule_source_kind(work: Work) -> tuple[str, str]:
    """The previous version's rules (module docstring): the kind and why."""
    document = work.document
    official = official_account(document)
    if official:
        return official
    cues = ad_cues(work.normalized_text, work.urls)
    if cues:
        return MARKETER, "advertising cues in the text: " + ", ".join(cues[:4])
    verified = document.verified_type
    if verified is None:
        return PERSONAL, "no verification: an ordinary user"
    kind, what = VERIFIED_TYPES.get(verified, (PUBLIC, "a verified account of another type"))
    return kind, f"verified_type {verified}: {what}"


def named_features(work: Work) -> list[str]:
    """The text's features other than n-grams (``features.named_text_features``), computed
    once for both models."""
    if work.named_features is None:
        fill_named_features([work])
    return list(work.named_features or ())


def fill_named_features(batch: Sequence[Work]) -> None:
    """``named_features`` of every work of a batch (whose windows are set), the price and
    number patterns run once over the batch's windows."""
    windows = [work.window for work in batch]
    prices, numbers = texts_matching(PRICE_RE, windows), texts_matching(PHONE_RE, windows)
    for work, price, number in zip(batch, prices, numbers, strict=True):
        work.named_features = marked_features(
            work.window,
            work.emoticons,
            mentions=len(work.mentions),
            urls=len(work.urls),
            hashtags=len(work.hashtags),
            price=price,
            number=number,
        )


def source_named_features(work: Work) -> list[str]:
    """The source-kind model's features of ``work`` other than n-grams: the text's, its
    advertising marks, the author's."""
    document = work.document
    features = named_features(work)
    features.extend("ad:" + cue for cue in ad_cues(work.normalized_text, work.urls))
    features.extend(
        author_features(
            document.verified_type,
            document.verified_reason,
            document.author_name,
            document.author_description,
            document.followers,
        )
    )
    return features


def source_features(work: Work) -> list[str]:
    """All the source-kind model's features of ``work`` as strings (training)."""
    work.window = text_window(work.normalized_text)
    return text_grams(work.window) + source_named_features(work)


FEATURE_KINDS = frozenset({"emo", "ad", "vt", "fol", "has", "st", "r", "n", "d"})


@cache  # a model has a bounded set of features, and reasons name a few of them per post
def describe_feature(feature: str) -> str:
    """A model feature in readable English, for the reason shown."""
    kind, colon, value = feature.partition(":")
    if not colon or kind not in FEATURE_KINDS:  # an n-gram of the text
        return f'"{feature}" in the text'
    if kind == "emo":
        return f"the emoticon [{value}]"
    if kind == "ad":
        return f'the advertising mark "{value}"'
    if kind == "vt":
        what = VERIFIED_TYPES.get(int(value), ("", "a verified account of another type"))[1]
        return f"verified_type {value} ({what})"
    if kind == "fol":
        return f"about 10^{int(value) - 1} followers"
    if kind == "has":
        return {
            "mention": "an @mention",
            "url": "a link",
            "topic": "a #topic#",
            "headline": "a 【headline】",
            "price": "a price",
            "number": "a long number (phone, account)",
        }.get(value, value)
    if kind == "st":
        return f"a {value.replace('_', ' ')} phrase"
    where = {"r": "the verification reason", "n": "the account name", "d": "the profile"}.get(
        kind, kind
    )
    return f'"{value.removeprefix("cue:")}" in {where}'


class SourceKindStep(LinearModelStep):
    """personal / public / marketer, with the reason."""

    name = "source_kind"
    model_file = SOURCE_MODEL_FILE

    def able_to_run(self, batch: Sequence[Work]) -> bool:  # noqa: ARG002 - always applies
        """Every document has a kind of source."""
        return True

    def prepare_rules(self) -> None:
        """Build the cue automaton the rules and the features read."""
        _cue_automaton()

    def run(self, batch: Sequence[Work]) -> None:
        """Fill ``source_kind`` and ``source_reason``."""
        self.setup()
        model = self._model
        if model is None:
            for work in batch:
                work.source_kind, work.source_reason = rule_source_kind(work)
            return
        import numpy as np  # noqa: PLC0415 - loaded with the model's scorer

        scorer = model.scorer
        grams = batch_grams(batch)
        if any(work.named_features is None for work in batch):
            fill_named_features(batch)
        named = scorer.named_rows([source_named_features(work) for work in batch])
        probabilities = scorer.score_batch(grams, named)
        if self._refine is not None:  # the accurate tier
            probabilities = self._refine.refine("source_kind", model.classes, batch, probabilities)
        best = probabilities.argmax(axis=1)
        reasons = scorer.strongest(*scorer.found(grams, named), best, 5)
        # The chosen class's probability of every text in one gather, as Python floats.
        confidence = probabilities.ravel().take(
            best + probabilities.shape[1] * np.arange(len(best))
        )
        classes = model.classes
        for work, sure, klass, strongest in zip(
            batch, confidence.tolist(), best.tolist(), reasons, strict=True
        ):
            if work.document.author_kind_hint:
                official = official_account(work.document)
                if official:
                    work.source_kind, work.source_reason = official
                    continue
            work.source_kind = classes[klass]
            # Several features of one word (its grams) read alike: each shown once.
            shown = list(dict.fromkeys(map(describe_feature, strongest)))[:3]
            work.source_reason = f"{sure:.0%} sure, from " + (
                ", ".join(shown) or "the model's prior"
            )
