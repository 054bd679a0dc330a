-- Convert's event facts: tracked-link clicks and scene-code events, and their hourly counts.
-- Rows are versioned (ReplacingMergeTree): a code event whose origin is learnt later gets a
-- cancelling row of its old state (sign -1, is_deleted 1) and its new state (a higher
-- version). Reads of the rows use FINAL; the hourly counts are the sum of sign over every
-- row ever inserted, kept by the materialized views; retention's DELETE feeds no view, so a
-- deleted fact stays counted in its hour.
CREATE TABLE IF NOT EXISTS convert_clicks (
    workspace_id UInt64,
    id UInt64,  -- from the click id: a click written twice is one row
    click_id String,
    link_id UInt64,
    clicked_at DateTime64(6, 'UTC'),
    hour Int64,  -- hours since the epoch: one counted click per visitor, link and hour
    visitor String,
    network String,
    platform LowCardinality(String),
    device LowCardinality(String),
    referrer_host String,
    bot UInt8,
    counted UInt8,
    illustrative UInt8,
    version UInt64,
    sign Int8,
    is_deleted UInt8,
    INDEX click_ids click_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX links link_id TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(clicked_at)
ORDER BY (workspace_id, toDate(clicked_at), id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS convert_click_hours (
    workspace_id UInt64,
    link_id UInt64,
    hour_start DateTime('UTC'),
    platform LowCardinality(String),
    visits Int64,
    counted Int64,
    bots Int64
)
ENGINE = SummingMergeTree((visits, counted, bots))
PARTITION BY toYYYYMM(hour_start)
ORDER BY (workspace_id, link_id, hour_start, platform)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS convert_click_hours_of_clicks
TO convert_click_hours AS
SELECT
    workspace_id,
    link_id,
    toDateTime(toStartOfHour(clicked_at), 'UTC') AS hour_start,
    platform,
    toInt64(sign) AS visits,
    toInt64(sign) * counted AS counted,
    toInt64(sign) * bot AS bots
FROM convert_clicks;

CREATE TABLE IF NOT EXISTS convert_code_events (
    workspace_id UInt64,
    id UInt64,  -- from the channel and event id: WeChat's retries of a push are one row
    channel_id UInt64,
    code_id UInt64,  -- 0: no code (a follow from search, a shared card)
    event_id String,
    openid String,
    scene String,
    kind LowCardinality(String),
    occurred_at DateTime64(6, 'UTC'),
    origin_checked UInt8,
    illustrative UInt8,
    version UInt64,
    sign Int8,
    is_deleted UInt8,
    INDEX openids openid TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(version, is_deleted)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (workspace_id, toDate(occurred_at), id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS convert_code_event_hours (
    workspace_id UInt64,
    code_id UInt64,
    hour_start DateTime('UTC'),
    kind LowCardinality(String),
    events Int64
)
ENGINE = SummingMergeTree(events)
PARTITION BY toYYYYMM(hour_start)
ORDER BY (workspace_id, code_id, hour_start, kind)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS convert_code_event_hours_of_events
TO convert_code_event_hours AS
SELECT
    workspace_id,
    code_id,
    toDateTime(toStartOfHour(occurred_at), 'UTC') AS hour_start,
    kind,
    toInt64(sign) AS events
FROM convert_code_events
WHERE code_id != 0;
