"""The ClickHouse client, its migrations, and the promise that SQL-only instances never
load clickhouse-connect or chdb."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from guanxi.analytics import migrations
from guanxi.analytics.client import AnalyticsClient, AnalyticsConfigError, parse_url
from guanxi.core.settings import ConfigurationError, load_settings
from guanxi.listening.store.clickhouse import MENTION_COLUMNS, MENTIONS
from tests.analytics.conftest import ANALYTICS_MIGRATIONS


def test_a_retried_block_is_stored_once_in_the_table_and_the_rollup(
    clickhouse: AnalyticsClient,
) -> None:
    """Given a block inserted under a token, when it is sent again under the same token,
    the table and the daily counts its view keeps hold it once."""
    posted = datetime(2026, 3, 1, 10, tzinfo=UTC).replace(tzinfo=None)
    row = (1, 42, posted, "weibo", "positive", "personal", "none", 0, [], [], "", 1, 1, 0)
    for _attempt in range(2):
        clickhouse.insert(MENTIONS, MENTION_COLUMNS, [row], token="batch-1")
    assert clickhouse.rows(f"SELECT count() FROM {MENTIONS}") == [(1,)]
    assert clickhouse.rows("SELECT sum(positive) FROM listening_daily_rollup") == [(1,)]
    clickhouse.insert(MENTIONS, MENTION_COLUMNS, [row], token="batch-2")
    assert clickhouse.rows(f"SELECT count() FROM {MENTIONS}") == [(2,)]


def test_migrations_run_once_and_are_recorded(clickhouse: AnalyticsClient) -> None:
    """The fixture's database is migrated: a second upgrade runs nothing, and the record
    names the file."""
    assert migrations.upgrade(clickhouse, ANALYTICS_MIGRATIONS) == []
    recorded = clickhouse.rows(
        f"SELECT package, name FROM {migrations.MIGRATIONS_TABLE} ORDER BY package"
    )
    assert recorded == [
        (ANALYTICS_MIGRATIONS[2], "0001_clicks_and_code_events.sql"),
        (ANALYTICS_MIGRATIONS[0], "0001_mentions.sql"),
        (ANALYTICS_MIGRATIONS[1], "0001_measure.sql"),
    ]


def test_a_misnamed_migration_is_refused_with_the_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file that is not NNNN_what.sql stops the upgrade before anything runs."""
    package = tmp_path / "shop_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "0001_orders.sql").write_text("SELECT 1;\n", encoding="utf-8")
    (package / "orders-again.sql").write_text("SELECT 2;\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(migrations.MigrationError, match=r"NNNN_what\.sql"):
        migrations.discover(["shop_migrations"])


def test_statements_are_split_at_line_ends_without_comments() -> None:
    """A file's statements end with ``;`` at the end of a line; comment lines are dropped."""
    migration = migrations.Migration(
        "p", "0001", "0001_a.sql", "-- why\nCREATE TABLE a (x String DEFAULT ';');\n\nSELECT 1;\n"
    )
    assert migration.statements() == ["CREATE TABLE a (x String DEFAULT ';')", "SELECT 1"]


@pytest.mark.parametrize(
    ("url", "dsn", "database"),
    [
        ("chdb:///var/lib/guanxi", "chdb:///var/lib/guanxi", "guanxi"),
        ("chdb:///var/lib/guanxi?database=brands", "chdb:///var/lib/guanxi", "brands"),
        ("clickhouse://u:p@ch.internal:8123/listen", "http://u:p@ch.internal:8123", "listen"),
        ("clickhouses://u:p@ch.internal:8443", "https://u:p@ch.internal:8443", "guanxi"),
    ],
)
def test_addresses_name_an_engine_and_a_database(url: str, dsn: str, database: str) -> None:
    """Each accepted address gives the client's target and the database (guanxi unless
    named)."""
    target = parse_url(url)
    assert (target.dsn, target.database) == (dsn, database)


@pytest.mark.parametrize(
    "url", ["chdb://", "clickhouse://host:8123/bad-name", "postgresql://host/db"]
)
def test_unusable_addresses_are_refused(url: str) -> None:
    """No directory, a database name ClickHouse would need quoted, another engine."""
    with pytest.raises(AnalyticsConfigError):
        parse_url(url)


def test_the_setting_refuses_another_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """GUANXI_ANALYTICS_URL names the two accepted forms when it is wrong."""
    monkeypatch.setenv("GUANXI_ANALYTICS_URL", "mysql://host/db")
    with pytest.raises(ConfigurationError, match=r"GUANXI_ANALYTICS_URL: .*chdb:///"):
        load_settings()


def test_sql_only_instances_never_import_clickhouse() -> None:
    """Importing listening and using its store on SQL loads neither clickhouse-connect nor
    chdb (a fresh interpreter, so nothing else has loaded them)."""
    code = (
        "import sys\n"
        "import guanxi.listening.capability, guanxi.listening.insight.service\n"
        "import guanxi.listening.alerts.service, guanxi.listening.overview\n"
        "import guanxi.cli\n"
        "from guanxi.listening.store import analytics_client\n"
        "assert analytics_client() is None\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('clickhouse_connect', 'chdb', 'chdb_core'))\n"
        "print(loaded)\n"
    )
    env = {"PATH": "/usr/bin:/bin", "GUANXI_ANALYTICS_URL": ""}
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert found.stdout.strip() == "[]"
