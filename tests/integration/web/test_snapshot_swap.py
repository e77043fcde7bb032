"""The server follows a newly published snapshot without a restart and without failed requests."""

from __future__ import annotations

import os
import shutil
import threading
from datetime import date
from pathlib import Path

import pytest

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from resolve311.errors import SnapshotMissing
from resolve311.settings import load_settings
from resolve311.web.app import create_app
from resolve311.web.snapshot import SnapshotReader


def publish(source: Path, target: Path) -> None:
    """Copy under a temporary name and rename into place, like the metrics stage."""
    tmp = target.with_name("serving.duckdb.publishing")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


@pytest.fixture(scope="module")
def two_snapshots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("two")
    first = build_snapshot(folder / "first.duckdb", SnapshotSpec(as_of_date=date(2026, 11, 26)))
    second = build_snapshot(folder / "second.duckdb", SnapshotSpec(as_of_date=date(2026, 11, 27)))
    return first, second


def test_reader_raises_snapshot_missing_until_a_file_is_published(
    tmp_path: Path, two_snapshots: tuple[Path, Path]
) -> None:
    reader = SnapshotReader(tmp_path / "serving.duckdb")
    assert not reader.available()
    with pytest.raises(SnapshotMissing):
        reader.rows("SELECT 1")
    publish(two_snapshots[0], tmp_path / "serving.duckdb")
    assert reader.available()
    assert reader.rows("SELECT value FROM meta WHERE key = 'as_of_date'") == [{"value": "2026-11-26"}]


def test_reader_reopens_after_a_new_file_is_renamed_into_place(
    tmp_path: Path, two_snapshots: tuple[Path, Path]
) -> None:
    target = tmp_path / "serving.duckdb"
    reader = SnapshotReader(target)
    sql = "SELECT value FROM meta WHERE key = 'as_of_date'"
    publish(two_snapshots[0], target)
    assert reader.rows(sql)[0]["value"] == "2026-11-26"
    publish(two_snapshots[1], target)
    assert reader.rows(sql)[0]["value"] == "2026-11-27"
    target.unlink()
    with pytest.raises(SnapshotMissing):
        reader.rows(sql)


def test_no_request_fails_while_snapshots_are_swapped(
    tmp_path: Path, two_snapshots: tuple[Path, Path]
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    publish(two_snapshots[0], home / "serving.duckdb")
    app = create_app(load_settings(home=home))
    failures: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def hammer() -> None:
        client = app.server.test_client()
        while not stop.is_set():
            for url in ("/api/status", "/api/agencies/HPD/heatmap?kind=where"):
                response = client.get(url)
                if response.status_code != 200:
                    failures.append(f"{url} {response.status_code}")
                elif url == "/api/status":
                    seen.add(response.get_json()["as_of_date"])

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for i in range(10):
            publish(two_snapshots[i % 2], home / "serving.duckdb")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert failures == []
    assert seen <= {"2026-11-26", "2026-11-27"}
    last = app.server.test_client().get("/api/status").get_json()
    assert last["as_of_date"] == "2026-11-27"
