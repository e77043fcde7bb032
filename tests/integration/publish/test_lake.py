"""The open Parquet lake on a local folder and on an S3-compatible server started by the test."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from helpers import free_port, wait_for
from integration.publish import lake_readers as read
from resolve311.processes import stop_process
from resolve311.publish import lake, publish_release

COMPARED = ("requests", "request_versions", "quarantine")


def warehouse_frame(env, table: str) -> pd.DataFrame:
    sql = f"SELECT * FROM {table}"
    if table != "quarantine":
        sql = f"SELECT * REPLACE (extra::VARCHAR AS extra) FROM {table}"
    return env.warehouse.con.execute(sql).df()


def same(left: pd.DataFrame, right: pd.DataFrame, keys: list[str]) -> None:
    cols = list(left.columns)
    a = left[cols].sort_values(keys).reset_index(drop=True)
    b = right[cols].sort_values(keys).reset_index(drop=True)
    assert len(a) == len(b)
    for col in cols:
        x, y = a[col], b[col]
        if col == "dirty_flags":
            x, y = x.map(list), y.map(list)
        else:
            x, y = (v.astype(object).map(lambda e: None if pd.isna(e) else e) for v in (x, y))
        assert x.astype(str).tolist() == y.astype(str).tolist(), col


KEYS = {
    "requests": ["unique_key"],
    "request_versions": ["unique_key", "row_hash"],
    "quarantine": ["batch_seq"],
}


def assert_lake_matches(env, url: str, reader) -> None:
    for table in ("requests", "request_versions"):
        same(warehouse_frame(env, table), reader(url, table), KEYS[table])
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        scorecard = con.execute("SELECT * FROM scorecard").df()
    same(
        scorecard,
        reader(url, "serving/scorecard"),
        ["agency", "complaint_type", "borough", "window", "baseline", "metric"],
    )


def partition_files(url: str) -> dict[str, list[str]]:
    return read.manifest(url)["tables"]["requests"]["partitions"]


def test_local_lake_matches_the_warehouse_and_updates_only_touched_partitions(publish_env, tmp_path) -> None:
    url = str(tmp_path / "lake")
    env = publish_env(lake_url=url)
    outcomes = publish_release(env.settings)
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "skipped"), ("lake", "success")]
    assert outcomes[1].detail.startswith("full v1")
    assert_lake_matches(env, url, read.with_duckdb)
    assert_lake_matches(env, url, read.with_pyarrow)
    before = partition_files(url)
    assert sorted(before) == ["2024-03", "2024-04", "2024-05"]

    # one day of changes: 20 new requests created in May, and 5 March requests closed
    env.add_requests(20, datetime(2024, 5, 29), 1, batch_seq=2)
    march = [r[0] for r in env.warehouse.con.execute(
        "SELECT unique_key FROM requests WHERE closed_date IS NULL AND month(created_date) = 3 LIMIT 5"
    ).fetchall()]  # fmt: skip
    env.close_some(march, datetime(2024, 5, 30, 9), batch_seq=2)
    env.refresh()
    outcomes = publish_release(env.settings)
    assert outcomes[1].detail.startswith("incremental v2")
    after = partition_files(url)
    assert after["2024-04"] == before["2024-04"]  # untouched: the same file
    assert after["2024-03"] != before["2024-03"] and after["2024-05"] != before["2024-05"]
    assert_lake_matches(env, url, read.with_duckdb)
    on_disk = {str(p.relative_to(url)) for p in Path(url).rglob("*.parquet")}
    assert on_disk == {f for e in read.manifest(url)["tables"].values() for f in e["files"]}


def test_a_failure_before_the_switch_leaves_the_old_lake_whole_and_the_next_run_catches_up(
    publish_env, tmp_path, monkeypatch
) -> None:
    url = str(tmp_path / "lake")
    env = publish_env(lake_url=url)
    publish_release(env.settings)
    old = read.with_duckdb(url, "requests")
    env.add_requests(30, datetime(2024, 5, 29), 1, batch_seq=2)
    env.refresh()

    def disk_full(*_args: object) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(lake, "write_manifest", disk_full)
    outcomes = publish_release(env.settings)
    assert (outcomes[1].status, outcomes[1].error) == ("failed", "No space left on device")
    same(old, read.with_duckdb(url, "requests"), ["unique_key"])  # new files written, not listed
    monkeypatch.undo()
    outcomes = publish_release(env.settings)
    assert [(o.sink, o.status) for o in outcomes] == [("serving", "skipped"), ("lake", "success")]
    assert_lake_matches(env, url, read.with_duckdb)
    on_disk = {str(p.relative_to(url)) for p in Path(url).rglob("*.parquet")}
    assert on_disk == {f for e in read.manifest(url)["tables"].values() for f in e["files"]}


@pytest.fixture
def s3_endpoint(monkeypatch) -> str:
    """moto's standalone S3 server on a free port, with a bucket; fsspec pointed at it by environment."""
    pytest.importorskip("s3fs")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port), "-H", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    try:
        import fsspec
        import httpx

        wait_for(lambda: httpx.get(endpoint, timeout=2).status_code < 500, timeout=60)
        fs = fsspec.filesystem("s3", endpoint_url=endpoint, skip_instance_cache=True)
        fs.mkdir("lake-bucket")
        yield endpoint
    finally:
        stop_process(server)


def test_lake_on_an_s3_compatible_endpoint(publish_env, s3_endpoint) -> None:
    url = "s3://lake-bucket/nyc"
    env = publish_env(lake_url=url)
    outcomes = publish_release(env.settings)
    assert outcomes[1].status == "success", outcomes[1].error
    assert_lake_matches(env, url, lambda u, t: read.with_pyarrow(u, t, endpoint_url=s3_endpoint))
    env.add_requests(20, datetime(2024, 5, 29), 1, batch_seq=2)
    env.refresh()
    outcomes = publish_release(env.settings)
    assert outcomes[1].detail.startswith("incremental v2")
    assert_lake_matches(env, url, lambda u, t: read.with_pyarrow(u, t, endpoint_url=s3_endpoint))
    assert os.environ["AWS_ENDPOINT_URL"] == s3_endpoint
