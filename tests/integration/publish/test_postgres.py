"""Publishing the serving snapshot to a real PostgreSQL server started by the test session."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from datetime import datetime

import duckdb
import pytest

from helpers import wait_for
from resolve311.publish import publish_release
from resolve311.publish.pg_schema import PRIMARY_KEYS
from resolve311.warehouse.connection import open_warehouse

psycopg = pytest.importorskip("psycopg")

TABLES = ("meta", "agencies", "scorecard", "heatmap_when", "heatmap_where", "series", "km_curve", "runs")


def snapshot_counts(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in TABLES}


def pg_counts(url: str, schema: str = "resolve311") -> dict[str, int]:
    with psycopg.connect(url) as pg:
        return {t: pg.execute(f'SELECT count(*) FROM {schema}."{t}"').fetchone()[0] for t in TABLES}


def pg_generated_at(url: str) -> str:
    with psycopg.connect(url) as pg:
        return pg.execute("SELECT value FROM resolve311.meta WHERE key = 'generated_at'").fetchone()[0]


def snapshot_generated_at(path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT value FROM meta WHERE key = 'generated_at'").fetchone()[0]


def ledger(settings) -> list[tuple[str, str, str | None]]:
    with open_warehouse(settings.warehouse_path) as con:
        return con.execute("SELECT sink, status, error FROM publishes ORDER BY started_at, sink").fetchall()


@pytest.fixture
def fresh_db(postgres):
    """A database of its own for the test (dropped afterwards)."""
    name = f"t{os.getpid()}_{threading.get_ident() % 100000}_{datetime.now():%H%M%S%f}"
    with psycopg.connect(postgres.url, autocommit=True) as pg:
        pg.execute(f'CREATE DATABASE "{name}"')
    yield postgres.url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres.url, autocommit=True) as pg:
        pg.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_snapshot_lands_in_postgres_with_keys_comments_and_views(publish_env, fresh_db) -> None:
    env = publish_env(publish_url=fresh_db)
    outcomes = publish_release(env.settings)
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "skipped"), ("postgres", "success")]
    assert pg_counts(fresh_db) == snapshot_counts(env.settings.snapshot_path)
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        duck = con.execute(
            "SELECT agency, metric, recent FROM scorecard WHERE complaint_type = '*' AND borough = '*'"
            " AND \"window\" = '7d' AND baseline = '8w' AND recent IS NOT NULL ORDER BY ALL"
        ).fetchall()
    with psycopg.connect(fresh_db) as pg:
        got = pg.execute(
            "SELECT agency, metric, recent FROM resolve311.scorecard WHERE complaint_type = '*' AND borough = '*'"
            " AND \"window\" = '7d' AND baseline = '8w' AND recent IS NOT NULL ORDER BY 1, 2, 3"
        ).fetchall()
        assert got == duck
        keys = pg.execute(
            "SELECT tc.table_name FROM information_schema.table_constraints tc"
            " WHERE tc.table_schema = 'resolve311' AND constraint_type = 'PRIMARY KEY'"
        ).fetchall()
        assert {k[0] for k in keys} >= set(TABLES) - {"runs"} | {"scorecard", "metric_labels"}
        comment = pg.execute(
            "SELECT col_description('resolve311.scorecard'::regclass, attnum) FROM pg_attribute"
            " WHERE attrelid = 'resolve311.scorecard'::regclass AND attname = 'score'"
        ).fetchone()[0]
        assert "Robust score" in comment
        board = pg.execute(
            "SELECT agency, agency_name, metric_label, unit FROM resolve311.agency_scorecard"
            " WHERE metric = 'ttc_median_h' AND \"window\" = '28d' AND baseline = '8w' ORDER BY agency"
        ).fetchall()
        assert [b[0] for b in board] == ["DOT", "HPD", "NYPD"]
        assert board[0][1:] == ("DOT name", "Time to close, median", "hours")
        assert pg.execute("SELECT count(*) FROM resolve311.city_scorecard").fetchone()[0] > 0
        days = pg.execute("SELECT count(*) FROM resolve311.daily_requests WHERE agency = '*'").fetchone()[0]
        assert days > 80
        names = pg.execute("SELECT DISTINCT weekday_name FROM resolve311.heatmap_when_named").fetchall()
        assert len(names) == 7
    assert {"scorecard", "heatmap_when", "series"} <= set(PRIMARY_KEYS)
    assert ledger(env.settings) == [("serving", "success", None), ("postgres", "success", None)]


def test_a_published_generation_is_not_published_twice_and_a_new_one_replaces_the_old(
    publish_env, fresh_db
) -> None:
    env = publish_env(publish_url=fresh_db)
    publish_release(env.settings)
    again = publish_release(env.settings)
    assert [o.status for o in again] == ["skipped", "skipped"]
    env.add_requests(300, datetime(2024, 5, 20), 10, batch_seq=2)
    env.refresh()
    publish_release(env.settings)
    assert pg_counts(fresh_db) == snapshot_counts(env.settings.snapshot_path)
    assert pg_generated_at(fresh_db) == snapshot_generated_at(env.settings.snapshot_path)


def test_an_unreachable_server_is_a_failed_outcome_retried_on_the_next_publish(publish_env, fresh_db) -> None:
    from helpers import free_port

    dead = f"postgresql://postgres:s3cret@127.0.0.1:{free_port()}/postgres"
    env = publish_env(publish_url=dead)
    outcomes = publish_release(env.settings)
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "skipped"), ("postgres", "failed")]
    assert "s3cret" not in (outcomes[1].error or "")
    assert env.settings.snapshot_path.exists()  # the dashboard's copy is untouched
    fixed = env.settings.model_copy(update={"publish_url": type(env.settings.publish_url)(fresh_db)})
    retried = publish_release(fixed)
    assert [(o.sink, o.status) for o in retried] == [("serving", "skipped"), ("postgres", "success")]
    assert [row[:2] for row in ledger(env.settings)] == [
        ("serving", "success"), ("postgres", "failed"), ("postgres", "success"),
    ]  # fmt: skip


class SwapBlocker:
    """Hold a lock on the last table the swap touches, so a publish stops inside its transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pg = psycopg.connect(url)
        self.pg.execute("LOCK TABLE resolve311.metric_labels IN SHARE MODE")

    def wait_until_swap_waits(self) -> None:
        def waiting() -> bool:
            with psycopg.connect(self.url) as pg:
                row = pg.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND query ILIKE '%metric_labels%'"
                ).fetchone()
            return bool(row[0])

        wait_for(waiting, timeout=120)

    def release(self) -> None:
        self.pg.commit()
        self.pg.close()


def test_a_reader_during_the_swap_sees_the_old_snapshot_whole_then_the_new_one(publish_env, fresh_db) -> None:
    env = publish_env(publish_url=fresh_db)
    publish_release(env.settings)
    old = (pg_generated_at(fresh_db), pg_counts(fresh_db))
    env.add_requests(300, datetime(2024, 5, 20), 10, batch_seq=2)
    env.refresh()
    blocker = SwapBlocker(fresh_db)
    publisher = threading.Thread(target=publish_release, args=(env.settings,))
    publisher.start()
    try:
        blocker.wait_until_swap_waits()  # the swap transaction has already emptied and refilled 9 tables
        assert (pg_generated_at(fresh_db), pg_counts(fresh_db)) == old
    finally:
        blocker.release()
        publisher.join(timeout=120)
    new = (pg_generated_at(fresh_db), pg_counts(fresh_db))
    assert new == (
        snapshot_generated_at(env.settings.snapshot_path),
        snapshot_counts(env.settings.snapshot_path),
    )
    assert new != old


def test_a_publisher_killed_inside_the_swap_leaves_the_old_tables_whole_and_the_next_run_retries(
    publish_env, fresh_db
) -> None:
    env = publish_env(publish_url=fresh_db)
    publish_release(env.settings)
    old = (pg_generated_at(fresh_db), pg_counts(fresh_db))
    env.add_requests(300, datetime(2024, 5, 20), 10, batch_seq=2)
    env.refresh()
    env.warehouse.con.close()  # the child process needs the warehouse to itself
    blocker = SwapBlocker(fresh_db)
    child = subprocess.Popen(
        [sys.executable, "-m", "resolve311", "publish", "--sink", "postgres"],
        env={**os.environ, "RESOLVE311_PUBLISH_URL": fresh_db},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        blocker.wait_until_swap_waits()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)
    finally:
        blocker.release()
    assert (pg_generated_at(fresh_db), pg_counts(fresh_db)) == old
    outcomes = publish_release(env.settings)
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "skipped"), ("postgres", "success")]
    assert pg_counts(fresh_db) == snapshot_counts(env.settings.snapshot_path)
    failed = [row for row in ledger(env.settings) if row[1] == "failed"]
    assert failed == [("postgres", "failed", "the process ended before the publish finished")]
    env.warehouse.con = duckdb.connect(str(env.settings.warehouse_path))
