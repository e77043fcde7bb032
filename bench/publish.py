"""Benchmark 5 — publish: the lake after one day vs a full rewrite; PostgreSQL; Spark cluster vs local."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bench.isolate import Measured, run_isolated
from bench.report import Section, Table
from bench.sizes import Sizes
from bench.warehouse_build import BuiltWarehouse, cached_build, load_next_day

TESTS = Path(__file__).resolve().parent.parent / "tests"
#: The cluster's shuffle partitions (a local master keeps resolve311's default of 2, as a user's would).
CLUSTER_SPARK_ARGS = "--conf spark.sql.shuffle.partitions=4 pyspark-shell"
#: What a grown home holds (written beside its snapshot, so section 6b can reuse section 6's).
GROWN_WHAT = "grown.txt"


def _from_tests(name: str) -> Any:
    """The tests' server helpers (a PostgreSQL server, a Spark standalone cluster)."""
    if str(TESTS) not in sys.path:
        sys.path.insert(0, str(TESTS))
    return importlib.import_module(name)


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _written_mb(folder: Path, version: int) -> float:
    """MB of the Parquet files the lake version ``version`` wrote."""
    prefix = f"part-{version:06d}-"
    return sum(p.stat().st_size for p in folder.rglob(f"{prefix}*.parquet")) / 2**20


def _refresh(
    home: Path, engine: str = "duckdb", master: str = "local[2]", lake: str | None = None
) -> Measured:
    kwargs = {"home": str(home), "engine": engine, "master": master, "lake_url": lake}
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    if not master.startswith("local"):
        env["PYSPARK_SUBMIT_ARGS"] = CLUSTER_SPARK_ARGS
    return run_isolated("bench.publish_contenders:refresh", kwargs, env=env, timeout_s=1800)


def _lake(home: Path, lake: Path) -> Measured:
    return run_isolated("bench.publish_contenders:lake", {"home": str(home), "lake_url": str(lake)})


def _loaded_yesterday(home: Path) -> None:
    """Stamp the history as loaded a day earlier, as after yesterday's backfill (the build ran today)."""
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        for table in ("requests", "request_history"):  # request_versions: a view over both
            con.execute(f"UPDATE {table} SET loaded_at = loaded_at - INTERVAL 1 DAY")


def _lake_rows(built: BuiltWarehouse, work: Path, table: Table) -> list[str]:
    """First publish, the update after one day, and a full rewrite of the same state; returns notes."""
    home, lake, fresh = built.home, work / "lake", work / "lake-full"
    _loaded_yesterday(home)
    first = _lake(home, lake)
    table.add("lake: first publish (empty lake)", first.seconds, first.peak_rss_mb, _size_mb(lake),
              _size_mb(lake), first.result.get("detail"), first.error)  # fmt: skip
    load_next_day(home, built.next_day)
    _refresh(home)
    inc = _lake(home, lake)
    inc_mb = _written_mb(lake, 2)
    table.add("lake: update after one day (incremental)", inc.seconds, inc.peak_rss_mb, inc_mb,
              _size_mb(lake), inc.result.get("detail"), inc.error)  # fmt: skip
    full = _lake(home, fresh)
    full_mb = _size_mb(fresh)
    table.add("lake: full rewrite of the same state", full.seconds, full.peak_rss_mb, full_mb,
              full_mb, full.result.get("detail"), full.error)  # fmt: skip
    shutil.rmtree(fresh, ignore_errors=True)
    if not (inc.ok and full.ok):
        return []
    return [
        f"After one day the incremental lake update takes {inc.seconds:.1f} s and writes {inc_mb:.1f} MB, "
        f"against {full.seconds:.1f} s and {full_mb:.1f} MB for a full rewrite. It saves less than one might "
        "hope on this short history: one day's changes (late closes, edits) touch requests created in most "
        "of its months, and each touched month is rewritten whole; with years of history the old months "
        "rarely change and the saving grows."
    ]


def _postgres_rows(home: Path, grown: tuple[Path, str], table: Table) -> None:
    pg = _from_tests("pg_server")
    if pg.pg_bin() is None:
        table.add("PostgreSQL: publish the snapshot", None, None, None, None, "skipped: no PostgreSQL", None)
        return
    server = pg.PostgresServer.start()
    try:
        for what, where in (("this warehouse's snapshot", home), (grown[1], grown[0])):
            first = run_isolated("bench.publish_contenders:postgres", {"home": str(where), "url": server.url})
            table.add(f"PostgreSQL: publish {what}", first.seconds, first.peak_rss_mb,
                      (where / "serving.duckdb").stat().st_size / 2**20, None, first.result.get("detail"), first.error)  # fmt: skip
        again = run_isolated("bench.publish_contenders:postgres", {"home": str(grown[0]), "url": server.url})
        table.add("PostgreSQL: publish the grown snapshot again (swap over live tables)", again.seconds,
                  again.peak_rss_mb, None, None, again.result.get("detail"), again.error)  # fmt: skip
    finally:
        server.stop()


def _grow(home: Path, work: Path, sizes: Sizes) -> tuple[Path, str]:
    """A home whose snapshot spans the history of ``web_target_requests`` NYC requests (bench.snapshot_scale).

    The warehouse is at ``publish_scale`` of NYC's volume, so the history is grown to the number of
    days that many real requests take (target × scale requests at this warehouse's rate).
    """
    from bench.snapshot_scale import scale_snapshot

    grown = work / "grown-home"
    grown.mkdir(parents=True, exist_ok=True)
    target = int(sizes.web_target_requests * sizes.publish_scale)
    info = scale_snapshot(home / "serving.duckdb", grown / "serving.duckdb", target)
    years = info["history_days"] / 365.25
    what = f"the snapshot grown to the {years:.1f}-year history of {sizes.web_target_requests:,} NYC requests"
    (grown / GROWN_WHAT).write_text(what)
    return grown, what


def grown_stand_in(work: Path) -> tuple[Path, str] | None:
    """The grown home this run's publish section left (its ``work``'s sibling), if it ran."""
    grown = work.parent / "publish" / "grown-home"
    what = grown / GROWN_WHAT
    return (grown, what.read_text()) if what.is_file() else None


def _spark_rows(sizes: Sizes, home: Path, work: Path, table: Table) -> None:
    if not sizes.spark:  # the DuckDB row is the Spark rows' reference
        table.add("metrics full refresh: DuckDB / Spark local[2] / cluster", None, None, None, None, "skipped in --quick", None)  # fmt: skip
        return
    duck = _refresh(home)
    table.add(
        "metrics full refresh: DuckDB", duck.seconds, duck.peak_rss_mb, None, None, "reference", duck.error
    )
    local = _refresh(home, "spark", "local[2]")
    table.add("metrics full refresh: Spark local[2]", local.seconds, local.peak_rss_mb, None, None, None, local.error)  # fmt: skip
    cluster = _from_tests("spark_cluster").SparkCluster.start(workers=2, memory="1g")
    try:
        on = _refresh(home, "spark", cluster.master_url, str(work / "lake"))
    finally:
        cluster.stop()
    table.add("metrics full refresh: Spark standalone, 2 workers × 1 core × 1 GB (inputs via the lake)",
              on.seconds, on.peak_rss_mb, None, None, "driver RSS only; workers not counted", on.error)  # fmt: skip


def run(sizes: Sizes, work: Path) -> Section:
    section = Section("publish", "6. Publish: the lake, PostgreSQL, Spark on a cluster")
    built = cached_build(
        sizes.cache, work, date.fromisoformat(sizes.today), sizes.publish_days, sizes.publish_scale
    )
    _refresh(built.home)  # the serving snapshot every sink copies (not timed)
    table = section.table("what", "seconds", "peak RSS MB", "MB written", "lake MB", "detail", "error")
    lake_notes = _lake_rows(built, work, table)
    _postgres_rows(built.home, _grow(built.home, work, sizes), table)
    _spark_rows(sizes, built.home, work, table)
    section.setup = (
        f"A warehouse of {built.rows:,} requests ({sizes.publish_days} simulated days at scale "
        f"{sizes.publish_scale}; building it and the serving snapshot is not timed). The next day brings "
        f"{built.next_day_rows:,} new or changed rows. The lake is a local folder; PostgreSQL 15 runs on "
        "the same machine (started by the benchmark, fsync off); the Spark cluster is a master and two "
        "workers on the same 2 cores. Each step runs in a fresh process. The history is stamped as loaded "
        "the day before the next day's batch (as after a backfill the day before), so `request_versions` "
        "has one landing-date partition for the history and one for the new day."
    )
    section.notes = [
        *lake_notes,
        "PostgreSQL receives the serving snapshot, whose size grows with the groups (agencies × complaint "
        "types × boroughs) and the weeks of history, not with the number of requests. The 'grown' row "
        "extends this snapshot's weekly series back over the years that 40M NYC requests span, the way the "
        "web benchmark does (bench/snapshot_scale.py); its groups are those of this smaller warehouse, so a "
        "real NYC snapshot, with more complaint types per agency, would be larger. Section 6b measures a "
        "snapshot computed from a 15-year warehouse with every agency, complaint type and day of the "
        "simulator's NYC catalog, and an upper bound of it.",
        "The Spark cluster shares the same 2 cores as everything else here, so it shows the overhead of "
        "the cluster path, not its speed-up; that needs machines of its own.",
    ]
    return section
