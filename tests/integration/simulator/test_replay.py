"""Replay: every real file is served as the API would serve its rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import REAL_FILES
from resolve311.schema import SODA_FIELDS, field_from_display_name

ReadAll = Callable[..., list[dict[str, Any]]]


def source_rows(path: Path) -> dict[str, dict[str, str]]:
    """The file's rows by unique_key (last wins), API field names, nulls dropped."""
    if path.suffix == ".json":
        records = json.loads(path.read_text(encoding="utf-8"))
    else:
        with path.open(encoding="utf-8", newline="") as handle:
            records = list(csv.DictReader(handle))
    out = {}
    for record in records:
        row = {field_from_display_name(k): v for k, v in record.items() if v not in ("", None)}
        out[row["unique_key"]] = {k: v for k, v in row.items() if k in SODA_FIELDS and k != "location"}
    return out


def iso(value: str) -> str:
    if "/" in value:
        return datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p").strftime("%Y-%m-%dT%H:%M:%S.000")
    return value


@pytest.mark.parametrize("path", REAL_FILES, ids=[p.name for p in REAL_FILES])
def test_every_real_file_replays(path: Path, make_sim: Callable[..., str], read_all: ReadAll) -> None:
    url = make_sim(replay=(path,), today=None)
    expected = source_rows(path)
    with httpx.Client(base_url=url, timeout=60) as client:
        served = {r["unique_key"]: r for r in read_all(client, "fhrw-4uyv")}
        by_era = len(read_all(client, "erm2-nwe9")) + len(read_all(client, "76ig-c548"))
    assert set(served) == set(expected)
    assert by_era == len(served)
    for key in list(expected)[:200]:
        want, got = expected[key], served[key]
        for field, value in want.items():
            assert got[field] == (iso(value) if field.endswith("_date") else value), (key, field)
        assert got[":created_at"] <= got[":updated_at"]
        assert got[":id"].startswith("row-")


def test_replay_of_several_files_keeps_text_as_delivered(
    make_sim: Callable[..., str], read_all: ReadAll
) -> None:
    url = make_sim(replay=tuple(REAL_FILES), today=None)
    with httpx.Client(base_url=url, timeout=60) as client:
        rows = read_all(client, "fhrw-4uyv")
        state = client.get("/_sim/state").json()
    assert any("\u00e2\u0080\u0099" in r.get("resolution_description", "") for r in rows)
    assert state["total_rows"] == len(rows) == len({r["unique_key"] for r in rows})
    assert state["today"] > max(r["created_date"] for r in rows)[:10]
