"""The analytics store's engine: a ClickHouse client and its schema migrations.

Used when ``GUANXI_ANALYTICS_URL`` names a ClickHouse server or an embedded ClickHouse
(chDB) directory; with the setting empty, capabilities keep their analytics in the SQL
database and nothing here is loaded. clickhouse-connect (and chdb) are imported only when a
client is made. See docs/scale.md.
"""
