"""The synthetic mentions of ``guanxi bench scale``, generated inside each engine.

One shape for both engines, drawn from hashes of the mention's number so a row needs no
Python: workspaces of very different sizes (a few loud brands, a long tail of quiet ones),
posted at over the last year, six platforms, sentiments, source kinds and journey stages
in the proportions the demo's enrichment gives, authors with a long tail (a few write much,
most once), eight topics per workspace matching about one mention in seven each, keywords
and words from a vocabulary of Chinese words. ClickHouse fills from ``numbers()``,
PostgreSQL from ``generate_series`` into the tables the SQL store reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

DAYS = 365
TOPICS = 8  # per workspace: topic ids workspace * 100 + 1..8
TOPIC_PERCENT = 15  # each topic matches this share of its workspace's mentions
AUTHOR_BLOCK = 1_000_000  # author ids: workspace * AUTHOR_BLOCK + rank
# The words posts are made of: what buyers, fans and marketers write about a brand.
VOCABULARY = (
    "口红",
    "面霜",
    "精华",
    "面膜",
    "防晒",
    "粉底",
    "香水",
    "眼影",
    "洗面奶",
    "卸妆",
    "好用",
    "推荐",
    "种草",
    "拔草",
    "回购",
    "踩雷",
    "测评",
    "试色",
    "开箱",
    "分享",
    "价格",
    "质量",
    "物流",
    "客服",
    "包装",
    "味道",
    "颜色",
    "质地",
    "持久",
    "保湿",
    "敏感肌",
    "油皮",
    "干皮",
    "温和",
    "刺激",
    "过敏",
    "掉色",
    "显白",
    "性价比",
    "划算",
    "直播",
    "优惠",
    "折扣",
    "双十一",
    "满减",
    "新品",
    "联名",
    "限量",
    "代言",
    "明星",
    "正品",
    "专柜",
    "旗舰店",
    "快递",
    "售后",
    "退货",
    "发货",
    "赠品",
    "小样",
    "笔记",
    "喜欢",
    "失望",
    "惊喜",
    "一般",
    "真的",
    "太",
    "不错",
    "绝了",
    "无语",
    "后悔",
)
PLATFORMS = ("weibo", "xiaohongshu", "douyin", "bilibili", "zhihu", "wechat")
# Cumulative percent thresholds: each value is taken below its bound.
PLATFORM_BOUNDS = (40, 65, 85, 93, 97, 100)
SENTIMENT_BOUNDS = (("positive", 30), ("neutral", 85), ("negative", 100))
KIND_BOUNDS = (("personal", 70), ("public", 90), ("marketer", 100))
STAGE_BOUNDS = (
    ("none", 50),
    ("need_recognition", 62),
    ("information_search", 74),
    ("evaluation", 84),
    ("purchase", 92),
    ("post_purchase", 100),
)
NO_AUTHOR_PERCENT = 2
# Mentions arrive in time order (ids grow with posted_at, as imports number them), each up
# to an hour earlier than its place: a batch of consecutive ids spans a few days.
YEAR_US = DAYS * 86_400_000_000
JITTER_US = 3_600_000_000


def _multi_if(percent: str, bounds: tuple[tuple[str, int], ...]) -> str:
    arms = ", ".join(f"{percent} < {bound}, '{name}'" for name, bound in bounds[:-1])
    return f"multiIf({arms}, '{bounds[-1][0]}')"


def _case(percent: str, bounds: tuple[tuple[str, int], ...]) -> str:
    arms = " ".join(f"WHEN {percent} < {bound} THEN '{name}'" for name, bound in bounds[:-1])
    return f"CASE {arms} ELSE '{bounds[-1][0]}' END"


PLATFORM_NAMED = tuple(zip(PLATFORMS, PLATFORM_BOUNDS, strict=True))

# --- ClickHouse --------------------------------------------------------------------------

# The mentions numbered {first} to {first} + {count} - 1; ``h(k)`` is a 64-bit hash of the
# number and k, ``u(k)`` the same in [0, 1).
_CH_H = "intHash64(number * 64 + {k})"
_CH_U = "(intHash64(number * 64 + {k}) % 1000000) / 1000000"


def _ch_h(k: int) -> str:
    return _CH_H.format(k=k)


def _ch_u(k: int) -> str:
    return _CH_U.format(k=k)


CLICKHOUSE_MENTIONS = f"""
SELECT
    workspace_id,
    number + 1 AS id,
    fromUnixTimestamp64Micro(toInt64({{now_us:Int64}} - {YEAR_US}
        + intDiv(number * {YEAR_US}, {{total:UInt64}}) - {_ch_h(2)} % {JITTER_US}), 'UTC')
        AS posted_at,
    {_multi_if(f"{_ch_h(3)} % 100", PLATFORM_NAMED)} AS platform,
    {_multi_if(f"{_ch_h(4)} % 100", SENTIMENT_BOUNDS)} AS sentiment,
    {_multi_if(f"{_ch_h(5)} % 100", KIND_BOUNDS)} AS source_kind,
    {_multi_if(f"{_ch_h(6)} % 100", STAGE_BOUNDS)} AS stage,
    if({_ch_h(7)} % 100 < {NO_AUTHOR_PERCENT}, 0,
       workspace_id * {AUTHOR_BLOCK} + 1
       + toUInt64(floor({{authors:UInt64}} * pow({_ch_u(8)}, 3)))) AS author_id,
    arrayMap(i -> {{vocab:Array(String)}}[1 + intHash64(number * 64 + 16 + i) % {len(VOCABULARY)}],
             range(1 + number % 3)) AS keywords,
    arrayMap(i -> {{vocab:Array(String)}}[1 + intHash64(number * 64 + 32 + i) % {len(VOCABULARY)}],
             range(6 + number % 9)) AS tokens,
    arrayStringConcat(tokens) AS text,
    toUInt64(1) AS version,
    toInt8(1) AS sign,
    toUInt8(0) AS is_deleted
FROM (
    SELECT number,
           1 + toUInt64(floor({{workspaces:UInt64}} * pow({_ch_u(1)}, 1.6))) AS workspace_id
    FROM numbers({{first:UInt64}}, {{count:UInt64}})
)
"""

CLICKHOUSE_INSERT_MENTIONS = (
    "INSERT INTO listening_mentions (workspace_id, id, posted_at, platform, sentiment, "
    "source_kind, stage, author_id, keywords, tokens, text, version, sign, is_deleted) "
    + CLICKHOUSE_MENTIONS
)
CLICKHOUSE_INSERT_MATCHES = f"""
INSERT INTO listening_topic_matches (workspace_id, topic_id, mention_id, posted_at, platform,
    sentiment, source_kind, stage, version, sign, is_deleted)
SELECT workspace_id, workspace_id * 100 + topic, id, posted_at, platform, sentiment,
       source_kind, stage, version, sign, is_deleted
FROM ({CLICKHOUSE_MENTIONS})
ARRAY JOIN arrayFilter(t -> intHash64((id - 1) * 64 + 48 + t) % 100 < {TOPIC_PERCENT},
                       range(1, {TOPICS + 1})) AS topic
"""


def clickhouse_parameters(
    *, first: int, count: int, total: int, workspaces: int, authors: int, now: datetime
) -> dict[str, Any]:
    """The parameters of the ClickHouse fill statements for mentions [first, first+count)
    of ``total``."""
    return {
        "first": first,
        "count": count,
        "total": total,
        "workspaces": workspaces,
        "authors": authors,
        "now_us": int(now.timestamp() * 1_000_000),
        "vocab": list(VOCABULARY),
    }


# --- PostgreSQL --------------------------------------------------------------------------


def _pg_h(k: int) -> str:
    return f"(hashint8extended(n, {k}) & 9223372036854775807)"


def _pg_u(k: int) -> str:
    return f"(({_pg_h(k)} % 1000000) / 1000000.0)"


_PG_SERIES = f"""
SELECT n,
       1 + floor(:workspaces * power({_pg_u(1)}, 1.6))::bigint AS workspace_id,
       to_timestamp(:now_s - {DAYS * 86_400} + (n - 1) * {DAYS * 86_400.0} / :total
                    - ({_pg_h(2)} % {JITTER_US}) / 1000000.0) AS posted_at,
       {_case(f"{_pg_h(3)} % 100", PLATFORM_NAMED)} AS platform,
       {_case(f"{_pg_h(4)} % 100", SENTIMENT_BOUNDS)} AS sentiment,
       {_case(f"{_pg_h(5)} % 100", KIND_BOUNDS)} AS source_kind,
       {_case(f"{_pg_h(6)} % 100", STAGE_BOUNDS)} AS stage,
       {_pg_h(7)} % 100 < {NO_AUTHOR_PERCENT} AS anonymous,
       1 + floor(:authors * power({_pg_u(8)}, 3))::bigint AS author_rank
FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n
"""

POSTGRES_FACETS = f"""
INSERT INTO listening_mention_facets (mention_id, workspace_id, posted_at, platform, sentiment,
    source_kind, stage, author_id)
SELECT n, workspace_id, posted_at, platform, sentiment, source_kind, stage,
       CASE WHEN anonymous THEN NULL ELSE workspace_id * {AUTHOR_BLOCK} + author_rank END
FROM ({_PG_SERIES}) AS generated
"""
POSTGRES_ENRICHMENTS = f"""
INSERT INTO listening_mention_enrichments (mention_id, workspace_id, posted_at, language, script,
    normalized_text, sentiment, positive_probability, source_kind, source_reason, stage,
    stage_cue, keywords, features, model_version, enriched_at)
SELECT mention_id, workspace_id, posted_at, 'zh', 'hans', '', sentiment, 0.5, source_kind, '',
       stage, '',
       (SELECT json_agg((CAST(:vocab AS text[]))[1 + (hashint8extended(mention_id, 10 + i)
               & 9223372036854775807) % {len(VOCABULARY)}])
        FROM generate_series(0, mention_id % 3) AS i),
       '{{}}', 'bench', now()
FROM listening_mention_facets WHERE mention_id BETWEEN :first AND :last
"""
POSTGRES_MATCHES = f"""
INSERT INTO listening_topic_matches (mention_id, topic_id, workspace_id, posted_at, platform,
    sentiment, source_kind, stage, terms, spans)
SELECT mention_id, workspace_id * 100 + t, workspace_id, posted_at, platform, sentiment,
       source_kind, stage, '[]', '[]'
FROM listening_mention_facets CROSS JOIN generate_series(1, {TOPICS}) AS t
WHERE mention_id BETWEEN :first AND :last
  AND (hashint8extended(mention_id, 100 + t) & 9223372036854775807) % 100 < {TOPIC_PERCENT}
"""
_PG_COUNTS = """
    SUM(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END),
    SUM(CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END),
    SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END)
"""
POSTGRES_ROLLUPS = (
    f"""
INSERT INTO listening_daily_rollups (workspace_id, topic_id, day, platform, source_kind, stage,
    positive, neutral, negative)
SELECT workspace_id, 0, (posted_at AT TIME ZONE 'UTC')::date AS day, platform, source_kind,
       stage, {_PG_COUNTS}
FROM listening_mention_facets GROUP BY workspace_id, day, platform, source_kind, stage
""",
    f"""
INSERT INTO listening_daily_rollups (workspace_id, topic_id, day, platform, source_kind, stage,
    positive, neutral, negative)
SELECT workspace_id, topic_id, (posted_at AT TIME ZONE 'UTC')::date AS day, platform,
       source_kind, stage, {_PG_COUNTS}
FROM listening_topic_matches GROUP BY workspace_id, topic_id, day, platform, source_kind, stage
""",
    # The rollup's totals, as the app keeps them beside it (the unfiltered dashboard).
    """
INSERT INTO listening_rollup_totals (workspace_id, topic_id, source_kind, positive, neutral,
    negative)
SELECT workspace_id, topic_id, source_kind, SUM(positive), SUM(neutral), SUM(negative)
FROM listening_daily_rollups GROUP BY workspace_id, topic_id, source_kind
""",
)


def authors_sql(dialect: str) -> str:
    """Every workspace's authors: followers fall with the rank (the most prolific have the
    most), one in five unknown."""
    if dialect == "postgresql":
        return f"""
INSERT INTO listening_authors (id, workspace_id, platform, external_id, name, verified_reason,
    followers, kind, url, updated_at)
SELECT ws * {AUTHOR_BLOCK} + k, ws, 'weibo', k::text, 'author ' || k, '',
       CASE WHEN k % 5 = 0 THEN NULL ELSE 10000000 / k END, '', '', now()
FROM generate_series(1, :workspaces) AS w(ws) CROSS JOIN generate_series(1, :authors) AS r(k)
"""
    return f"""
INSERT INTO listening_authors (id, workspace_id, platform, external_id, name, verified_reason,
    followers, kind, url, updated_at)
SELECT ws * {AUTHOR_BLOCK} + k, ws, 'weibo', CAST(k AS TEXT), 'author ' || k, '',
       CASE WHEN k % 5 = 0 THEN NULL ELSE 10000000 / k END, '', '', '2026-01-01 00:00:00'
FROM (WITH RECURSIVE s(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM s
      WHERE v + 1 < :workspaces * :authors)
      SELECT 1 + v / :authors AS ws, 1 + v % :authors AS k FROM s)
"""


def postgres_parameters(
    *, first: int, last: int, total: int, workspaces: int, authors: int, now: datetime
) -> dict[str, Any]:
    """The parameters of the PostgreSQL fill statements for mentions [first, last] of
    ``total``."""
    return {
        "first": first,
        "last": last,
        "total": total,
        "workspaces": workspaces,
        "authors": authors,
        "now_s": now.timestamp(),
        "vocab": list(VOCABULARY),
    }


def fill_authors(connection: Connection, *, workspaces: int, authors: int) -> None:
    """Write the authors every workspace's mentions name (ids workspace * 1,000,000 + rank)."""
    connection.execute(
        text(authors_sql(connection.dialect.name)),
        {"workspaces": workspaces, "authors": authors},
    )
