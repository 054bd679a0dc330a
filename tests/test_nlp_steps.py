"""The enrichment steps one by one: markup, language and script, segmentation, source kind,
journey stage, keywords; and that importing the pipeline loads no model."""

from __future__ import annotations

import subprocess
import sys

import pytest

from guanxi.nlp.keywords import IdfTable, keywords
from guanxi.nlp.pipeline import Document, Pipeline, Work, default_pipeline
from guanxi.nlp.segment import SegmentStep
from guanxi.nlp.source import SourceKindStep
from guanxi.nlp.stage import JourneyStageStep, journey_stage, load_cues
from guanxi.nlp.text import LanguageStep, MarkupStep, NormalizeStep, detect_language


def run_steps(*documents: Document, user_dictionary: tuple[str, ...] = ()) -> list[Work]:
    batch = [Work(document) for document in documents]
    steps = (
        MarkupStep(),
        LanguageStep(),
        NormalizeStep(),
        SegmentStep(user_dictionary=user_dictionary),
        SourceKindStep(rules=True),  # the rules: the previous version, and the fallback
        JourneyStageStep(rules=True),
    )
    for step in steps:
        step.run(batch)
    return batch


def test_weibo_markup_becomes_features_and_leaves_the_prose() -> None:
    """Given a Weibo post with every kind of markup, each is parsed into its feature."""
    (work,) = run_steps(
        Document(
            "{%#静下心来听音乐#%} 今天真开心[哈哈][心] @小明 快看 #好物推荐# "
            "http://t.cn/AbC12 {%网页链接%}{%伊宁市%}"
        )
    )
    assert work.emoticons == ["哈哈", "心"]
    assert work.hashtags == ["静下心来听音乐", "好物推荐"]
    assert work.mentions == ["小明"]
    assert work.urls == ["http://t.cn/AbC12"]
    assert work.markers == ["网页链接", "伊宁市"]
    # The topic's words stay in the prose (they say what the post is about); the rest goes.
    assert work.prose == "今天真开心 快看 好物推荐"
    assert "[" not in work.normalized_text
    assert "@" not in work.normalized_text


def test_single_hash_tags_and_plain_text() -> None:
    (tagged, plain) = run_steps(Document("新品上市 #口红 真好看"), Document("没有任何标记的文字"))
    assert tagged.hashtags == ["口红"]
    assert plain.emoticons == plain.hashtags == plain.mentions == plain.urls == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("今天天气很好", "zh"),
        ("I love this phone, it is great", "en"),
        ("这个 iPhone 真的很好用", "zh"),
        ("今日はいい天気ですね", "other"),
        ("😀😀 123 !!!", "und"),
        ("", "und"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_the_batch_reads_language_and_script_as_the_rules_of_one_text() -> None:
    """Given texts of every script the steps tell apart (Han past the Basic Multilingual
    Plane, compatibility ideographs, kana, hangul, Cyrillic, Greek, Arabic, Thai, emoji,
    Latin around the 2.5-letters-a-character line, Traditional, mixed), when one batch goes
    through the language and script steps (characters counted at once in numpy), then each
    text gets what ``detect_language`` and the per-character script sets give it alone."""
    from guanxi.nlp.text import HAN_RE, script_characters  # noqa: PLC0415

    texts = [
        "", " ", "好", "hello world", "Hello 你好", "這個產品很好用，皇后", "这个產品",
        "日本語のテキストです", "한국어 텍스트", "Привет мир", "𠀀𠀁 好", "😀😀",
        "ab", "a 中", "123 456", "后 皇后", "後來", "iPhone 15 Pro Max 真香", "\U000e0041中",
        "\U00031350 ok", "\uf900\ufa00", "مرحبا 你", "ไทย 中文", "Ελληνικά", "中aaa", "中aa",
        "发财了發財了", "臺灣 台湾",
    ]  # fmt: skip
    batch = run_steps(*(Document(text) for text in texts))
    traditional, simplified = script_characters()
    for work in batch:
        prose = work.prose
        assert work.language == detect_language(prose), prose
        if traditional.isdisjoint(prose):
            assert work.normalized_text == prose, prose
            assert work.script == ("simplified" if HAN_RE.search(prose) else "none"), prose
        else:
            assert work.script in {"traditional", "mixed"}, prose
            assert (work.script == "mixed") <= (not simplified.isdisjoint(prose)), prose


def test_traditional_is_normalised_to_simplified_and_the_original_kept() -> None:
    """Given Traditional, Simplified and mixed texts, the script is recorded, the analysis
    text is Simplified, and the document's text is untouched."""
    original = "這款手機真的很好用，推薦給大家"
    traditional, simplified, mixed, english = run_steps(
        Document(original),
        Document("这款手机真的很好用"),
        Document("這款手機很好用，推荐给大家"),
        Document("great phone"),
    )
    assert traditional.script == "traditional"
    assert traditional.normalized_text == "这款手机真的很好用，推荐给大家"
    assert traditional.document.text == original
    assert simplified.script == "simplified"
    assert simplified.normalized_text == "这款手机真的很好用"
    assert mixed.script == "mixed"
    assert english.script == "none"


def test_segmentation_keeps_user_dictionary_words_whole() -> None:
    """Given a brand name jieba's dictionary does not know, the workspace's dictionary keeps
    it one token (in Traditional input too, after normalisation)."""
    text = "我最爱喝蜜桃乌龙芝士奶盖，比别家好"
    (without,) = run_steps(Document(text))
    (with_dictionary, traditional) = run_steps(
        Document(text), Document("我最愛喝蜜桃烏龍芝士奶蓋"), user_dictionary=("蜜桃乌龙芝士奶盖",)
    )
    assert "蜜桃乌龙芝士奶盖" not in without.tokens
    assert "蜜桃乌龙芝士奶盖" in with_dictionary.tokens
    assert "蜜桃乌龙芝士奶盖" in traditional.tokens
    # Punctuation is not a token.
    assert "，" not in with_dictionary.tokens


@pytest.mark.parametrize(
    ("verified_type", "kind", "reason"),
    [
        (None, "personal", "no verification: an ordinary user"),
        (-1, "personal", "verified_type -1: an ordinary user"),
        (0, "public", "verified_type 0: a verified individual (public figure)"),
        (1, "public", "verified_type 1: a government account"),
        (2, "marketer", "verified_type 2: a company account"),
        (3, "public", "verified_type 3: a media account"),
        (4, "public", "verified_type 4: a campus account"),
        (5, "public", "verified_type 5: a website's account"),
        (6, "marketer", "verified_type 6: an app's account"),
        (7, "public", "verified_type 7: an organisation's account"),
        (200, "public", "verified_type 200: a grassroots expert"),
        (220, "public", "verified_type 220: a grassroots expert"),
        (42, "public", "verified_type 42: a verified account of another type"),
    ],
)
def test_source_kind_per_verified_type(verified_type: int | None, kind: str, reason: str) -> None:
    (work,) = run_steps(Document("今天去公园散步了", verified_type=verified_type))
    assert (work.source_kind, work.source_reason) == (kind, reason)


def test_source_kind_from_official_accounts_and_advertising() -> None:
    """The workspace's own and competitors' accounts, ads and shop links are marketers; one
    mention of 淘宝 by a consumer is not an ad."""
    own, competitor, ad, shop_link, consumer = run_steps(
        Document("新品发布", author_kind_hint="own", verified_type=-1),
        Document("新品发布", author_kind_hint="competitor"),
        Document("限时秒杀，领券再减20，全场包邮", verified_type=-1),
        Document("好物分享 https://item.taobao.com/item.htm?id=1"),
        Document("在淘宝买的，质量一般"),
    )
    assert own.source_kind == "marketer"
    assert own.source_reason == "the workspace's own official account"
    assert competitor.source_reason == "a competitor's official account"
    assert ad.source_kind == "marketer"
    assert ad.source_reason.startswith("advertising cues in the text: ")
    assert "包邮" in ad.source_reason
    assert shop_link.source_kind == "marketer"
    assert "taobao.com" in shop_link.source_reason
    assert consumer.source_kind == "personal"


@pytest.mark.parametrize(
    ("text", "stage", "cue"),
    [
        ("家里的冰箱太旧了，想买个大的", "need_recognition", "想买"),
        ("这款吸尘器到底好不好，求推荐", "information_search", "求推荐"),
        ("小米和华为选哪个", "evaluation", "选哪个"),
        ("终于下单了，等发货", "purchase", "下单"),
        ("想买很久了，今天终于收到了！", "post_purchase", "收到"),
        ("今天天气不错", "none", ""),
        ("Which is better, the X or the Y?", "evaluation", "which is better"),
        ("I have my wishes", "none", ""),  # "wish i had" is a whole-word cue, not a substring
    ],
)
def test_journey_stage_cues(text: str, stage: str, cue: str) -> None:
    match = journey_stage(text)
    assert (match.stage, match.cue) == (stage, cue)


def test_the_cue_lexicon_has_every_stage() -> None:
    cues = load_cues()
    assert set(cues) == {
        "need_recognition",
        "information_search",
        "evaluation",
        "purchase",
        "post_purchase",
    }
    assert all(len(stage_cues) >= 10 for stage_cues in cues.values())


def test_keywords_rank_rare_words_over_common_ones() -> None:
    table = IdfTable(idf={"手机": 2.0, "喜欢": 1.0, "真的": 0.5}, unknown=9.0)
    tokens = ["真的", "喜欢", "手机", "手机", "蜜雪冰城", "了", "2024", "的"]
    assert keywords(tokens, table, limit=3) == ["蜜雪冰城", "手机", "喜欢"]


def test_a_step_can_be_replaced() -> None:
    """Given a pipeline whose stage step is swapped for another, the other one runs."""

    class EverythingIsAPurchase:
        name = "stage"

        def able_to_run(self, batch: object) -> bool:
            return True

        def setup(self) -> None:
            pass

        def version(self) -> str:
            return "always-purchase-1"

        def run(self, batch: list[Work]) -> None:
            for work in batch:
                work.stage, work.stage_cue = "purchase", "*"

    pipeline = Pipeline([MarkupStep(), EverythingIsAPurchase()])
    (result,) = pipeline.enrich([Document("今天天气不错")])
    assert (result.stage, result.stage_cue) == ("purchase", "*")
    assert result.model_version == "always-purchase-1+pipeline-1"


def test_importing_the_pipeline_loads_no_model_segmenter_or_numpy() -> None:
    """`import guanxi.nlp.pipeline` stays light; the heavy parts load on first use."""
    code = (
        "import sys, guanxi.nlp, guanxi.nlp.pipeline;"
        "heavy = [m for m in ('rjieba', 'jieba', 'numpy', 'sklearn', 'snownlp', 'opencc',"
        " 'guanxi.nlp.sentiment', 'guanxi.nlp.segment') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == ""


def test_a_lone_surrogate_from_a_broken_export_is_dropped_not_fatal() -> None:
    """Given a text with half a character (a lone surrogate, which UTF-8 cannot encode), when
    it is enriched, then it is enriched like the text without it."""
    pipeline = default_pipeline()
    broken, whole = pipeline.enrich([Document("好的\ud800东西"), Document("好的东西")])

    assert broken.tokens == whole.tokens
    assert broken.sentiment == whole.sentiment
