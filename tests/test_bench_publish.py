"""``guanxi bench publish``: its measurements catch duplicates and lost posts, and a small
real run (worker processes, sandbox, scratch database) publishes everything exactly once."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from guanxi.connectors.weibo import marker
from guanxi.devtools.bench.common import percentile
from guanxi.devtools.bench.publishing import LivePost, VariantRow, measure, post_text
from guanxi.publishing.models import VariantState
from tests.cli import cli_database, run, said
from tests.conftest import POSTGRES_URL

__all__ = ["cli_database"]  # the fixture, used by name

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
LAST_LINE = re.compile(
    r"^duplicates=(\d+) lost=(\d+) p99_lateness_s=(\d+\.\d\d) throughput_per_s=(\d+\.\d\d)$"
)


def variant(
    number: int, state: str = VariantState.PUBLISHED, *, late_s: float = 1.0, notified: bool = False
) -> VariantRow:
    """Variant ``number``, scheduled ``number`` seconds after T0, published ``late_s`` late."""
    scheduled = T0 + timedelta(seconds=number)
    published = state == VariantState.PUBLISHED
    return VariantRow(
        id=number,
        state=state,
        idempotency_key=f"key-{number}",
        scheduled_at=scheduled,
        published_at=scheduled + timedelta(seconds=late_s) if published else None,
        external_id=f"p{number}" if published else "",
        notified=notified,
    )


def live(number: int, post_id: str | None = None) -> LivePost:
    """The sandbox post variant ``number`` made: its text carries the variant's marker."""
    url = f"https://provence-wine.example/b/{number}?gx={marker(f'key-{number}')}"
    return LivePost(post_id=post_id or f"p{number}", account_id="7000000000", text=f"x {url}")


def test_a_clean_run_measures_zero_duplicates_and_zero_lost() -> None:
    """Given three variants each published once, nothing is duplicated or lost; lateness
    and throughput come from the database's times."""
    variants = [variant(0, late_s=1.0), variant(1, late_s=2.0), variant(2, late_s=4.0)]
    result = measure(variants, [live(0), live(1), live(2)], elapsed_s=10)
    assert (result.duplicates, result.lost, result.live_unrecorded) == (0, 0, 0)
    assert result.p50_lateness_s == 2.0
    assert result.p99_lateness_s == 4.0
    # Three published between T0 (first scheduled) and T0 + 6 s (last published).
    assert result.throughput_per_s == pytest.approx(0.5)
    assert result.last_line() == "duplicates=0 lost=0 p99_lateness_s=4.00 throughput_per_s=0.50"


def test_the_same_variant_live_twice_is_a_duplicate() -> None:
    """Given the platform holding two posts with variant 1's marker, one is a duplicate."""
    result = measure([variant(0), variant(1)], [live(0), live(1), live(1, "p99")], elapsed_s=1)
    assert result.duplicates == 1
    assert result.lost == 0


def test_a_deleted_copy_is_not_a_duplicate() -> None:
    """A copy someone deleted on the platform is not live, so it does not count."""
    deleted = LivePost(post_id="p9", account_id="7000000000", text=live(0).text, deleted=True)
    assert measure([variant(0)], [live(0), deleted], elapsed_s=1).duplicates == 0


def test_unfinished_variants_and_phantom_publishes_are_lost() -> None:
    """A variant still scheduled is lost; so is one the database calls published while the
    platform has no post with its marker."""
    variants = [variant(0), variant(1, VariantState.SCHEDULED), variant(2)]
    result = measure(variants, [live(0)], elapsed_s=1)
    assert result.lost == 2
    assert result.lost_ids == [1, 2]


def test_a_failure_counts_as_lost_unless_someone_was_told() -> None:
    """A failed or held variant is accounted for only when a notification tells a person."""
    told = [
        variant(0, VariantState.FAILED, notified=True),
        variant(1, VariantState.NEEDS_ATTENTION, notified=True),
    ]
    silent = [variant(2, VariantState.FAILED), variant(3, VariantState.NEEDS_ATTENTION)]
    result = measure(told + silent, [], elapsed_s=1)
    assert result.lost_ids == [2, 3]


def test_a_post_live_while_the_database_says_failed_is_reported() -> None:
    """The platform has the post the database calls failed: reported as unrecorded."""
    result = measure([variant(0, VariantState.FAILED, notified=True)], [live(0)], elapsed_s=1)
    assert result.live_unrecorded == 1
    assert result.lost == 0


def test_percentiles_use_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 99) == 0.0


def test_post_texts_are_unique_and_carry_the_safe_domain_link() -> None:
    """Weibo refuses repeated text and text without the app's safe-domain link."""
    assert post_text(1) != post_text(2)
    assert "https://provence-wine.example/b/1" in post_text(1)


def _bench_databases(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        names = connection.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE 'guanxi_bench_%'")
        )
        return [str(name) for (name,) in names]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"])
def test_a_small_real_run_publishes_every_post_exactly_once(
    cli_database: Engine, backend: str
) -> None:
    """Given 40 posts on 5 sandbox Weibo accounts due over 4 s, when two real worker
    processes run them, then every post is live once, none is lost, and the last line
    says so; the scratch PostgreSQL database is gone afterwards."""
    args = [
        "bench",
        "publish",
        "--posts",
        "40",
        "--accounts",
        "5",
        "--window",
        "4",
        "--lead",
        "3",
        "--timeout",
        "120",
    ]
    admin = None
    if backend == "postgresql":
        args += ["--database-url", POSTGRES_URL]
        admin = create_engine(make_url(POSTGRES_URL))
        before = _bench_databases(admin)
    result = run(*args)
    last = result.output.strip().splitlines()[-1]
    match = LAST_LINE.match(last)
    assert match, last
    assert (match.group(1), match.group(2)) == ("0", "0"), said(result)
    assert result.exit_code == 0
    assert re.search(r"variants published\s*│\s*40\s", result.output), result.output
    assert float(match.group(4)) > 0
    if admin is not None:
        assert _bench_databases(admin) == before
        admin.dispose()


def test_bad_sizes_are_refused_before_anything_starts(cli_database: Engine) -> None:
    result = run("bench", "publish", "--posts", "0", "--accounts", "5")
    assert result.exit_code != 0
    assert "--posts" in said(result)
