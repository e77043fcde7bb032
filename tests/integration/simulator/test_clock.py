"""The simulated clock: records live, the newest day is partial, a watermark pull sees every version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

ReadAll = Callable[..., list[dict[str, Any]]]
TODAY = date(2024, 4, 16)


def pull_since(client: httpx.Client, watermark: str, page_size: int = 300) -> list[dict[str, Any]]:
    """A plain incremental puller: >= watermark, ordered by :updated_at,:id, paged by offset."""
    rows: list[dict[str, Any]] = []
    while True:
        params = {
            "$select": ":*,*",
            "$where": f":updated_at >= '{watermark}'",
            "$order": ":updated_at,:id",
            "$limit": str(page_size),
            "$offset": str(len(rows)),
        }
        batch = client.get("/resource/erm2-nwe9.json", params=params).json()
        rows.extend(batch)
        if len(batch) < page_size:
            return rows


def test_state_reports_today_and_counts(make_sim: Callable[..., str]) -> None:
    url = make_sim(scale=0.02, history_days=3)
    state = httpx.get(f"{url}/_sim/state").json()
    assert state["today"] == TODAY.isoformat()
    assert state["rows"]["erm2-nwe9"] == state["total_rows"] > 0


def test_newest_day_is_partial_and_about_half_open(make_sim: Callable[..., str], read_all: ReadAll) -> None:
    url = make_sim(scale=0.1, history_days=10)
    with httpx.Client(base_url=url, timeout=60) as client:
        rows = read_all(client)
    newest = max(r["created_date"] for r in rows)
    assert newest.startswith("2024-04-16T0") and newest < "2024-04-16T06:00:00"
    yesterday = [r for r in rows if r["created_date"].startswith("2024-04-15")]
    open_share = sum("closed_date" not in r for r in yesterday) / len(yesterday)
    assert 0.35 <= open_share <= 0.65
    older = [r for r in rows if r["created_date"].startswith("2024-04-08")]
    assert sum("closed_date" not in r for r in older) / len(older) < open_share


def test_advance_creates_days_and_changes_rows(make_sim: Callable[..., str], read_all: ReadAll) -> None:
    url = make_sim(scale=0.05, history_days=5)
    with httpx.Client(base_url=url, timeout=60) as client:
        before = {r["unique_key"]: r for r in read_all(client)}
        state = client.post("/_sim/advance", params={"days": 2}).json()
        after = {r["unique_key"]: r for r in read_all(client)}
    assert state["today"] == "2024-04-18"
    new_keys = set(after) - set(before)
    assert new_keys and all(after[k]["created_date"] >= "2024-04-16" for k in new_keys)
    assert set(before) <= set(after)
    changed = [k for k in before if after[k] != before[k]]
    assert changed, "some requests must have been assigned, closed or edited"
    for key in changed:
        assert after[key][":updated_at"] > before[key][":updated_at"]
        assert after[key][":created_at"] == before[key][":created_at"]
    closed_now = [k for k in changed if "closed_date" in after[k] and "closed_date" not in before[k]]
    assert closed_now


def test_watermark_pull_sees_each_version_as_the_oracle(
    make_sim: Callable[..., str], read_all: ReadAll
) -> None:
    url = make_sim(scale=0.05, history_days=5)
    with httpx.Client(base_url=url, timeout=60) as client:
        first = read_all(client)
        watermark = max(r[":updated_at"] for r in first)
        client.post("/_sim/advance", params={"days": 1})
        pulled = pull_since(client, watermark)
        truth = read_all(client)
    expected = {r[":id"]: r for r in truth if r[":updated_at"] >= watermark}
    assert len(pulled) == len({r[":id"] for r in pulled}) == len(expected)
    assert {r[":id"]: r for r in pulled} == expected


def test_advance_is_the_same_as_starting_later(make_sim: Callable[..., str], read_all: ReadAll) -> None:
    advanced = make_sim(scale=0.02, history_days=3)
    httpx.post(f"{advanced}/_sim/advance", params={"days": 1})
    later = make_sim(scale=0.02, history_days=4, today=date(2024, 4, 17))
    with httpx.Client(base_url=advanced) as a, httpx.Client(base_url=later) as b:
        assert read_all(a) == read_all(b)


def test_full_replace_bumps_every_updated_at(make_sim: Callable[..., str], read_all: ReadAll) -> None:
    url = make_sim(scale=0.02, history_days=3)
    with httpx.Client(base_url=url) as client:
        before = read_all(client)
        client.post("/_sim/replace")
        after = {r[":id"]: r for r in read_all(client)}
    assert len(after) == len(before)
    assert all(after[r[":id"]][":updated_at"] >= r[":updated_at"] for r in before)
    assert all(r[":updated_at"].startswith("2024-04-16T1") for r in after.values())
    older = [r for r in before if not r[":updated_at"].startswith("2024-04-16")]
    assert older and all(after[r[":id"]][":updated_at"] > r[":updated_at"] for r in older)
