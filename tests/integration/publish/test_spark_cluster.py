"""The metrics on a real Spark standalone cluster (a master and a worker on localhost).

The cluster reads its inputs from the lake, like executors on other machines would,
and its results go through the normal publish; they must equal DuckDB's: counts and
shares exactly, quantiles to 1e-9 relative.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from integration.publish import lake_readers as read
from spark_cluster import SparkCluster

pytestmark = [pytest.mark.spark, pytest.mark.slow]

TABLES = ("scorecard", "heatmap_when", "heatmap_where", "series", "km_curve", "agencies")


@pytest.fixture(scope="module")
def cluster() -> Iterator[SparkCluster]:
    # One worker: its executor is still a JVM of its own reading the inputs from the lake, the way
    # executors on other machines do; a second worker cost ~20 s of the suite for nothing we check.
    started = SparkCluster.start(workers=1, memory="1g")
    yield started
    started.stop()
    assert all(p.poll() is not None for p in started.processes)


def snapshot(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').df() for t in TABLES}


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame, table: str) -> None:
    assert list(duck.columns) == list(spark.columns)
    assert len(duck) == len(spark), table
    for col in duck.columns:
        left, right = duck[col], spark[col]
        if pd.api.types.is_float_dtype(left):
            pd.testing.assert_series_equal(left, right, rtol=1e-9, atol=0, obj=f"{table}.{col}")
        else:
            pd.testing.assert_series_equal(left, right, obj=f"{table}.{col}")


def metrics(env, *extra: str, **variables: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "RESOLVE311_HOME": str(env.settings.home), **variables}
    return subprocess.run(
        [sys.executable, "-m", "resolve311", "metrics", "--full", *extra],
        env=environment, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_full_refresh_on_a_standalone_cluster_matches_duckdb(cluster, publish_env, tmp_path) -> None:
    lake = str(tmp_path / "lake")
    env = publish_env(lake_url=lake)
    env.add_requests(500, datetime_start(), 120, batch_seq=2)
    env.warehouse.close()
    duck_run = metrics(env, "--engine", "duckdb", RESOLVE311_LAKE_URL=lake)
    assert duck_run.returncode == 0, duck_run.stderr
    duck = snapshot(env.settings.snapshot_path)
    spark_run = metrics(
        env, "--engine", "spark", RESOLVE311_LAKE_URL=lake, RESOLVE311_SPARK_MASTER=cluster.master_url,
        PYSPARK_PYTHON=sys.executable,
        PYSPARK_SUBMIT_ARGS="--conf spark.sql.shuffle.partitions=4 --conf spark.executor.memory=768m pyspark-shell",
    )  # fmt: skip
    assert spark_run.returncode == 0, spark_run.stderr[-3000:]
    got = snapshot(env.settings.snapshot_path)
    for table in TABLES:
        assert_same(duck[table], got[table], table)
    assert len(duck["scorecard"]) > 300
    apps = (cluster.state() or {}).get("completedapps", []) + (cluster.state() or {}).get("activeapps", [])
    assert any(app["name"] == "resolve311-metrics" for app in apps)  # it ran on the cluster
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        engine = con.execute("SELECT value FROM meta WHERE key = 'engine'").fetchone()[0]
    assert engine == "spark"
    published = read.manifest(lake)  # the normal publish copied the Spark-made snapshot to the lake
    assert published["generation"].startswith(str(snapshot_meta(env, "generated_at")))
    assert not list(Path(lake).glob("_spark_inputs/*"))  # the inputs were removed


def snapshot_meta(env, key: str) -> str:
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        return con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()[0]


def datetime_start():
    from datetime import datetime

    return datetime(2023, 12, 1)


def test_a_cluster_master_without_a_lake_is_a_clear_error(publish_env) -> None:
    env = publish_env()
    env.warehouse.close()
    run = metrics(env, "--engine", "spark", RESOLVE311_SPARK_MASTER="spark://127.0.0.1:1")
    assert run.returncode == 2
    assert run.stderr.startswith(
        "error: the spark master spark://127.0.0.1:1 runs executors on other machines"
    )
