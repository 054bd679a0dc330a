-- Listening's mention facts, their topic matches and the dashboards' daily counts.
-- Rows are versioned: a mention written again (re-enriched, deleted) gets a cancelling row
-- (sign -1, is_deleted 1) and, unless deleted, its new state (a higher version). Reads of
-- the rows use FINAL (the newest version of each mention, deleted ones left out); the daily
-- counts are the sum of sign over every row ever inserted, kept by the materialized views.
CREATE TABLE IF NOT EXISTS listening_mentions (
    workspace_id UInt64,
    id UInt64,
    posted_at DateTime64(6, 'UTC'),
    platform LowCardinality(String),
    sentiment LowCardinality(String),
    source_kind LowCardinality(String),
    stage LowCardinality(String),
    author_id UInt64,  -- 0: no known author
    keywords Array(String),
    tokens Array(String),  -- guanxi's segmenter, with the workspace's dictionary
    text String,
    version UInt64,
    sign Int8,
    is_deleted UInt8,
    INDEX tokens_words tokens TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX text_bigrams text TYPE ngrambf_v1(2, 16384, 3, 0) GRANULARITY 4,
    INDEX authors author_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(posted_at)
ORDER BY (workspace_id, toDate(posted_at), id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS listening_topic_matches (
    workspace_id UInt64,
    topic_id UInt64,
    mention_id UInt64,
    posted_at DateTime64(6, 'UTC'),
    platform LowCardinality(String),
    sentiment LowCardinality(String),
    source_kind LowCardinality(String),
    stage LowCardinality(String),
    version UInt64,
    sign Int8,
    is_deleted UInt8
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(posted_at)
ORDER BY (workspace_id, topic_id, toDate(posted_at), mention_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS listening_daily_rollup (
    workspace_id UInt64,
    topic_id UInt64,  -- 0: every mention
    day Date,
    platform LowCardinality(String),
    source_kind LowCardinality(String),
    stage LowCardinality(String),
    positive Int64,
    neutral Int64,
    negative Int64
)
ENGINE = SummingMergeTree((positive, neutral, negative))
PARTITION BY toYYYYMM(day)
ORDER BY (workspace_id, topic_id, day, platform, source_kind, stage)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS listening_daily_rollup_of_mentions
TO listening_daily_rollup AS
SELECT
    workspace_id,
    toUInt64(0) AS topic_id,
    toDate(posted_at) AS day,
    platform,
    source_kind,
    stage,
    toInt64(sign) * (sentiment = 'positive') AS positive,
    toInt64(sign) * (sentiment = 'neutral') AS neutral,
    toInt64(sign) * (sentiment = 'negative') AS negative
FROM listening_mentions;

CREATE MATERIALIZED VIEW IF NOT EXISTS listening_daily_rollup_of_matches
TO listening_daily_rollup AS
SELECT
    workspace_id,
    topic_id,
    toDate(posted_at) AS day,
    platform,
    source_kind,
    stage,
    toInt64(sign) * (sentiment = 'positive') AS positive,
    toInt64(sign) * (sentiment = 'neutral') AS neutral,
    toInt64(sign) * (sentiment = 'negative') AS negative
FROM listening_topic_matches;
