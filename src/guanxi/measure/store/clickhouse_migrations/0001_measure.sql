-- Measure's facts: post snapshots, account days and their breakdowns. Rows are versioned
-- (ReplacingMergeTree): a fact written again is a new row with a higher version, a deleted
-- one a row with is_deleted = 1; reads use FINAL (the newest version of each key, deleted
-- ones left out). No rollup: the account days are already the pages' daily series, and
-- snapshots are read per post.
CREATE TABLE IF NOT EXISTS measure_post_snapshots (
    workspace_id UInt64,
    post_id UInt64,
    observed_at DateTime64(6, 'UTC'),
    as_of Nullable(DateTime64(6, 'UTC')),
    views Nullable(Int64),
    likes Nullable(Int64),
    comments Nullable(Int64),
    shares Nullable(Int64),
    saves Nullable(Int64),
    wows Nullable(Int64),
    followers Nullable(Int64),
    new_followers Nullable(Int64),
    lost_followers Nullable(Int64),
    version UInt64,
    is_deleted UInt8,
    INDEX posts post_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(observed_at)
ORDER BY (workspace_id, toDate(observed_at), post_id, observed_at)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS measure_account_days (
    workspace_id UInt64,
    channel_id UInt64,
    day Date32,
    collected_at Nullable(DateTime64(6, 'UTC')),
    illustrative UInt8,
    views Nullable(Int64),
    likes Nullable(Int64),
    comments Nullable(Int64),
    shares Nullable(Int64),
    saves Nullable(Int64),
    wows Nullable(Int64),
    followers Nullable(Int64),
    new_followers Nullable(Int64),
    lost_followers Nullable(Int64),
    version UInt64,
    is_deleted UInt8,
    INDEX channels channel_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(day)
ORDER BY (workspace_id, day, channel_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS measure_account_day_breakdowns (
    workspace_id UInt64,
    channel_id UInt64,
    day Date32,
    breakdown LowCardinality(String),
    key String,
    value Int64,
    version UInt64,
    is_deleted UInt8,
    INDEX channels channel_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(day)
ORDER BY (workspace_id, day, channel_id, breakdown, key)
SETTINGS non_replicated_deduplication_window = 1000;
