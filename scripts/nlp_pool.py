"""Build the pool of public Chinese social-media texts to label (issue #17, part 1).

Reads the sources below (the shared data and git snapshots of public repositories),
keeps what the rubric can label (Chinese, 6 to 500 characters after trimming),
deduplicates on the normalised text, mixes the sources with a fixed seed and writes
``data/nlp-pool/chunk-NNN.jsonl`` (300 texts each). Every row names its source
(repository, path, licence as stated by the repository). A second run over the same
inputs writes the same files.

    python scripts/nlp_pool.py --shared ../shared/data --mirrors /work/.mirror

The chunks of labeller "i" (070 on: car-forum comments of the CCF BDCI 2018 contest's public
test set, then Baidu Zhidao questions of LCQMC not drawn before) are added on their own, drawn
against the texts of the chunk files already in ``--output`` (so only the mirrors of their two
sources are needed: Losstie/DF-car_theme_emotionRecognition, terrifyzhao/tf2-bert), writing
only those chunks:

    python scripts/nlp_pool.py --chunks-070 --mirrors /work/.mirror

The chunks of labeller "j" (080 on: general Weibo posts of SMP2020-EWECT's training file that
want, ask or are ordinary) are added the same way, from the mirror of Tom-HG/smp2020 alone:

    python scripts/nlp_pool.py --chunks-080 --mirrors /work/.mirror

The chunks of labeller "k" (082 on: the posts of a city government's Weibo account with its
profile, chosen near consumption first, then Weibo posts of the weibo_senti_100k set near buying
and selling first) are added the same way, from the mirrors of tanghsh5/weiboSpider and
forever1986/bert_task alone:

    python scripts/nlp_pool.py --chunks-082 --mirrors /work/.mirror

The chunks of labeller "l" (084 on: customers' own turns in Taobao shops' customer-service chats,
from the sample files of the E-commerce Dialogue Corpus, then in JD.com's from a JDDC sample) are
added the same way, from the mirrors of cooelf/DeepUtteranceAggregation and
EndlessLethe/jddc2019-3th-retrieve-model alone:

    python scripts/nlp_pool.py --chunks-084 --mirrors /work/.mirror

The held-out sets of the issue (dengxiuqi/weibo2018 ``test.txt``, SophonPlus waimai_10k and
ChnSentiCorp_htl_all, the crawler outputs of HolyCaonima/, azanghai/ and weiss0106/
weibo-crawler) are never read.

The sixteenth batch (chunks 062 on) can be added without the mirrors of the earlier batches:

    python scripts/nlp_pool.py --only-sixteenth --mirrors /work/.mirror

reads the texts of the chunk files already in ``--output``, draws the sixteenth batch against
them (the same texts a whole run would have in its chunks before it) and writes only its own
chunks; it needs the mirrors of its two sources alone.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import random
import re
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

CHUNK = 300
MAX_CHARS = 500
MIN_CHARS = 6
HAN = re.compile(r"[\u4e00-\u9fff]")
# Words that put a Weibo post near shopping, brands, prices or services. Used only to choose
# a second batch of posts so that the journey stages and marketer posts are not starved;
# every post is still labelled by reading it.
CONSUMER_WORDS = (
    "买",
    "店",
    "推荐",
    "价格",
    "元",
    "用了",
    "好用",
    "质量",
    "快递",
    "下单",
    "品牌",
    "新品",
    "优惠",
    "包邮",
    "代购",
    "购",
    "试用",
    "种草",
    "口红",
    "手机",
    "衣服",
    "餐厅",
    "好吃",
    "外卖",
    "酒店",
    "淘宝",
    "京东",
    "天猫",
    "预售",
    "抽奖",
    "链接",
    "客服",
    "退",
    "产品",
    "专柜",
    "面膜",
    "护肤",
    "官方",
    "旗舰",
    "上市",
    "发布会",
    "售",
    "团",
    "门票",
    "会员",
    "充值",
)
# Douyin comments that weigh the driverless taxi against other ways to travel, or speak of
# its price or a ride: chosen for the thin stages (evaluation, purchase, post-purchase).
CHOICE_WORDS = ("宁愿", "宁可", "还是", "不如", "选择", "比", "坐过", "体验", "便宜", "贵", "价格")
# Keyword-search Weibo posts by accounts with at least this many followers: media,
# organisations and brands, so that public and marketer voices are not starved.
WIDE_REACH = 10_000
# Xiaohongshu comments that ask (how to join, where, how much) or answer with a link or a
# sign-up: for information search and for sellers' replies.
ASKING = re.compile(r"[?？吗]|怎么|哪|多少|链接|报名|求")
# Douyin comments that state a choice of ride (would or would not ride it, whichever is
# cheaper, rather than): for evaluation, the thinnest stage.
CHOOSING = re.compile(
    r"选|宁愿|宁可|不如|谁便宜|比.{0,8}(便宜|贵|安全|方便|舒服|快)|坐过|体验过|打过|试过|我会坐|不会坐|不坐|我坐"
)
# Car-forum comments that weigh models or trims, ask before buying, or speak of a deal, a
# price or a car just collected: for evaluation, information search, purchase and need.
CAR_CUES = re.compile(
    r"比|还是|选|不如|对比|纠结|考虑|要不要|值不值|值得|性价比|哪个|哪款|推荐|请问|求|[?？]|吗"
    r"|提车|订车|定车|落地|优惠|裸车|首付|贷款|定金|下订|报价|想买|打算|准备买|想换|换车|看上"
)
# Douyin and car-forum comments that want something or ask before buying: for need
# recognition and information search, the two thinnest stages after the seventh batch.
WANTING = re.compile(
    r"想坐|想试|想体验|想去|想买|想要|想换|想入|打算|准备买|准备入手|换车|看上|预算|第一辆"
    r"|首车|考虑买|哪里|在哪|怎么|多少钱|能坐|可以坐|什么时候|求|请问|[?？]|吗"
)
# Questions of every source left that ask which one is good or ask for a recommendation
# (哪个…好, 哪家…靠谱, 推荐一下): for information search.
WHICH_IS_GOOD = re.compile(
    r"哪(个|家|里|款|种|位|所|些).{0,10}(好|靠谱|推荐|便宜|划算|合适|值)|求推荐|有推荐|推荐一下|推荐个|推荐下"
)
# Weibo posts of the NLPCC 2016 stance task (one phone launch and four public debates) and
# forum posts that want something, before any search, or ask before buying: for need
# recognition and information search, in other kinds of text than the sign-up questions and
# the car forum. Wanting is looked for first, asking second; ordinary posts are drawn too.
WANTS = re.compile(
    r"想买|想要|好想|想换|该换|要换|准备换|打算换|打算买|准备买|种草|入手|剁手|换手机|想入|心动"
    r"|眼馋|买不起|攒钱|存钱|等.{0,4}(出|上市|降价)"
)
ASKS = re.compile(r"[?？]|吗|哪个|哪款|怎么样|值得|值不值|多少钱|推荐|请问|有没有|还是|什么时候")
# Words that put a post on one of the four debates near a purchase (fireworks, an e-bike or a
# car, a child's needs).
BUYING = re.compile(r"买|价格|多少钱|元|卖|店|奶粉|学区|车")
# Forum posts (2005 BBS boards, mostly about relationships and campus life) that speak of
# buying something or of a brand, a shop or a price.
SHOPPING_TALK = re.compile(r"买|价格|多少钱|元|牌子|品牌|哪里有|商场|专卖|推荐")
SPACES = re.compile(r"\s+")

WEIBO2018 = {
    "repository": "dengxiuqi/weibo2018",
    "licence": "no licence stated",
}
SHOPPING = {
    "repository": "SophonPlus/ChineseNlpCorpus",
    "path": "datasets/online_shopping_10_cats/online_shopping_10_cats.csv",
    "licence": "no licence stated",
}
BELT_ROAD = {
    "repository": "YuxinDu2003/weibo-crawler-and-visualization",
    "commit": "1bb4394e57746a6480f50fc28325cbad66749878",
    "licence": "no licence stated",
}
DOUYIN = {
    "repository": (
        "2334512761w/Analysis-of-Autonomous-Driving-Satisfaction-Based-on-Douyin-Comments"
    ),
    "path": "Comments.csv",
    "licence": "no licence stated",
}
TREC = {
    "repository": "mire403/Spam-Message-Classification-System",
    "licence": "no licence stated (TREC 2006 Chinese spam corpus, ham from BBS forums)",
}
CAR_FORUM = {
    "repository": "shawnco411/ccf_bigdata",
    "path": "venv/train.csv",
    "commit": "0f9018f190771542c6bb694cd9a6d75ac57ef8d6",
    "licence": (
        "GPL-3.0 (the repository's; car-forum comments of the CCF BDCI 2018 contest's training set)"
    ),
}
STANCE = {
    "repository": "jacoxu/2016NLPCC_Stance_Detection",
    "commit": "185c76329ec77be974d21e6259696d2c1d84b871",
    "licence": "no licence stated (NLPCC 2016 shared task: Weibo posts on five targets)",
}
EPIDEMIC = {
    "repository": "gaowenxin95/le_topic_model",
    "path": "data/nCov_10k_test.csv",
    "commit": "e09fdb3e131e5297a2ce4c2cc147be02c33bff29",
    "licence": (
        "CC0-1.0 (the repository's; Weibo posts of January-February 2020, the test set of the "
        "DataFountain epidemic-sentiment contest)"
    ),
}
SMP2020 = {
    "repository": "BrownSweater/BERT_SMP2020-EWECT",
    "commit": "e928cec001824668999ed02326aacbea0d369563",
    "licence": (
        "no licence stated (SMP2020-EWECT, the evaluation's general Weibo posts of every topic: "
        "its labelled validation and test files)"
    ),
}
SMP2020_EPIDEMIC = {
    **SMP2020,
    "licence": (
        "no licence stated (SMP2020-EWECT, the evaluation's epidemic Weibo posts of "
        "January-February 2020: its training, validation and test files)"
    ),
}
SHOP_SMS = {
    "repository": "gaowenxin95/le_topic_model",
    "path": "data/message.txt",
    "commit": "e09fdb3e131e5297a2ce4c2cc147be02c33bff29",
    "licence": (
        "CC0-1.0 (the repository's; text messages, the spam ones sent by shops and services)"
    ),
}
ZHIDAO = {
    "repository": "terrifyzhao/tf2-bert",
    "commit": "23dae92c66c2c9241ec2c36cb5b42b8652d5b4e4",
    "licence": (
        "Apache-2.0 (the repository's; the questions are LCQMC's, Baidu Zhidao users' questions "
        "collected by HIT Shenzhen for research)"
    ),
}
GUANGXI_NOTES = {
    "repository": "bushitan/ai_server",
    "commit": "804e4725aca63630143335109f3c74cc03ee5780",
    "licence": (
        "no licence stated (Xiaohongshu notes of 2016-2018 on travel in Guangxi and food in "
        "Nanning, each with up to two of its comments)"
    ),
}
HOTEL_NOTES = {
    "repository": "luochen211/RedNote-Radar",
    "path": "research/prediction-pipeline/text_image_features/data1.csv",
    "commit": "6e30fd8b4c43c6d9da04b7b185f9606790eec9ab",
    "licence": (
        "no licence stated (Xiaohongshu notes of 2024 posted by the official accounts of luxury "
        "hotels in China, with each account's name, description and followers)"
    ),
}
BRAND_NOTES = {
    "repository": "Zoe-juwubafff/Python-XHS-CrawlerAndEmoANAL",
    "path": "话题笔记数据.csv",
    "commit": "4393bebb72392e7aaaefabb8250bdf5d092341cf",
    "licence": (
        "no licence stated (Xiaohongshu notes of 2024 found by searching three brand names: "
        "美团, 百度, 腾讯)"
    ),
}
XHS = {
    "repository": "njueeRay/MediaCrawler",
    "commit": "9783b0186a7a49267956add0739e513ad6fa12c8",
    "licence": "NON-COMMERCIAL LEARNING LICENSE 1.1 (the crawler's; the texts are users' posts)",
}
# The fifteenth batch: Weibo posts joined to their authors' profiles (verified_type, and where
# the source has them the verification reason, description, name and followers). Helper
# labels-g's batch, written from chunk 060 on (chunks 040-059 are left to the fourteenth).
FIFTEENTH_FIRST_CHUNK = 60
CED = {
    "repository": "thunlp/Chinese_Rumor_Dataset",
    "commit": "c1178d8cfd4c245c296889a51fc252b17c9037c5",
    "licence": (
        "no licence stated (CED: original Weibo posts reported to the rumour platform and "
        "non-rumour posts, 2012-2014, each with its author's verified_type and followers)"
    ),
}
CRAWLER_PROFILES = (
    {
        "repository": "flottant/weibo-crawler",
        "commit": "1fa3edd7d8bf64611eb2b1321745b92f4fb82701",
        "licence": "no licence stated (a weibo-crawler run: one account's posts and users.csv)",
    },
    {
        "repository": "xiaofeiwuuu/pachong",
        "commit": "c28a015879f91cc27c9e1e8ff6200a3420807ccc",
        "licence": "no licence stated (a saved m.weibo.cn timeline response with its user)",
    },
    {
        "repository": "BlueHtml/weibo-backup",
        "commit": "1d6ce726830720c5c8999f43e50f0615aa45103b",
        "licence": "no licence stated (a weibo-crawler JSON backup: one account's posts)",
    },
)


def _clean(text: str) -> str:
    return SPACES.sub(" ", text).strip()


def _mirror_repo(mirror: Path, repository: str) -> Path:
    """The git snapshot of ``repository`` ("owner/name") under ``mirror``; stops with what to
    do when it is not there."""
    repo = mirror / repository.replace("/", "+") / "repo"
    if not repo.exists():
        raise SystemExit(
            f"no mirror of {repository} at {repo}: fetch it (a git snapshot of the public "
            "repository) or give its parent directory with --mirrors"
        )
    return repo


def _git_show(repo: Path, commit: str, path: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(repo), "show", f"{commit}:{path}"], check=True, capture_output=True
    ).stdout


def _followers(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if value.endswith("万"):
        return int(float(value[:-1]) * 10_000)
    return int(float(value)) if re.fullmatch(r"\d+(\.\d+)?", value) else None


def weibo2018(shared: Path) -> Iterator[dict[str, Any]]:
    """The Weibo training posts and the six topic files (``mid,label,text``)."""
    files = [("sentiment/weibo2018_train.txt", "train.txt")]
    files += [
        (f"weibo_topics/{p.name}", f"topics/{p.name}")
        for p in sorted((shared / "weibo_topics").glob("*.txt"))
    ]
    for local, upstream in files:
        for line in (shared / local).read_text("utf-8").splitlines():
            parts = line.split(",", 2)
            if len(parts) == 3:
                yield {
                    "text": parts[2],
                    "platform": "weibo",
                    "source": {**WEIBO2018, "path": upstream},
                }


def shopping(shared: Path, per_category: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    """Product reviews from nine shopping categories, ``per_category`` of each."""
    by_cat: dict[str, list[str]] = {}
    with (shared / "sentiment" / "online_shopping_9_cats.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_cat.setdefault(row["cat"], []).append(row["review"])
    for cat in sorted(by_cat):
        for text in rng.sample(by_cat[cat], min(per_category, len(by_cat[cat]))):
            yield {"text": text, "platform": "review", "source": {**SHOPPING, "category": cat}}


def belt_road(mirror: Path) -> Iterator[dict[str, Any]]:
    """Weibo posts found by keyword (author name and followers) and one news account's posts."""
    repo = mirror / "YuxinDu2003+weibo-crawler-and-visualization" / "repo"
    commit = BELT_ROAD["commit"]
    names = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", "--name-only", commit, "data/"],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    for path in sorted(n for n in names.split("\0") if n.endswith(".csv")):
        rows = csv.DictReader(io.StringIO(_git_show(repo, commit, path).decode("utf-8-sig")))
        official = "official" in path
        for row in rows:
            text = row.get("微博内容") or ""
            item: dict[str, Any] = {
                "text": text,
                "platform": "weibo",
                "source": {**BELT_ROAD, "path": path},
            }
            if official:
                item["author_name"] = "中国一带一路网"
            else:
                item["author_name"] = row.get("微博作者") or None
                item["followers"] = _followers(row.get("粉丝数") or "")
            yield item


def douyin(mirror: Path) -> Iterator[dict[str, Any]]:
    """Douyin comments under videos about driverless taxis (GBK CSV)."""
    repo = mirror / (DOUYIN["repository"].replace("/", "+")) / "repo"
    data = _git_show(repo, "HEAD", DOUYIN["path"]).decode("gbk", errors="replace")
    for row in csv.DictReader(io.StringIO(data)):
        text = (row.get("评论") or "").lstrip(": ")
        yield {
            "text": text,
            "platform": "douyin",
            "author_name": row.get("昵称") or None,
            "source": dict(DOUYIN),
        }


def xiaohongshu(mirror: Path) -> Iterator[dict[str, Any]]:
    """Xiaohongshu notes (title and text) and their comments, from a MediaCrawler run."""
    repo = mirror / "njueeRay+MediaCrawler" / "repo"
    commit = XHS["commit"]
    notes_path = "data/xhs/json/search_contents_2025-09-05.json"
    for note in json.loads(_git_show(repo, commit, notes_path)):
        text = f"{note.get('title') or ''} {note.get('desc') or ''}"
        yield {
            "text": text,
            "platform": "xiaohongshu",
            "author_name": note.get("nickname") or None,
            "source": {**XHS, "path": notes_path},
        }
    comments_path = "data/xhs/json/search_comments_2025-09-05.json"
    for comment in json.loads(_git_show(repo, commit, comments_path)):
        yield {
            "text": comment.get("content") or "",
            "platform": "xiaohongshu",
            "author_name": comment.get("nickname") or None,
            "source": {**XHS, "path": comments_path},
        }


def car_forum(mirror: Path) -> Iterator[dict[str, Any]]:
    """Car-forum comments (owners and buyers of one make), one row per comment and aspect."""
    repo = mirror / "shawnco411+ccf_bigdata" / "repo"
    data = _git_show(repo, CAR_FORUM["commit"], CAR_FORUM["path"]).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        yield {"text": row.get("content") or "", "platform": "forum", "source": dict(CAR_FORUM)}


def stance_weibo(mirror: Path) -> Iterator[dict[str, Any]]:
    """Weibo posts of the NLPCC 2016 stance task: labelled, unlabelled and test files, whose
    targets are the iPhone SE launch and four public debates (fireworks at the Spring
    Festival, Shenzhen's e-bike ban, the second-child policy, Russia in Syria)."""
    repo = mirror / "jacoxu+2016NLPCC_Stance_Detection" / "repo"
    for path in (
        "data/evasampledata4-TaskAA.txt",
        "data/evasampledata4-TaskAR.txt",
        "data/NLPCC2016_Stance_Detection_Task_A_Testdata.txt",
    ):
        lines = _git_show(repo, STANCE["commit"], path).decode("utf-8-sig").splitlines()
        for line in lines[1:]:
            parts = line.split("\t")
            if len(parts) >= 3:
                target = "iPhone SE" if "phone" in parts[1].lower() else parts[1]
                yield {
                    "text": parts[2],
                    "platform": "weibo",
                    "source": {**STANCE, "path": path, "target": target},
                }


def epidemic_weibo(mirror: Path) -> Iterator[dict[str, Any]]:
    """Weibo posts of the first weeks of the 2020 epidemic (GB18030 CSV): masks, sanitiser,
    medicine and food bought, wanted, asked about and sold, among the news and the feelings."""
    repo = mirror / "gaowenxin95+le_topic_model" / "repo"
    data = _git_show(repo, EPIDEMIC["commit"], EPIDEMIC["path"]).decode("gb18030", "replace")
    for row in csv.DictReader(io.StringIO(data)):
        yield {
            "text": row.get("微博中文内容") or "",
            "platform": "weibo",
            "author_name": row.get("发布人账号") or None,
            "source": dict(EPIDEMIC),
        }


def _admit(items: list[dict[str, Any]], seen: set[str]) -> list[dict[str, Any]]:
    """The items worth labelling, trimmed, each with its id; ``seen`` deduplicates."""
    admitted: list[dict[str, Any]] = []
    for item in items:
        text = _clean(item["text"])
        if len(text) > MAX_CHARS:
            text = text[:MAX_CHARS]
            item["truncated"] = True
        key = re.sub(r"\W", "", text)
        if len(HAN.findall(text)) < MIN_CHARS or key in seen:
            continue
        seen.add(key)
        item["text"] = text
        admitted.append({"id": hashlib.md5(text.encode("utf-8")).hexdigest()[:12], **item})
    return admitted


def spam_and_forum(mirror: Path) -> Iterator[dict[str, Any]]:
    """Unsolicited advertising e-mails (marketer voices) and forum posts (one a line)."""
    repo = mirror / "mire403+Spam-Message-Classification-System" / "repo"
    for name, platform in (("spam_data.txt", "email"), ("ham_data.txt", "forum")):
        path = f"ham_spam/示例data/{name}"
        for line in _git_show(repo, "HEAD", path).decode("utf-8", errors="replace").splitlines():
            yield {"text": line, "platform": platform, "source": {**TREC, "path": path}}


def fourth_batch(
    comments: list[dict[str, Any]],
    keyword: list[dict[str, Any]],
    sizes: tuple[int, int],
    rng: random.Random,
    seen: set[str],
) -> list[dict[str, Any]]:
    """Douyin comments weighing options or speaking of price and rides, and keyword-search
    Weibo posts by wide-reach accounts: for the thin classes (labelled by reading)."""
    choice = [c for c in comments if any(w in c["text"] for w in CHOICE_WORDS)]
    wide = [k for k in keyword if (k.get("followers") or 0) >= WIDE_REACH]
    batch = _admit(rng.sample(choice, min(sizes[0], len(choice))), seen)
    batch += _admit(rng.sample(wide, min(sizes[1], len(wide))), seen)
    rng.shuffle(batch)
    return batch


def fifth_batch(
    trec: list[dict[str, Any]],
    comments: list[dict[str, Any]],
    args: argparse.Namespace,
    rng: random.Random,
    seen: set[str],
) -> list[dict[str, Any]]:
    """More advertising e-mails (marketer voices, offers to buy) and Xiaohongshu comments that
    ask or answer: for the thin classes (marketer, purchase, information search)."""
    spam = [t for t in trec if t["platform"] == "email"]
    asking = [c for c in comments if ASKING.search(c["text"])]
    # Admitted before counting: most of these sources are already in the earlier batches.
    batch = _admit(rng.sample(spam, len(spam)), seen)[: args.spam_rest]
    batch += _admit(rng.sample(asking, len(asking)), seen)[: args.xhs_asking]
    rng.shuffle(batch)
    return batch


def wider_batches(
    args: argparse.Namespace,
    rng: random.Random,
    seen: set[str],
    earlier: list[dict[str, Any]],
    social: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The seventh to ninth batches, for the thin stages: car-forum comments that weigh, ask,
    buy or want (a wider source than the Douyin taxi comments and the Xiaohongshu sign-up
    questions); the Douyin and car-forum comments left that want something or ask; the
    questions left, in every source, that ask which one is good."""
    cars = list(car_forum(args.mirrors))
    comments = [item for item in social if item["platform"] == "douyin"]
    cued = [c for c in cars if CAR_CUES.search(c["text"])]
    seventh = _admit(rng.sample(cued, len(cued)), seen)[: args.car_forum]
    eighth = []
    for source in (comments, cars):
        wanting = [c for c in source if WANTING.search(c["text"])]
        eighth += _admit(rng.sample(wanting, len(wanting)), seen)[: args.wanting]
    rng.shuffle(eighth)
    # Against the texts in the chunks, not `seen`: the batches cut at their size saw more.
    pooled = {re.sub(r"\W", "", item["text"]) for item in earlier + seventh + eighth}
    ninth = _admit([item for item in social + cars if WHICH_IS_GOOD.search(item["text"])], pooled)
    return seventh, eighth, ninth


def tenth_batch(
    args: argparse.Namespace,
    rng: random.Random,
    pooled: set[str],
    forum: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Weibo posts about a phone launch that want it or ask about it, posts on the four
    debates that speak of buying, forum posts that want or ask, and ordinary posts of the
    same Weibo source (negatives): for need recognition and information search."""
    # The task's files repeat posts with another short link or a cut "...展开全文c": one of each.
    unique: dict[str, dict[str, Any]] = {}
    for post in stance_weibo(args.mirrors):
        key = re.sub(r"http\S+|展开全文c?|\W", "", post["text"])[:60]
        unique.setdefault(key, post)
    posts = list(unique.values())
    rng.shuffle(posts)
    phone = [p for p in posts if p["source"]["target"] == "iPhone SE"]
    debates = [p for p in posts if p["source"]["target"] != "iPhone SE"]
    batch = _admit([p for p in phone if WANTS.search(p["text"])], pooled)[: args.phone_wanting]
    asking = [p for p in phone if ASKS.search(p["text"]) and not WANTS.search(p["text"])]
    batch += _admit(asking, pooled)[: args.phone_asking]
    buying = [p for p in debates if WANTS.search(p["text"]) or BUYING.search(p["text"])]
    batch += _admit(buying, pooled)[: args.debates_buying]
    batch += _admit(posts, pooled)[: args.stance_ordinary]
    forum = [f for f in forum if SHOPPING_TALK.search(f["text"])]
    batch += _admit(rng.sample(forum, len(forum)), pooled)[: args.forum_asking]
    rng.shuffle(batch)
    return batch


# Phone posts that ask before buying, in so many words (how good, which one, worth it,
# recommend): the eleventh batch, drawn after the tenth left most wanting posts labelled
# `none` or `evaluation`.
ASKS_BEFORE_BUYING = re.compile(
    r"怎么样|求推荐|推荐一下|哪个|哪款|值得买|值不值|值得入手|好不好|要不要|能买吗|可以买吗|买吗|入手吗|好用吗"
)


def eleventh_batch(
    args: argparse.Namespace, rng: random.Random, pooled: set[str]
) -> list[dict[str, Any]]:
    """The phone posts left that want a phone, then those that ask before buying one."""
    unique: dict[str, dict[str, Any]] = {}
    for post in stance_weibo(args.mirrors):
        key = re.sub(r"http\S+|展开全文c?|\W", "", post["text"])[:60]
        unique.setdefault(key, post)
    phone = [p for p in unique.values() if p["source"]["target"] == "iPhone SE"]
    rng.shuffle(phone)
    batch = _admit([p for p in phone if WANTS.search(p["text"])], pooled)
    batch += _admit([p for p in phone if ASKS_BEFORE_BUYING.search(p["text"])], pooled)
    batch = batch[: args.phone_more]
    rng.shuffle(batch)
    return batch


def later_batches(
    args: argparse.Namespace,
    rng: random.Random,
    in_chunks: set[str],
    trec: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The tenth to twelfth batches, each against the texts already in the chunks (the
    tenth batch's draws admit every stance post they look at, so the eleventh needs the
    texts actually kept)."""
    forum = [t for t in trec if t["platform"] == "forum"]
    tenth = tenth_batch(args, rng, set(in_chunks), forum)
    kept = in_chunks | {re.sub(r"\W", "", item["text"]) for item in tenth}
    eleventh = eleventh_batch(args, rng, kept)
    kept |= {re.sub(r"\W", "", item["text"]) for item in eleventh}
    return tenth, eleventh, twelfth_batch(args, rng, kept)


# Epidemic posts that cannot find something to buy or ask where to buy it, sellers' short
# offers (a price in 【】, a coupon, in stock), and posts that ask about shopping.
CANNOT_FIND = re.compile(
    r"买不到|抢不到|没有卖|没得卖|囤|求购|想买|准备买|打算买|哪里(能|可以|有)?(买|卖)|在哪(里|儿)?(能)?买"
    r"|有没有.{0,6}(卖|买)|去哪(里|儿)?买"
)
SELLING = re.compile(r"【\d+(\.\d+)?】|券后|现货|包邮|领券|拍下|秒杀|\d+(\.\d+)?元")
SHOP_TALK = re.compile(r"口罩|消毒|酒精|买|购|外卖|快递|淘宝|京东|药店|超市|商家|价格")


def twelfth_batch(
    args: argparse.Namespace, rng: random.Random, in_chunks: set[str]
) -> list[dict[str, Any]]:
    """Epidemic Weibo posts: wanting what cannot be found or asking where to buy it, sellers'
    offers, questions about shopping, and ordinary posts (negatives)."""
    posts = list(epidemic_weibo(args.mirrors))
    rng.shuffle(posts)
    seen = set(in_chunks)
    batch = _admit([p for p in posts if CANNOT_FIND.search(p["text"])], seen)[: args.epidemic]
    selling = [p for p in posts if SELLING.search(p["text"]) and SHOP_TALK.search(p["text"])]
    batch += _admit(selling, seen)[: args.epidemic_selling]
    asking = [p for p in posts if ASKS.search(p["text"]) and SHOP_TALK.search(p["text"])]
    batch += _admit(asking, seen)[: args.epidemic_asking]
    batch += _admit(posts, seen)[: args.epidemic_ordinary]
    rng.shuffle(batch)
    return batch


def smp2020_weibo(mirror: Path) -> Iterator[dict[str, Any]]:
    """General Weibo posts of the SMP2020-EWECT evaluation (every topic of daily life, not one
    event): its validation and test files, JSON lists of ``{"id", "content", "label"}``."""
    repo = mirror / "BrownSweater+BERT_SMP2020-EWECT" / "repo"
    for path in ("data/raw/usual_eval_labeled.txt", "data/raw/usual_test_labeled.txt"):
        for row in json.loads(_git_show(repo, SMP2020["commit"], path)):
            yield {
                "text": row.get("content") or "",
                "platform": "weibo",
                "source": {**SMP2020, "path": path},
            }


def shop_messages(mirror: Path) -> Iterator[dict[str, Any]]:
    """Text messages marked as spam (``id<TAB>1<TAB>text``): shops, salons, restaurants, schools,
    estate agents and banks advertising to their customers, digits masked as x."""
    repo = mirror / "gaowenxin95+le_topic_model" / "repo"
    data = _git_show(repo, SHOP_SMS["commit"], SHOP_SMS["path"]).decode("utf-8")
    for line in data.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[1] == "1":
            yield {"text": parts[2], "platform": "sms", "source": dict(SHOP_SMS)}


def zhidao_questions(mirror: Path) -> Iterator[dict[str, Any]]:
    """Baidu Zhidao users' questions: both questions of every pair in LCQMC's validation and
    test files (``sentence1,sentence2,label``), every topic a search box sees."""
    repo = mirror / "terrifyzhao+tf2-bert" / "repo"
    for path in ("data/LCQMC/LCQMC_dev.csv", "data/LCQMC/LCQMC_test.csv"):
        data = _git_show(repo, ZHIDAO["commit"], path).decode("utf-8-sig")
        for row in csv.DictReader(io.StringIO(data)):
            for column in ("sentence1", "sentence2"):
                yield {
                    "text": row.get(column) or "",
                    "platform": "qa",
                    "source": {**ZHIDAO, "path": path},
                }


# The thirteenth batch, for need recognition and information search from sources and topics
# not drawn before (food, travel, clothes, cosmetics, gadgets, homes, services): wanting before
# any search (a craving, 想买, 种草, 缺一个, 该换…), then asking (求推荐, 有没有人用过, 哪里买,
# 多少钱, 好用吗, 怎么选…).
WANTS_ANY = re.compile(
    r"好想要|想要(一|个|件|台|双|只|套|部|辆)|想买|想入|想换|该换|种草|拔草|眼馋|嘴馋|好馋|馋了|馋死"
    r"|缺(一|个|件|台)|剁手|攒钱|买不起|想吃|想喝|好想去|想去.{0,8}(玩|旅游|旅行|吃|看|逛)|想养|想放"
)
ASKS_ANY = re.compile(
    r"求推荐|推荐一下|推荐个|推荐下|有推荐|有没有人(用过|买过|吃过|去过|知道)|有人(用过|买过|吃过|去过)"
    r"|哪里(能|可以|有)?(买|卖|吃|修|配|租|学)|哪儿(能|有)?(买|卖)|在哪(里|儿)?(买|配|修|租)|多少钱"
    r"|好用吗|好吃吗|值得买|值得入|哪家.{0,6}(好|靠谱)|哪个牌子|什么牌子|哪款|怎么选|选哪|靠谱吗"
    r"|贵不贵|有什么好(用|吃|玩|看)的"
)
# Weibo emoticons are left out of the match ([馋嘴] says nothing of wanting).
EMOTICON = re.compile(r"\[[^\]]{1,8}\]")


def _cued(pattern: re.Pattern[str], item: dict[str, Any]) -> bool:
    return bool(pattern.search(EMOTICON.sub("", item["text"])))


# Forum posts that ask for help with a purchase or a service (a shop, a price, a clinic, papers).
FORUM_ASKS = re.compile(r"请问|请教|求助|有没有|哪里|哪儿|谁知道|多少钱")
FORUM_GOODS = re.compile(r"买|卖|价|钱|店|牌子|商场|医院|手续|租|订|公司|哪里有")


# Zhidao questions asked before buying a product or a service (which brand, where to buy, how
# much, which one is good, what to give); questions about books, films, games and names are
# left to the ordinary draw.
BUYING_QUESTION = re.compile(
    r"什么牌子|哪个牌子|哪(个|款|家|种|里).{0,8}(好|好用|好吃|靠谱|划算|便宜)|哪里(能|可以|有)?(买|卖)"
    r"|在哪(里|儿)?买|去哪(里|儿)?买|多少钱|价格|推荐|好用吗|好不好用|值得买|值不值|效果.{0,4}(好|怎么样)"
    r"|送.{0,8}礼物|想买|买什么|买哪"
)
NOT_A_PURCHASE = re.compile(
    r"小说|漫画|电影|电视剧|动漫|游戏|网名|名字|诗|成语|作文|大学|学院|专业|歌"
)


def smp2020_epidemic(mirror: Path) -> Iterator[dict[str, Any]]:
    """Weibo posts of SMP2020-EWECT's epidemic set (January-February 2020): its training,
    validation and test files."""
    repo = mirror / "BrownSweater+BERT_SMP2020-EWECT" / "repo"
    for path in (
        "data/raw/virus_train.txt",
        "data/raw/virus_eval_labeled.txt",
        "data/raw/virus_test_labeled.txt",
    ):
        for row in json.loads(_git_show(repo, SMP2020["commit"], path)):
            yield {
                "text": row.get("content") or "",
                "platform": "weibo",
                "source": {**SMP2020_EPIDEMIC, "path": path},
            }


def zhidao_part(args: argparse.Namespace, in_chunks: set[str]) -> list[dict[str, Any]]:
    """The thirteenth batch's second part (a chunk of its own): Zhidao questions asked before
    buying, ordinary questions of the same files as negatives, and the epidemic posts of both
    sources left that want something (a meal out, a trip, a film, a thing to buy)."""
    rng = random.Random(1313)
    seen = set(in_chunks)
    questions = list(zhidao_questions(args.mirrors))
    rng.shuffle(questions)
    buying = [
        q
        for q in questions
        if BUYING_QUESTION.search(q["text"]) and not NOT_A_PURCHASE.search(q["text"])
    ]
    part = _admit(buying, seen)[: args.zhidao_buying]
    part += _admit(questions, seen)[: args.zhidao_ordinary]
    lockdown = list(smp2020_epidemic(args.mirrors)) + list(epidemic_weibo(args.mirrors))
    rng.shuffle(lockdown)
    wishes = [p for p in lockdown if _cued(WANTS_ANY, p) and not p["text"].startswith("//@")]
    part += _admit(wishes, seen)[: args.lockdown_wanting]
    rng.shuffle(part)
    return part


def thirteenth_batch(
    args: argparse.Namespace, in_chunks: set[str], trec: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Weibo posts of every topic that want something or ask before buying (SMP2020's general
    posts, the epidemic posts and the Weibo training posts not drawn), with ordinary SMP2020
    posts as negatives, shops' text messages, and forum posts that ask about a purchase."""
    rng = random.Random(13)  # its own seed, so that the earlier batches draw as before
    seen = set(in_chunks)
    smp = list(smp2020_weibo(args.mirrors))
    rng.shuffle(smp)
    batch = _admit([p for p in smp if _cued(WANTS_ANY, p)], seen)[: args.smp_wanting]
    asking = [p for p in smp if _cued(ASKS_ANY, p) and not _cued(WANTS_ANY, p)]
    batch += _admit(asking, seen)[: args.smp_asking]
    batch += _admit(smp, seen)[: args.smp_ordinary]
    others = list(epidemic_weibo(args.mirrors)) + [
        w for w in weibo2018(args.shared) if not w["source"]["path"].startswith("topics/")
    ]
    others += [p for p in stance_weibo(args.mirrors) if p["source"]["target"] != "iPhone SE"]
    rng.shuffle(others)
    wanting = _admit([p for p in others if _cued(WANTS_ANY, p)], seen)[: args.weibo_wanting]
    asking = [p for p in others if _cued(ASKS_ANY, p) and not _cued(WANTS_ANY, p)]
    batch += wanting + _admit(asking, seen)[: args.weibo_asking]
    batch += _admit(list(shop_messages(args.mirrors)), seen)[: args.shop_messages]
    forum = [
        f
        for f in trec
        if f["platform"] == "forum"
        and FORUM_ASKS.search(f["text"])
        and FORUM_GOODS.search(f["text"])
    ]
    rng.shuffle(forum)
    batch += _admit(forum, seen)[: args.forum_asking_more]
    rng.shuffle(batch)
    return batch


def thirteenth_parts(
    args: argparse.Namespace,
    in_chunks: set[str],
    later: list[dict[str, Any]],
    trec: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The thirteenth batch's two parts, each to start a chunk of its own (038, 039), drawn
    against the texts in the chunks before and in the tenth to twelfth batches (``later``)."""
    in_chunks = in_chunks | {re.sub(r"\W", "", item["text"]) for item in later}
    posts = thirteenth_batch(args, in_chunks, trec)
    kept = in_chunks | {re.sub(r"\W", "", item["text"]) for item in posts}
    return posts, zhidao_part(args, kept)


# The fourteenth batch (labeller "f"), for need recognition, information search and marketer
# voices on Xiaohongshu: notes by hotels' official accounts that sell a stay, a meal or an
# event (an offer with a price, a question put to the reader, a desire: 打卡, 周末去哪, 约会…),
# with ordinary notes of the same accounts; users' notes found by searching brand names; and
# users' comments under travel and food notes that want or ask before going or buying.
HOTEL_OFFER = re.compile(
    r"套餐|[¥￥]\s?\d|\d+\s?元|价格|预订|预定|抢购|限时|优惠|团购|秒杀|下单|立减|特惠|早鸟|售价|起价|折扣"
)
HOTEL_ASKS = re.compile(r"[?？]|吗")
HOTEL_WANTS = re.compile(r"想|种草|打卡|去哪|约会|心动|馋|安排上|值得|必吃|必去|攻略|推荐")
# Comments under the Guangxi notes that want (to go, to eat, to buy) or ask before going or
# buying (where, how much, what is it called, is it good, a link).
COMMENT_WANTS = re.compile(
    r"想去|想吃|想喝|想要|好想|馋|口水|种草|心动|想买|想住|想试|收藏了|码住|必须去|要去|打算去|准备去"
)
COMMENT_ASKS = re.compile(
    r"[?？]|吗|嘛|在哪|哪里|地址|多少钱|人均|价格|怎么去|叫什么|叫啥|求|请问|问一下|推荐|链接"
)
TOPIC_MARK = re.compile(r"\[话题\]")


XLSX = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The cells of an .xlsx workbook's first sheet as text, row by row (the standard library
    reads the zipped XML: shared strings, inline strings and plain values)."""
    book = zipfile.ZipFile(io.BytesIO(data))
    shared: list[str] = []
    if "xl/sharedStrings.xml" in book.namelist():
        strings = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
        shared = [
            "".join(t.text or "" for t in s.iter(f"{XLSX}t")) for s in strings.iter(f"{XLSX}si")
        ]
    rows = []
    for row in ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml")).iter(f"{XLSX}row"):
        cells: dict[int, str] = {}
        for cell in row.iter(f"{XLSX}c"):
            letters = re.match(r"[A-Z]+", cell.get("r") or "")
            if letters is None:
                continue
            column = 0
            for letter in letters.group():
                column = column * 26 + ord(letter) - ord("A") + 1
            value = cell.find(f"{XLSX}v")
            if cell.get("t") == "s" and value is not None and value.text is not None:
                cells[column - 1] = shared[int(value.text)]
            elif cell.get("t") == "inlineStr":
                cells[column - 1] = "".join(t.text or "" for t in cell.iter(f"{XLSX}t"))
            elif value is not None:
                cells[column - 1] = value.text or ""
        if cells:
            rows.append([cells.get(i, "") for i in range(max(cells) + 1)])
    return rows


def guangxi_notes(mirror: Path) -> Iterator[dict[str, Any]]:
    """Xiaohongshu notes on travel in Guangxi and food in Nanning (title and the text as
    crawled), then the comments kept with each note (up to two)."""
    repo = mirror / "bushitan+ai_server" / "repo"
    for path in ("spider/data_red/1.xlsx", "spider/data_red/2.xlsx"):
        rows = _xlsx_rows(_git_show(repo, GUANGXI_NOTES["commit"], path))
        header = next(i for i, row in enumerate(rows) if row and row[0] == "笔记名称")
        for row in rows[header + 1 :]:
            cells = row + [""] * (15 - len(row))
            yield {
                "text": f"{cells[0]} {cells[3]}",
                "platform": "xiaohongshu",
                "author_name": cells[1].strip() or None,
                "source": {**GUANGXI_NOTES, "path": path, "part": "note"},
            }
            for name, comment in ((cells[9], cells[11]), (cells[12], cells[14])):
                yield {
                    "text": comment,
                    "platform": "xiaohongshu",
                    "author_name": name.strip() or None,
                    "source": {**GUANGXI_NOTES, "path": path, "part": "comment"},
                }


def hotel_notes(mirror: Path) -> Iterator[dict[str, Any]]:
    """Xiaohongshu notes (title and text) by luxury hotels' official accounts, with the
    account's name, description and followers."""
    repo = mirror / "luochen211+RedNote-Radar" / "repo"
    data = _git_show(repo, HOTEL_NOTES["commit"], HOTEL_NOTES["path"]).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        text = TOPIC_MARK.sub("", f"{row.get('title') or ''} {row.get('text') or ''}")
        yield {
            "text": text,
            "platform": "xiaohongshu",
            "author_name": row.get("hotel_name") or None,
            "description": row.get("user_desc") or None,
            "followers": _followers(row.get("subscribers") or ""),
            "source": dict(HOTEL_NOTES),
        }


def brand_search_notes(mirror: Path) -> Iterator[dict[str, Any]]:
    """Xiaohongshu users' notes (title and text) found by searching 美团, 百度 and 腾讯."""
    repo = mirror / "Zoe-juwubafff+Python-XHS-CrawlerAndEmoANAL" / "repo"
    data = _git_show(repo, BRAND_NOTES["commit"], BRAND_NOTES["path"]).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        yield {
            "text": f"{row.get('笔记标题') or ''} {row.get('笔记内容') or ''}",
            "platform": "xiaohongshu",
            "author_name": row.get("用户名") or None,
            "source": {**BRAND_NOTES, "keyword": row.get("关键词") or ""},
        }


def fourteenth_batch(
    args: argparse.Namespace, in_chunks: set[str], later: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The fourteenth batch's three parts, each to start a chunk of its own (040-042): hotels'
    notes that make an offer, ask the reader or sell a desire, with ordinary notes of the same
    accounts; the users' notes found by brand name, all of them; then comments under the
    Guangxi travel and food notes that want or ask, with ordinary comments and notes. Drawn
    against the texts in the chunks before and in the tenth to thirteenth batches (``later``)."""
    rng = random.Random(1414)  # its own seed, so that the earlier batches draw as before
    seen = in_chunks | {re.sub(r"\W", "", item["text"]) for item in later}
    notes = list(hotel_notes(args.mirrors))
    rng.shuffle(notes)
    hotels = _admit([n for n in notes if HOTEL_OFFER.search(n["text"])], seen)[: args.hotel_offers]
    asking = [
        n for n in notes if HOTEL_ASKS.search(n["text"]) and not HOTEL_OFFER.search(n["text"])
    ]
    hotels += _admit(asking, seen)[: args.hotel_asking]
    wanting = [n for n in notes if HOTEL_WANTS.search(n["text"])]
    hotels += _admit(wanting, seen)[: args.hotel_wanting]
    hotels += _admit(notes, seen)[: args.hotel_ordinary]
    rng.shuffle(hotels)
    users = _admit(list(brand_search_notes(args.mirrors)), seen)
    rng.shuffle(users)
    guangxi = list(guangxi_notes(args.mirrors))
    rng.shuffle(guangxi)
    comments = [c for c in guangxi if c["source"]["part"] == "comment"]
    travel = _admit([c for c in comments if _cued(COMMENT_WANTS, c)], seen)[: args.xhs_wanting]
    plain = [c for c in comments if not _cued(COMMENT_WANTS, c)]
    travel += _admit([c for c in plain if _cued(COMMENT_ASKS, c)], seen)[: args.xhs_asking_more]
    travel += _admit(comments, seen)[: args.xhs_ordinary]
    notes = [n for n in guangxi if n["source"]["part"] == "note"]
    travel += _admit(notes, seen)[: args.guangxi_notes]
    rng.shuffle(travel)
    return hotels, users, travel


TAG = re.compile(r"<[^>]+>")


def _untagged(text: str) -> str:
    """A post's text without the HTML the Weibo mobile API wraps links and emoticons in."""
    text = re.sub(r'<img[^>]*alt="?(\[[^\]"]+\])"?[^>]*>', r"\1", text)
    return TAG.sub(" ", text.replace("<br />", " "))


def ced_posts(mirror: Path) -> Iterator[dict[str, Any]]:
    """The CED rumour set's original Weibo posts (rumours and non-rumours), each with its
    author's verified_type and followers as the source records them (the source has no
    author name, no verification reason, and only whether a description exists)."""
    repo = mirror / "thunlp+Chinese_Rumor_Dataset" / "repo"
    folder = "CED_Dataset/original-microblog/"
    names = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "-r", "-z", "--name-only", CED["commit"], folder],
        check=True,
        capture_output=True,
    ).stdout.decode("utf-8")
    for path in sorted(n for n in names.split("\0") if n.endswith(".json")):
        post = json.loads(_git_show(repo, CED["commit"], path))
        user = post.get("user")
        if not isinstance(user, dict):  # 87 posts carry no profile
            continue
        yield {
            "text": post.get("text") or "",
            "platform": "weibo",
            "verified_type": user.get("verified_type"),
            "followers": user.get("followers"),
            "source": {**CED, "path": folder, "file": path.removeprefix(folder)},
        }


def _profile(user: dict[str, Any]) -> dict[str, Any]:
    """The pool's author fields from a Weibo API user object, values as the source has them."""
    followers = user.get("followers_count")
    return {
        "author_name": user.get("screen_name") or None,
        "verified_type": user.get("verified_type"),
        "verified_reason": user.get("verified_reason") or None,
        "description": user.get("description") or None,
        "followers": _followers(followers) if isinstance(followers, str) else followers,
    }


def crawler_profile_posts(mirror: Path) -> Iterator[dict[str, Any]]:
    """Posts of three Weibo crawler outputs with their author's full profile: a weibo-crawler
    CSV joined to its users.csv, a saved m.weibo.cn timeline, a weibo-crawler JSON backup."""
    flottant, saved, backup = CRAWLER_PROFILES
    repo = mirror / "flottant+weibo-crawler" / "repo"
    users = {}
    data = _git_show(repo, flottant["commit"], "weibo/users.csv").decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        if row.get("用户id", "").isdigit():
            users[row["用户id"]] = {
                "author_name": row["昵称"] or None,
                "verified_type": int(row["认证类型"]),
                "verified_reason": row["认证信息"] or None,
                "description": row["简介"] or None,
                "followers": _followers(row["粉丝数"]),
            }
    path = "weibo/YIBO-OFFICIAL/7485885521.csv"
    data = _git_show(repo, flottant["commit"], path).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        if row.get("id", "").isdigit():
            yield {
                "text": row.get("正文") or "",
                "platform": "weibo",
                **users["7485885521"],
                "source": {**flottant, "path": path},
            }
    repo = mirror / "xiaofeiwuuu+pachong" / "repo"
    response = json.loads(_git_show(repo, saved["commit"], "js.json"))
    for card in response["data"]["cards"]:
        for item in [card, *card.get("card_group", [])]:
            if "mblog" in item:
                yield {
                    "text": _untagged(item["mblog"].get("text") or ""),
                    "platform": "weibo",
                    **_profile(item["mblog"]["user"]),
                    "source": {**saved, "path": "js.json"},
                }
    repo = mirror / "BlueHtml+weibo-backup" / "repo"
    path = "weibo/3229023683/3229023683.json"
    account = json.loads(_git_show(repo, backup["commit"], path))
    for post in account["weibo"]:
        yield {
            "text": _untagged(post.get("text") or ""),
            "platform": "weibo",
            **_profile(account["user"]),
            "source": {**backup, "path": path},
        }


# How many CED posts the fifteenth batch draws of each kind of author (verified_type): every
# organisation (government 1, enterprise 2, campus 4, website 5, app 6, other organisation 7),
# and samples of media (3), yellow-V individuals (0), members (200, 220) and unverified users.
CED_DRAW = {1: 30, 2: 60, 4: 10, 5: 40, 6: 5, 7: 25, 3: 50, 0: 40, 200: 5, 220: 10, -1: 20}
# Posts near buying, brands, prices or services come first within each kind.
CED_CONSUMER = re.compile(
    r"买|卖|店|价|元|品牌|商家|产品|质量|消费|购|广告|推广|优惠|促销|抽奖|转发.{0,6}送|官方|食品|超市|快递"
)


def fifteenth_batch(args: argparse.Namespace, in_chunks: set[str]) -> list[dict[str, Any]]:
    """Weibo posts with their authors' profiles: the three crawler outputs with a full profile,
    then CED posts by every kind of author (organisations, media, yellow-V individuals,
    members, ordinary users), near-buying posts first within each kind."""
    rng = random.Random(15)
    seen = set(in_chunks)
    batch = _admit(list(crawler_profile_posts(args.mirrors)), seen)
    ced = list(ced_posts(args.mirrors))
    rng.shuffle(ced)
    for kind, count in CED_DRAW.items():
        posts = [p for p in ced if p["verified_type"] == kind]
        near = [p for p in posts if CED_CONSUMER.search(p["text"])]
        batch += _admit(near + [p for p in posts if p not in near], seen)[:count]
    rng.shuffle(batch)
    return batch


def fifteenth_chunks(
    args: argparse.Namespace, pool: list[dict[str, Any]], chunks: list[list[dict[str, Any]]]
) -> list[tuple[int, list[dict[str, Any]]]]:
    """The chunks numbered from 1, then the fifteenth batch's from chunk 060 on, drawn against
    every text in the chunks before it (and added to ``pool``)."""
    fifteenth = fifteenth_batch(args, {re.sub(r"\W", "", item["text"]) for item in pool})
    pool += fifteenth
    return list(enumerate(chunks, start=1)) + [
        (FIFTEENTH_FIRST_CHUNK + start // CHUNK, fifteenth[start : start + CHUNK])
        for start in range(0, len(fifteenth), CHUNK)
    ]


# The sixteenth batch (chunks 062 on), for need recognition and information search in comments
# under products: Xiaohongshu comments under notes found by searching for children's sports
# underwear (parents asking where to buy, which size, which brand, or wanting it), with the
# notes' titles and authors (mothers and shops); and Douyin comments under videos of a new
# series of Pop Mart figures (fans wanting one, asking where to buy it, entering a giveaway).
SIXTEENTH_FIRST_CHUNK = 62
UNDERWEAR_NOTES = {
    "repository": "flyyang12-rgb/xhs_comments_Excel",
    "commit": "8f5aac121489a94577404880caeaa4662db0263f",
    "licence": (
        "no licence stated (Xiaohongshu notes of 2026 found by searching eight phrases for "
        "children's sports underwear, and their first-level comments)"
    ),
}
POP_MART = {
    "repository": "wangyixinxinyiwang/popmart_douyin_comment_analysis",
    "path": "data/douyin_popmart_comments.xlsx",
    "commit": "f4369542b53c78566efc4455a52ff3554fa3d03c",
    "licence": (
        "no licence stated (Douyin comments under videos of a new series of Pop Mart "
        "figures (Zsiga), with each commenter's name; the file's 1,000 rows generated from "
        "templates are left out)"
    ),
}


def underwear_notes(mirror: Path) -> Iterator[dict[str, Any]]:
    """Xiaohongshu notes found by searching for children's sports underwear (the title and the
    author; the crawl kept no note text), then their first-level comments (no author kept)."""
    repo = mirror / "flyyang12-rgb+xhs_comments_Excel" / "repo"
    commit = UNDERWEAR_NOTES["commit"]
    keywords: dict[str, str] = {}
    for row in _xlsx_rows(_git_show(repo, commit, "notes_raw.xlsx"))[1:]:
        cells = row + [""] * (10 - len(row))
        link = cells[4].split("?")[0]
        if link in keywords:  # a note found again by another search phrase is kept once
            continue
        keywords[link] = cells[2]
        yield {
            "text": cells[5],
            "platform": "xiaohongshu",
            "author_name": cells[6].strip() or None,
            "source": {**UNDERWEAR_NOTES, "path": "notes_raw.xlsx", "keyword": cells[2]},
        }
    for row in _xlsx_rows(_git_show(repo, commit, "comments_raw.xlsx"))[1:]:
        cells = row + [""] * (5 - len(row))
        yield {
            "text": cells[2],
            "platform": "xiaohongshu",
            "source": {
                **UNDERWEAR_NOTES,
                "path": "comments_raw.xlsx",
                "keyword": keywords.get(cells[0].split("?")[0], ""),
            },
        }


# The Pop Mart file mixes the real comments with 1,000 rows written from ten sentence templates
# over a list of style words (感觉…背后是…，但外表很…。, 整体给人的感觉就是…又…，非常…。): those
# are not anyone's comment and are left out.
_WORD = r"[^，。 ]{1,6}"
GENERATED = re.compile(
    "^(?:"
    + "|".join(
        (
            f"感觉{_WORD}背后是{_WORD}，但外表很{_WORD}。",
            f"整体给人的感觉就是{_WORD}又{_WORD}，非常{_WORD}。",
            f"{_WORD}这种设计真的很有{_WORD}，比普通风格更{_WORD}。",
            f"{_WORD}的设计很有{_WORD}，而且很{_WORD}。",
            f"太喜欢这种{_WORD}了，有种{_WORD}的{_WORD}。",
            f"真的很喜欢这种{_WORD}的表达，很{_WORD}也很{_WORD}。",
            f"这种{_WORD}风格很{_WORD}，看起来很有{_WORD}。",
            f"这种{_WORD}让我想到{_WORD}和{_WORD}的结合。",
            f"{_WORD}的表达方式太{_WORD}了，有种{_WORD}的感觉。",
            f"这个{_WORD} ?{_WORD}真的很有{_WORD}，感觉特别{_WORD}。",
        )
    )
    + ")$"
)


def pop_mart_comments(mirror: Path) -> Iterator[dict[str, Any]]:
    """Douyin comments under videos of a new series of Pop Mart figures, with the commenter's
    name (``Comment, Username``), without the rows generated from templates."""
    repo = mirror / "wangyixinxinyiwang+popmart_douyin_comment_analysis" / "repo"
    rows = _xlsx_rows(_git_show(repo, POP_MART["commit"], POP_MART["path"]))
    for row in rows[1:]:
        cells = row + [""] * (2 - len(row))
        if GENERATED.match(cells[0]):
            continue
        yield {
            "text": cells[0],
            "platform": "douyin",
            "author_name": cells[1].strip() or None,
            "source": dict(POP_MART),
        }


def sixteenth_batch(
    args: argparse.Namespace, in_chunks: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The sixteenth batch's two parts, each to start a chunk of its own (062, 063): the
    Xiaohongshu comments that want, then those that ask, with ordinary comments and the
    notes; the Pop Mart comments that want, then those that ask, with ordinary comments.
    Drawn against every text in the chunks before it (``in_chunks``)."""
    rng = random.Random(1616)  # its own seed, so that the earlier batches draw as before
    seen = set(in_chunks)
    notes = list(underwear_notes(args.mirrors))
    rng.shuffle(notes)
    comments = [n for n in notes if n["source"]["path"] == "comments_raw.xlsx"]
    wanting = [c for c in comments if _cued(COMMENT_WANTS, c)]
    underwear = _admit(wanting, seen)[: args.underwear_wanting]
    asking = [c for c in comments if _cued(COMMENT_ASKS, c) and not _cued(COMMENT_WANTS, c)]
    underwear += _admit(asking, seen)[: args.underwear_asking]
    underwear += _admit(comments, seen)[: args.underwear_ordinary]
    titles = [n for n in notes if n["source"]["path"] == "notes_raw.xlsx"]
    underwear += _admit(titles, seen)[: args.underwear_notes]
    rng.shuffle(underwear)
    fans = list(pop_mart_comments(args.mirrors))
    rng.shuffle(fans)
    pop_mart = _admit([c for c in fans if _cued(COMMENT_WANTS, c)], seen)[: args.pop_mart_wanting]
    asking = [c for c in fans if _cued(COMMENT_ASKS, c) and not _cued(COMMENT_WANTS, c)]
    pop_mart += _admit(asking, seen)[: args.pop_mart_asking]
    pop_mart += _admit(fans, seen)[: args.pop_mart_ordinary]
    rng.shuffle(pop_mart)
    return underwear, pop_mart


def sixteenth_chunks(
    args: argparse.Namespace, pool: list[dict[str, Any]]
) -> list[tuple[int, list[dict[str, Any]]]]:
    """The sixteenth batch's chunks, numbered from 062, each part starting a chunk of its own,
    drawn against every text of ``pool`` (the chunks before it; its texts are added to it)."""
    numbered = []
    number = SIXTEENTH_FIRST_CHUNK
    for part in sixteenth_batch(args, {re.sub(r"\W", "", item["text"]) for item in pool}):
        pool += part
        for start in range(0, len(part), CHUNK):
            numbered.append((number, part[start : start + CHUNK]))
            number += 1
    return numbered


def only_sixteenth(args: argparse.Namespace) -> int:
    """Write the sixteenth batch's chunks alone, drawn against the chunk files already written
    before chunk 062 (a whole run draws it against the same texts)."""
    earlier = [
        json.loads(line)
        for path in sorted(args.output.glob("chunk-*.jsonl"))
        if int(path.stem.removeprefix("chunk-")) < SIXTEENTH_FIRST_CHUNK
        for line in path.read_text("utf-8").splitlines()
    ]
    numbered = sixteenth_chunks(args, earlier)
    _write_chunks(args.output, numbered)
    counts = Counter(
        (row["source"]["repository"], row["platform"]) for _, rows in numbered for row in rows
    )
    for (repo, platform), n in counts.most_common():
        print(f"{n:6d}  {platform:12s} {repo}")
    print(f"{sum(counts.values())} texts in chunks {', '.join(f'{n:03d}' for n, _ in numbered)}")
    return 0


def _write_chunks(output: Path, numbered: list[tuple[int, list[dict[str, Any]]]]) -> None:
    """``output/chunk-NNN.jsonl`` for every numbered chunk, one JSON object a line."""
    for number, rows in numbered:
        with (output / f"chunk-{number:03d}.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _texts_outside(output: Path, first: int, last: int) -> set[str]:
    """The normalised texts of every chunk file in ``output`` outside ``first``-``last``:
    what a batch written there is drawn against."""
    seen: set[str] = set()
    for path in sorted(output.glob("chunk-*.jsonl")):
        if first <= int(path.stem.removeprefix("chunk-")) <= last:
            continue
        with path.open(encoding="utf-8") as f:
            seen |= {re.sub(r"\W", "", json.loads(line)["text"]) for line in f}
    return seen


def _numbered(
    batch: list[dict[str, Any]], first: int, last: int
) -> list[tuple[int, list[dict[str, Any]]]]:
    """``batch`` cut into chunks numbered from ``first``; stops when it needs more than
    ``last``."""
    numbered = [
        (first + start // CHUNK, batch[start : start + CHUNK])
        for start in range(0, len(batch), CHUNK)
    ]
    if not numbered or numbered[-1][0] > last:
        raise SystemExit(f"chunks {first:03d}-{last:03d} cannot hold {len(batch)} texts")
    return numbered


def _write_and_report(output: Path, numbered: list[tuple[int, list[dict[str, Any]]]]) -> int:
    """Write the numbered chunks and say how many texts each holds."""
    _write_chunks(output, numbered)
    for number, rows in numbered:
        print(f"chunk-{number:03d}: {len(rows)} texts")
    return 0


def _sixteenth_arguments(parser: argparse.ArgumentParser) -> None:
    """The sixteenth batch's options."""
    parser.add_argument(
        "--only-sixteenth",
        action="store_true",
        help="write only the sixteenth batch's chunks, against the chunk files already written",
    )
    parser.add_argument(
        "--underwear-wanting", type=int, default=60, help="sixteenth batch: comments that want"
    )
    parser.add_argument(
        "--underwear-asking", type=int, default=150, help="sixteenth batch: comments that ask"
    )
    parser.add_argument(
        "--underwear-ordinary", type=int, default=80, help="sixteenth batch: ordinary comments"
    )
    parser.add_argument(
        "--underwear-notes", type=int, default=40, help="sixteenth batch: the notes' titles"
    )
    parser.add_argument(
        "--pop-mart-wanting", type=int, default=80, help="sixteenth batch: fans wanting"
    )
    parser.add_argument(
        "--pop-mart-asking", type=int, default=40, help="sixteenth batch: fans asking"
    )
    parser.add_argument(
        "--pop-mart-ordinary", type=int, default=100, help="sixteenth batch: ordinary comments"
    )


# Chunks 070-079 (labeller "i"), for need recognition and information search in forum and
# question-and-answer text: car-forum comments of the public test set of the CCF BDCI 2018
# car-review contest (the training set is the seventh batch's source), those that want a car or
# a part first, then those that ask, then ordinary ones; then, in a chunk of its own, Baidu
# Zhidao questions of LCQMC's validation and test files that the thirteenth batch left: every
# question that wants something, questions asked before buying, and ordinary questions.
CAR_TEST = {
    "repository": "Losstie/DF-car_theme_emotionRecognition",
    "path": "data/test_public.csv",
    "commit": "260e31eda3001a316d98472658ffe753b5dc7dbd",
    "licence": (
        "no licence stated (car-forum comments of the CCF BDCI 2018 car-review contest's "
        "public test set)"
    ),
}
FIRST_CHUNK_070 = 70
LAST_CHUNK_070 = 79
CAR_WANTS = re.compile(
    r"想买|想要|想换|想入|想提|要买|打算|准备买|准备入手|考虑买|换车|看上|预算|第一辆|首车|心动"
    r"|眼馋|纠结|等.{0,4}(出|上市|降价)"
)
CAR_ASKS = re.compile(r"请问|求|[?？]|吗|多少钱|哪里|在哪|怎么|哪个|哪款|什么价|有没有|啥价|推荐")
QUESTION_WANTS = re.compile(r"想买|想要|想换|想入|打算买|准备买|种草|好想|想去|想吃|想学|想报|想办")


def car_test_comments(mirror: Path) -> Iterator[dict[str, Any]]:
    """The comments of the car-review contest's public test set (``content_id,content``)."""
    repo = mirror / "Losstie+DF-car_theme_emotionRecognition" / "repo"
    data = _git_show(repo, CAR_TEST["commit"], CAR_TEST["path"]).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        yield {"text": row.get("content") or "", "platform": "forum", "source": dict(CAR_TEST)}


def batch_070(
    args: argparse.Namespace, seen: set[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The two parts of chunks 070 on, each to start a chunk of its own: the car-forum test
    comments (wanting, asking, ordinary), then the Zhidao questions (wanting, asked before
    buying, ordinary); ``seen`` holds the texts already in chunks."""
    rng = random.Random(70)
    comments = list(car_test_comments(args.mirrors))
    rng.shuffle(comments)
    forum = _admit([c for c in comments if CAR_WANTS.search(c["text"])], seen)
    asking = [c for c in comments if CAR_ASKS.search(c["text"])]
    forum += _admit(asking, seen)[: args.car_test_asking]
    forum += _admit(comments, seen)[: args.car_test_ordinary]
    rng.shuffle(forum)
    questions = list(zhidao_questions(args.mirrors))
    rng.shuffle(questions)
    zhidao = _admit([q for q in questions if QUESTION_WANTS.search(q["text"])], seen)
    buying = [
        q
        for q in questions
        if BUYING_QUESTION.search(q["text"]) and not NOT_A_PURCHASE.search(q["text"])
    ]
    zhidao += _admit(buying, seen)[: args.zhidao_buying_more]
    zhidao += _admit(questions, seen)[: args.zhidao_ordinary_more]
    rng.shuffle(zhidao)
    return forum, zhidao


def chunks_070(args: argparse.Namespace) -> int:
    """Write chunks 070 on, drawn against the texts of every other chunk file in
    ``args.output``; no other chunk is read from the sources or written."""
    seen = _texts_outside(args.output, FIRST_CHUNK_070, LAST_CHUNK_070)
    numbered: list[tuple[int, list[dict[str, Any]]]] = []
    for part in batch_070(args, seen):
        first = FIRST_CHUNK_070 + len(numbered)
        numbered += [
            (first + start // CHUNK, part[start : start + CHUNK])
            for start in range(0, len(part), CHUNK)
        ]
    if numbered[-1][0] > LAST_CHUNK_070:
        raise SystemExit(f"chunks 070-079 cannot hold {sum(len(c) for _, c in numbered)} texts")
    return _write_and_report(args.output, numbered)


def _options_070(parser: argparse.ArgumentParser) -> None:
    """The options of chunks 070 on (labeller "i")."""
    parser.add_argument(
        "--chunks-070",
        action="store_true",
        help="write only chunks 070 on (labeller i), drawn against the chunks present",
    )
    parser.add_argument(
        "--car-test-asking", type=int, default=190, help="chunks 070 on: car comments that ask"
    )
    parser.add_argument(
        "--car-test-ordinary", type=int, default=140, help="chunks 070 on: ordinary car comments"
    )
    parser.add_argument(
        "--zhidao-buying-more", type=int, default=160, help="chunks 070 on: questions before buying"
    )
    parser.add_argument(
        "--zhidao-ordinary-more", type=int, default=50, help="chunks 070 on: ordinary questions"
    )


# Chunks 080 on (labeller "j"): the general Weibo posts of SMP2020-EWECT's training file, which
# the thirteenth batch did not have (it took the validation and test files): every post that
# wants something (the thirteenth batch's word list), every post that asks before buying, then
# posts that ask a question near shopping, then ordinary posts of the same file. The training
# file is read from the evaluation's five-fold split in Tom-HG/smp2020 (fold 0's training and
# development files hold every training post once; their epidemic rows are left out, the
# epidemic set being drawn before).
SMP2020_TRAIN = {
    "repository": "Tom-HG/smp2020",
    "commit": "9b04c7274dfbeb20de2083a78c83bc8c1c7ddacf",
    "licence": (
        "no licence stated (SMP2020-EWECT, the evaluation's general Weibo posts of every topic: "
        "its training file, as split into folds by the repository)"
    ),
}
SMP2020_TRAIN_FILES = (
    "SMP2020代码整理/project/model-0/data/train0.csv",
    "SMP2020代码整理/project/model-0/data/dev0.csv",
)
FIRST_CHUNK_080 = 80
LAST_CHUNK_080 = 81
SHOPPING_QUESTION = re.compile(r"[?？]|吗|呢")
SHOPPING_NEAR = re.compile(
    r"买|购|店|价|钱|牌子|品牌|推荐|好用|链接|淘宝|京东|快递|外卖|衣服|裙|鞋|包包|手机|电脑|相机"
    r"|化妆|口红|面膜|护肤|餐厅|饭店|酒店|旅游|门票|票|车"
)


def smp2020_training_posts(mirror: Path) -> Iterator[dict[str, Any]]:
    """The general posts (``type`` usual) of SMP2020-EWECT's training file, from the fold files
    (``content,labels,type``)."""
    repo = _mirror_repo(mirror, "Tom-HG/smp2020")
    for path in SMP2020_TRAIN_FILES:
        data = _git_show(repo, SMP2020_TRAIN["commit"], path).decode("utf-8-sig")
        for row in csv.DictReader(io.StringIO(data)):
            if row.get("type") == "usual":
                yield {
                    "text": row.get("content") or "",
                    "platform": "weibo",
                    "source": {**SMP2020_TRAIN, "path": path},
                }


def batch_080(args: argparse.Namespace, seen: set[str]) -> list[dict[str, Any]]:
    """Chunks 080 on: SMP2020's training posts that want (all), that ask before buying (all),
    that ask a question near shopping, and ordinary ones; ``seen`` holds the texts already in
    chunks."""
    rng = random.Random(80)
    posts = list(smp2020_training_posts(args.mirrors))
    rng.shuffle(posts)
    batch = _admit([p for p in posts if _cued(WANTS_ANY, p)], seen)
    batch += _admit([p for p in posts if _cued(ASKS_ANY, p)], seen)
    questions = [
        p for p in posts if SHOPPING_QUESTION.search(p["text"]) and SHOPPING_NEAR.search(p["text"])
    ]
    batch += _admit(questions, seen)[: args.smp_train_asking]
    batch += _admit(posts, seen)[: args.smp_train_ordinary]
    rng.shuffle(batch)
    return batch


def chunks_080(args: argparse.Namespace) -> int:
    """Write chunks 080 on, drawn against the texts of every other chunk file in
    ``args.output``; no other chunk is read from the sources or written."""
    seen = _texts_outside(args.output, FIRST_CHUNK_080, LAST_CHUNK_080)
    batch = batch_080(args, seen)
    numbered = _numbered(batch, FIRST_CHUNK_080, LAST_CHUNK_080)
    return _write_and_report(args.output, numbered)


def _options_080(parser: argparse.ArgumentParser) -> None:
    """The options of chunks 080 on (labeller "j")."""
    parser.add_argument(
        "--chunks-080",
        action="store_true",
        help="write only chunks 080 on (labeller j), drawn against the chunks present",
    )
    parser.add_argument(
        "--smp-train-asking",
        type=int,
        default=120,
        help="chunks 080 on: SMP2020 training posts that ask a question near shopping",
    )
    parser.add_argument(
        "--smp-train-ordinary",
        type=int,
        default=80,
        help="chunks 080 on: ordinary SMP2020 training posts",
    )


# Chunks 082 on (labeller "k"): voices the labelled sets had few of. A city government's
# account (湛江发布, verified_type 1) posts news, notices, consumer warnings and its own
# promotions of local produce, tourism and shopping vouchers; the weibo_senti_100k posts of
# 2012-2013 hold shops', restaurants', hotels' and airlines' own posts and users who want, buy or
# resell. Each source fills its own chunk; the word lists only choose which posts come first.
ZHANJIANG = {
    "repository": "tanghsh5/weiboSpider",
    "commit": "4e54859d9bd917ea9f7abea843b6a069c0c457d6",
    "licence": (
        "no licence stated (a weiboSpider run: the 2020 posts of 湛江发布, the Weibo account of "
        "Zhanjiang city government's information office, and users.csv with its profile)"
    ),
}
ZHANJIANG_POSTS = "weibo/湛江发布/3980043846.csv"
WEIBO_SENTI = {
    "repository": "forever1986/bert_task",
    "commit": "da1e0836738738853156eb875a082ee4a9d06f03",
    "licence": (
        "no licence stated (weibo_senti_100k, Weibo posts of 2012-2013 with a sentiment label, "
        "2,399 of them as copied into the repository; the label is not used)"
    ),
}
WEIBO_SENTI_POSTS = "data/weibo_senti_100k.csv"
FIRST_CHUNK_082 = 82
LAST_CHUNK_082 = 83
NEAR_CONSUMPTION = re.compile(
    r"买|卖|购|消费|价格|促销|优惠|券|打折|商场|超市|商家|市场监管|投诉|维权|景区|门票|旅游|游客"
    r"|民宿|美食|小吃|直播|带货|菠萝|荔枝|特产|品牌|商品|快递|食品|车展|楼盘|诈骗|(?<!高)质量|展销|年货"
)
BUYING_OR_SELLING = re.compile(
    r"买|购|店|价|钱|包邮|抢|秒杀|优惠|折|代购|淘宝|京东|下单|推荐|好用|种草|链接|抽奖|转发.{0,6}送"
    r"|新品|上市|专柜|微信|咨询|预约|餐厅|酒店|电影|演唱会|门票|快递|试用|团购"
)


def zhanjiang_posts(mirror: Path) -> Iterator[dict[str, Any]]:
    """The posts of 湛江发布 from a weiboSpider CSV, each with the account's profile from
    users.csv."""
    repo = _mirror_repo(mirror, "tanghsh5/weiboSpider")
    data = _git_show(repo, ZHANJIANG["commit"], "weibo/users.csv").decode("utf-8-sig")
    (user,) = [row for row in csv.DictReader(io.StringIO(data)) if row["用户id"] == "3980043846"]
    profile = {
        "author_name": user["昵称"] or None,
        "verified_type": int(user["认证类型"]),
        "verified_reason": user["认证信息"] or None,
        "description": user["简介"] or None,
        "followers": _followers(user["粉丝数"]),
    }
    data = _git_show(repo, ZHANJIANG["commit"], ZHANJIANG_POSTS).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        yield {
            "text": row.get("正文") or "",
            "platform": "weibo",
            **profile,
            "source": {**ZHANJIANG, "path": ZHANJIANG_POSTS},
        }


def weibo_senti_posts(mirror: Path) -> Iterator[dict[str, Any]]:
    """The posts of the weibo_senti_100k copy in forever1986/bert_task (``label,review``)."""
    repo = _mirror_repo(mirror, "forever1986/bert_task")
    data = _git_show(repo, WEIBO_SENTI["commit"], WEIBO_SENTI_POSTS).decode("utf-8-sig")
    for row in csv.DictReader(io.StringIO(data)):
        yield {
            "text": (row.get("review") or "").lstrip("\ufeff"),
            "platform": "weibo",
            "source": {**WEIBO_SENTI, "path": WEIBO_SENTI_POSTS},
        }


def _cued_first(
    posts: list[dict[str, Any]], pattern: re.Pattern[str], cued: int, size: int, seen: set[str]
) -> list[dict[str, Any]]:
    """``size`` posts: up to ``cued`` that match ``pattern`` (emoticons aside), then others."""
    chosen = _admit([p for p in posts if _cued(pattern, p)], seen)[:cued]
    chosen += _admit(posts, seen)[: size - len(chosen)]
    return chosen


def batch_082(args: argparse.Namespace, seen: set[str]) -> list[tuple[int, list[dict[str, Any]]]]:
    """Chunk 082 (湛江发布's posts, near consumption first) and chunk 083 (weibo_senti_100k
    posts, near buying or selling first); ``seen`` holds the texts already in chunks."""
    rng = random.Random(82)
    government = list(zhanjiang_posts(args.mirrors))
    rng.shuffle(government)
    first = _cued_first(government, NEAR_CONSUMPTION, args.zhanjiang_near, CHUNK, seen)
    senti = list(weibo_senti_posts(args.mirrors))
    rng.shuffle(senti)
    second = _cued_first(senti, BUYING_OR_SELLING, args.senti_near, CHUNK, seen)
    rng.shuffle(first)
    rng.shuffle(second)
    return [(FIRST_CHUNK_082, first), (FIRST_CHUNK_082 + 1, second)]


def chunks_082(args: argparse.Namespace) -> int:
    """Write chunks 082 on, drawn against the texts of every other chunk file in
    ``args.output``; no other chunk is read from the sources or written."""
    seen = _texts_outside(args.output, FIRST_CHUNK_082, LAST_CHUNK_082)
    numbered = batch_082(args, seen)
    return _write_and_report(args.output, numbered)


def _options_082(parser: argparse.ArgumentParser) -> None:
    """The options of chunks 082 on (labeller "k")."""
    parser.add_argument(
        "--chunks-082",
        action="store_true",
        help="write only chunks 082 on (labeller k), drawn against the chunks present",
    )
    parser.add_argument(
        "--zhanjiang-near",
        type=int,
        default=220,
        help="chunk 082: at most this many 湛江发布 posts near consumption, the rest ordinary",
    )
    parser.add_argument(
        "--senti-near",
        type=int,
        default=240,
        help="chunk 083: at most this many weibo_senti_100k posts near buying or selling",
    )


# Chunks 084 on (labeller "l"): what customers say to a Taobao shop's customer service before,
# while and after they buy (asking about a product, bargaining, comparing, ordering, paying,
# chasing a parcel, complaining), the stages the labelled sets have fewest of. The E-commerce
# Dialogue Corpus (Zhang et al., COLING 2018) keeps each session's turns word-segmented, a tab
# apart, with the shop's reply last; a customer's turn is every second turn back from that reply.
# Each customer turn that stands alone is a text; the shop's turns are not drawn.
ECD = {
    "repository": "cooelf/DeepUtteranceAggregation",
    "commit": "f2e15d6600ccda0db32eee98b2ca67c322071964",
    "licence": (
        "no licence stated (E-commerce Dialogue Corpus, Taobao customer-service sessions released "
        "for research with the COLING 2018 paper: the repository's sample files; only the "
        "customers' turns are drawn)"
    ),
}
ECD_FILES = ("ECD_sample/test", "ECD_sample/train")
# JDDC (the JD Dialog Challenge 2019): JD.com's customer-service sessions, one turn a line
# with seven tab-separated fields (the sender's flag third, the content last), numbers, names
# and orders masked ([数字x], [订单x]); the repository keeps a 0.1% sample of the training
# chats. Its customers' turns fill chunk 085 after the E-commerce Dialogue Corpus runs out,
# those that ask about choosing or the price first; the order card the chat window pastes is
# left out.
JDDC = {
    "repository": "EndlessLethe/jddc2019-3th-retrieve-model",
    "commit": "2d443d1679cc3d00022d0ff1697eb0e4cbeedb01",
    "licence": (
        "no licence stated (JDDC 2019, JD.com's customer-service sessions released for the JD "
        "Dialog Challenge: the repository's 0.1% sample of its training chats; only the "
        "customers' turns are drawn)"
    ),
    "path": "data/chat_0.1per.txt",
}
ORDER_CARD = re.compile(
    r"\[?订单编号:\[订单x\]，订单金额:\[金额x\]，下单时间:\[日期x\] \[时间x\]\]?"
    r"|咨询订单号:\[订单x\](\s*(订单金额|下单时间|商品ID):\[\w+\])*"
)
CHOOSING = re.compile(
    r"想买|想要|推荐|哪个|哪款|哪种|区别|怎么样|好不好|好用|适合|有货|什么时候有|多少钱|价格|便宜"
    r"|优惠|对比|比较|值得|划算"
)
FIRST_CHUNK_084 = 84
LAST_CHUNK_084 = 89
# Segmentation spaces go, except between two Latin letters or digits (a model name, a price).
SEGMENT_SPACE = re.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")


def ecd_customer_turns(mirror: Path) -> Iterator[dict[str, Any]]:
    """The customers' turns of the E-commerce Dialogue Corpus's sample sessions
    (``label<TAB>turn…<TAB>reply``, the reply the shop's), each once, in file order."""
    repo = _mirror_repo(mirror, "cooelf/DeepUtteranceAggregation")
    for path in ECD_FILES:
        data = _git_show(repo, ECD["commit"], path).decode("utf-8")
        for line in data.splitlines():
            turns = line.split("\t")[1:-1]
            for back, turn in enumerate(reversed(turns)):
                if back % 2 == 0:
                    yield {
                        "text": SEGMENT_SPACE.sub("", turn.strip()),
                        "platform": "chat",
                        "source": {**ECD, "path": path},
                    }


def jddc_customer_turns(mirror: Path) -> Iterator[dict[str, Any]]:
    """The customers' turns (``waiter_send`` 0) of the JDDC sample, without the order card."""
    repo = _mirror_repo(mirror, "EndlessLethe/jddc2019-3th-retrieve-model")
    data = _git_show(repo, JDDC["commit"], JDDC["path"]).decode("utf-8")
    for line in data.splitlines():
        fields = line.split("\t")
        if len(fields) >= 7 and fields[2] == "0":
            yield {
                "text": ORDER_CARD.sub(" ", "\t".join(fields[6:])),
                "platform": "chat",
                "source": dict(JDDC),
            }


def chunks_084(args: argparse.Namespace) -> int:
    """Write chunks 084 on (customers' turns of the E-commerce Dialogue Corpus, a seeded random
    draw of ``args.ecd_turns``, then of the JDDC sample, choosing and price first), drawn
    against the texts of every other chunk file in ``args.output``; no other chunk is read from
    the sources or written."""
    seen = _texts_outside(args.output, FIRST_CHUNK_084, LAST_CHUNK_084)
    turns = list(ecd_customer_turns(args.mirrors))
    random.Random(84).shuffle(turns)
    batch = _admit(turns, seen)[: args.ecd_turns]
    jd_turns = list(jddc_customer_turns(args.mirrors))
    random.Random(85).shuffle(jd_turns)
    batch += _cued_first(jd_turns, CHOOSING, args.jddc_choosing, args.jddc_turns, seen)
    numbered = _numbered(batch, FIRST_CHUNK_084, LAST_CHUNK_084)
    return _write_and_report(args.output, numbered)


def _options_084(parser: argparse.ArgumentParser) -> None:
    """The options of chunks 084 on (labeller "l")."""
    parser.add_argument(
        "--chunks-084",
        action="store_true",
        help="write only chunks 084 on (labeller l), drawn against the chunks present",
    )
    parser.add_argument(
        "--ecd-turns",
        type=int,
        default=600,
        help="chunks 084 on: at most this many customers' turns of the E-commerce Dialogue Corpus "
        "(its sample sessions hold 476 that stand alone)",
    )
    parser.add_argument(
        "--jddc-turns",
        type=int,
        default=124,
        help="chunks 084 on: customers' turns of the JDDC sample after those (124 fill chunk 085)",
    )
    parser.add_argument(
        "--jddc-choosing",
        type=int,
        default=90,
        help="chunks 084 on: at most this many of the JDDC turns that ask about choosing or price",
    )


def _arguments() -> argparse.Namespace:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"))
    parser.add_argument("--output", type=Path, default=Path("data/nlp-pool"))
    parser.add_argument("--weibo", type=int, default=1700, help="Weibo training posts to take")
    parser.add_argument(
        "--belt-road", type=int, default=800, help="keyword-search Weibo posts to take"
    )
    parser.add_argument("--shopping-per-category", type=int, default=70)
    parser.add_argument("--douyin", type=int, default=500, help="Douyin comments to take")
    parser.add_argument("--spam", type=int, default=400, help="advertising e-mails to draw")
    parser.add_argument("--forum", type=int, default=250, help="forum posts to draw")
    parser.add_argument(
        "--xhs-comments", type=int, default=500, help="Xiaohongshu comments to take"
    )
    parser.add_argument(
        "--douyin-choice", type=int, default=300, help="fourth batch: Douyin comments weighing"
    )
    parser.add_argument(
        "--wide-reach", type=int, default=300, help="fourth batch: posts by wide-reach accounts"
    )
    parser.add_argument(
        "--spam-rest", type=int, default=400, help="fifth batch: more advertising e-mails"
    )
    parser.add_argument(
        "--xhs-asking", type=int, default=300, help="fifth batch: Xiaohongshu comments asking"
    )
    parser.add_argument(
        "--car-forum", type=int, default=900, help="seventh batch: car-forum comments"
    )
    parser.add_argument(
        "--wanting", type=int, default=300, help="eighth batch: comments of each source wanting"
    )
    parser.add_argument(
        "--phone-wanting", type=int, default=170, help="tenth batch: phone posts that want"
    )
    parser.add_argument(
        "--phone-asking", type=int, default=130, help="tenth batch: phone posts that ask"
    )
    parser.add_argument(
        "--debates-buying", type=int, default=60, help="tenth batch: debate posts near buying"
    )
    parser.add_argument(
        "--stance-ordinary", type=int, default=90, help="tenth batch: ordinary stance posts"
    )
    parser.add_argument(
        "--forum-asking", type=int, default=70, help="tenth batch: forum posts wanting or asking"
    )
    parser.add_argument(
        "--phone-more", type=int, default=220, help="eleventh batch: phone posts left"
    )
    parser.add_argument(
        "--epidemic", type=int, default=110, help="twelfth batch: posts wanting or asking where"
    )
    parser.add_argument(
        "--epidemic-selling", type=int, default=40, help="twelfth batch: sellers' offers"
    )
    parser.add_argument(
        "--epidemic-asking", type=int, default=40, help="twelfth batch: questions on shopping"
    )
    parser.add_argument(
        "--epidemic-ordinary", type=int, default=30, help="twelfth batch: ordinary posts"
    )
    parser.add_argument(
        "--smp-wanting", type=int, default=100, help="thirteenth batch: SMP2020 posts wanting"
    )
    parser.add_argument(
        "--smp-asking", type=int, default=30, help="thirteenth batch: SMP2020 posts asking"
    )
    parser.add_argument(
        "--smp-ordinary", type=int, default=25, help="thirteenth batch: ordinary SMP2020 posts"
    )
    parser.add_argument(
        "--weibo-wanting",
        type=int,
        default=75,
        help="thirteenth batch: epidemic, Weibo training and debate posts wanting",
    )
    parser.add_argument(
        "--weibo-asking",
        type=int,
        default=35,
        help="thirteenth batch: epidemic, Weibo training and debate posts asking",
    )
    parser.add_argument(
        "--shop-messages", type=int, default=30, help="thirteenth batch: shops' text messages"
    )
    parser.add_argument(
        "--forum-asking-more", type=int, default=30, help="thirteenth batch: forum posts asking"
    )
    parser.add_argument(
        "--zhidao-buying", type=int, default=100, help="thirteenth batch: questions before buying"
    )
    parser.add_argument(
        "--zhidao-ordinary", type=int, default=25, help="thirteenth batch: ordinary questions"
    )
    parser.add_argument(
        "--lockdown-wanting", type=int, default=45, help="thirteenth batch: epidemic wishes"
    )
    parser.add_argument(
        "--hotel-offers", type=int, default=60, help="fourteenth batch: hotels' offers"
    )
    parser.add_argument(
        "--hotel-asking", type=int, default=60, help="fourteenth batch: hotels' notes asking"
    )
    parser.add_argument(
        "--hotel-wanting", type=int, default=60, help="fourteenth batch: hotels' notes of desire"
    )
    parser.add_argument(
        "--hotel-ordinary", type=int, default=40, help="fourteenth batch: ordinary hotels' notes"
    )
    parser.add_argument(
        "--xhs-wanting", type=int, default=100, help="fourteenth batch: comments that want"
    )
    parser.add_argument(
        "--xhs-asking-more", type=int, default=120, help="fourteenth batch: comments that ask"
    )
    parser.add_argument(
        "--xhs-ordinary", type=int, default=40, help="fourteenth batch: ordinary comments"
    )
    parser.add_argument(
        "--guangxi-notes", type=int, default=40, help="fourteenth batch: travel and food notes"
    )
    # The batches added on their own (chunks 062 on), each with its own options.
    for add_options in (
        _sixteenth_arguments,
        _options_070,
        _options_080,
        _options_082,
        _options_084,
    ):
        add_options(parser)
    return parser.parse_args()


def whole_pool(args: argparse.Namespace) -> int:
    """Build the whole pool, every batch, and print its counts per source."""
    rng = random.Random(17)

    def take(items: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
        return rng.sample(items, min(n, len(items)))

    weibo = list(weibo2018(args.shared))
    topics = [w for w in weibo if w["source"]["path"].startswith("topics/")]
    train = [w for w in weibo if not w["source"]["path"].startswith("topics/")]
    road = list(belt_road(args.mirrors))
    official = [r for r in road if "official" in r["source"]["path"]]
    keyword = [r for r in road if "official" not in r["source"]["path"]]
    items = take(train, args.weibo) + topics
    items += list(shopping(args.shared, args.shopping_per_category, rng))
    items += take(official, 120) + take(keyword, args.belt_road)
    items += take(list(douyin(args.mirrors)), args.douyin)
    notes = list(xiaohongshu(args.mirrors))
    items += [n for n in notes if "contents" in n["source"]["path"]]
    items += take([n for n in notes if "comments" in n["source"]["path"]], args.xhs_comments)

    seen: set[str] = set()
    pool = _admit(items, seen)
    rng.shuffle(pool)
    # Second batch, appended after the first so that its chunks keep their content.
    consumer = [w for w in train if any(word in w["text"] for word in CONSUMER_WORDS)]
    extra = _admit(consumer, seen)
    rng.shuffle(extra)
    pool += extra
    # Third batch: advertising e-mails and forum posts, for marketer and public voices.
    trec = list(spam_and_forum(args.mirrors))
    third = _admit(take([t for t in trec if t["platform"] == "email"], args.spam), seen)
    third += _admit(take([t for t in trec if t["platform"] == "forum"], args.forum), seen)
    rng.shuffle(third)
    pool += third
    comments = list(douyin(args.mirrors))
    fourth = fourth_batch(comments, keyword, (args.douyin_choice, args.wide_reach), rng, seen)

    args.output.mkdir(parents=True, exist_ok=True)
    for old in args.output.glob("chunk-*.jsonl"):
        old.unlink()
    fifth = fifth_batch(
        trec, [n for n in notes if "comments" in n["source"]["path"]], args, rng, seen
    )
    # Sixth batch: the Douyin comments left that state a choice of ride.
    sixth = _admit([c for c in comments if CHOOSING.search(c["text"])], seen)
    rng.shuffle(sixth)
    earlier = pool + fourth + fifth + sixth
    seventh, eighth, ninth = wider_batches(args, rng, seen, earlier, weibo + comments + notes)
    # The tenth and eleventh batches: against every text in the chunks, like the ninth.
    in_chunks = {re.sub(r"\W", "", item["text"]) for item in earlier + seventh + eighth + ninth}
    tenth, eleventh, twelfth = later_batches(args, rng, in_chunks, trec)
    thirteenth, questions = thirteenth_parts(args, in_chunks, tenth + eleventh + twelfth, trec)
    # The later batches start chunks of their own, so that the chunks already labelled keep
    # exactly their texts.
    chunks = [pool[start : start + CHUNK] for start in range(0, len(pool), CHUNK)]
    batches = (
        fourth,
        fifth,
        sixth,
        seventh,
        eighth,
        ninth,
        tenth,
        eleventh,
        twelfth,
        thirteenth,
        questions,
        *fourteenth_batch(args, in_chunks, tenth + eleventh + twelfth + thirteenth + questions),
    )
    for batch in batches:
        chunks += [batch[start : start + CHUNK] for start in range(0, len(batch), CHUNK)]
        pool += batch
    numbered = fifteenth_chunks(args, pool, chunks)
    numbered += sixteenth_chunks(args, pool)
    _write_chunks(args.output, numbered)
    counts = Counter((p["source"]["repository"], p["platform"]) for p in pool)
    for (repo, platform), n in counts.most_common():
        print(f"{n:6d}  {platform:12s} {repo}")
    print(f"{len(pool)} texts in {len(numbered)} chunks under {args.output}")
    return 0


def main() -> int:
    """Build the pool (or only the sixteenth batch, or only chunks 070, 080, 082 or 084 on) and
    print its counts per source."""
    args = _arguments()
    if args.only_sixteenth:
        return only_sixteenth(args)
    if args.chunks_070:
        return chunks_070(args)
    if args.chunks_080:
        return chunks_080(args)
    if args.chunks_082:
        return chunks_082(args)
    if args.chunks_084:
        return chunks_084(args)
    return whole_pool(args)


if __name__ == "__main__":
    sys.exit(main())
