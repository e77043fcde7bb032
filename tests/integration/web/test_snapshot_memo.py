"""The snapshot reader remembers answers per published file; callers get their own copies."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from e2e.snapshot_factory import SnapshotSpec, build_snapshot
from resolve311.web.snapshot import SnapshotReader

SQL = "SELECT key, value FROM meta WHERE key = ?"


def _publish(source: Path, target: Path) -> None:
    tmp = target.with_name("serving.duckdb.publishing")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def test_answers_are_the_callers_own_and_follow_each_publish(tmp_path: Path) -> None:
    first = build_snapshot(tmp_path / "first.duckdb", SnapshotSpec(as_of_date=date(2026, 11, 26)))
    second = build_snapshot(tmp_path / "second.duckdb", SnapshotSpec(as_of_date=date(2026, 11, 27)))
    target = tmp_path / "serving.duckdb"
    _publish(first, target)
    reader = SnapshotReader(target)
    try:
        rows = reader.rows(SQL, ["as_of_date"])
        rows[0]["value"] = "changed by a caller"
        rows.append({"key": "extra"})
        assert reader.rows(SQL, ["as_of_date"]) == [{"key": "as_of_date", "value": "2026-11-26"}]
        frame = reader.frame(SQL, ["as_of_date"])
        frame["value"] = "changed"
        frame["added"] = 1
        again = reader.frame(SQL, ["as_of_date"])
        assert list(again.columns) == ["key", "value"] and again["value"].tolist() == ["2026-11-26"]
        _publish(second, target)
        assert reader.rows(SQL, ["as_of_date"])[0]["value"] == "2026-11-27"
        assert reader.frame(SQL, ["as_of_date"])["value"].tolist() == ["2026-11-27"]
    finally:
        reader.close()
