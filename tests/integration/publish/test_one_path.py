"""One publish path: the metrics produce results, one release of them reaches every sink."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from integration.publish import lake_readers as read
from resolve311.digest import ledger as digest_ledger
from resolve311.digest.send import publish_deliveries
from resolve311.metrics.refresh import refresh_metrics
from resolve311.metrics.snapshot import status_results
from resolve311.publish import publish_results
from resolve311.warehouse.connection import open_warehouse


def snapshot_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()


def snapshot_tables(path: Path) -> set[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def test_the_metrics_return_results_and_one_release_reaches_every_sink(publish_env, tmp_path: Path) -> None:
    lake = str(tmp_path / "lake")
    env = publish_env(lake_url=lake)
    before = env.settings.snapshot_path.stat()
    report = refresh_metrics(env.settings, full=True)
    after = env.settings.snapshot_path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # nothing written
    assert report.results is not None and len(report.results.tables["scorecard"]) > 0

    with open_warehouse(env.settings.warehouse_path) as con:
        outcomes = publish_results(env.settings, report.results, con)
        generations = con.execute(
            "SELECT sink, generation FROM publishes WHERE status = 'success' ORDER BY started_at DESC LIMIT 2"
        ).fetchall()
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "success"), ("lake", "success")]
    assert len({g for _, g in generations}) == 1  # the same release
    assert read.manifest(lake)["generation"] == generations[0][1]
    serving = env.settings.snapshot_path
    for table in ("scorecard", "series", "meta"):
        assert len(read.with_duckdb(lake, f"serving/{table}")) == len(snapshot_rows(serving, table)) > 0
    assert [p.name for p in serving.parent.iterdir() if ".tmp" in p.name] == []


def test_the_digest_ledger_is_carried_into_every_new_snapshot_and_stays_out_of_the_lake(
    publish_env, tmp_path: Path
) -> None:
    lake = str(tmp_path / "lake")
    env = publish_env(lake_url=lake)
    con = env.warehouse.con
    key = digest_ledger.Key(date(2024, 5, 29), "ops", "k1")
    digest_ledger.mark_skipped(con, key, channel="email", target="ops@example.org", message_id="<m1>")
    assert publish_deliveries(con, env.settings.snapshot_path)
    delivered = snapshot_rows(env.settings.snapshot_path, "digest_deliveries")
    assert len(delivered) == 1

    env.refresh()  # a metrics publish: a new file built from the results
    assert snapshot_rows(env.settings.snapshot_path, "digest_deliveries") == delivered
    with open_warehouse(env.settings.warehouse_path) as own:  # a status-only publish, to every sink
        outcomes = publish_results(env.settings, status_results(env.settings, own), own)
    assert [o.status for o in outcomes] == ["success", "success"]
    assert snapshot_rows(env.settings.snapshot_path, "digest_deliveries") == delivered
    assert "serving/digest_deliveries" not in read.manifest(lake)["tables"]  # it names addresses
    assert "serving/scorecard" in read.manifest(lake)["tables"]
    assert "digest_deliveries" in snapshot_tables(env.settings.snapshot_path)
