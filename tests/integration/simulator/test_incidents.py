"""Injected incidents change exactly what they say, for the named agency and period only."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from resolve311.errors import ConfigError
from resolve311.simulator.incidents import parse_incident

from .conftest import ORACLE

TODAY = date(2024, 4, 16)
PERIOD = "2024-04-01..2024-04-07"


def rows(url: str, agency: str) -> list[dict[str, Any]]:
    query = {
        "$select": "unique_key, created_date, closed_date",
        "$where": f"agency = '{agency}' AND created_date between '2024-03-25T00:00:00' and '2024-04-07T23:59:59'",
        "$limit": "50000",
    }
    response = httpx.get(f"{url}/resource/erm2-nwe9.json", params=query, headers=ORACLE, timeout=60)
    response.raise_for_status()
    out: list[dict[str, Any]] = response.json()
    return out


def median_hours(found: list[dict[str, Any]], first: str, last: str) -> float:
    hours = []
    for r in found:
        created = datetime.fromisoformat(r["created_date"])
        if not first <= created.date().isoformat() <= last or not r.get("closed_date"):
            continue
        closed = datetime.fromisoformat(r["closed_date"])
        if closed >= created:
            hours.append((closed - created).total_seconds() / 3600)
    return statistics.median(hours)


def test_ttc_and_volume_incidents_hit_only_their_agency_and_period(make_sim: Callable[..., str]) -> None:
    common = {"seed": 5, "today": TODAY, "history_days": 30, "scale": 0.05}
    plain = make_sim(**common)
    hit = make_sim(
        **common,
        incidents=(parse_incident(f"NYPD:ttc:3.0:{PERIOD}"), parse_incident(f"DSNY:volume:2.0:{PERIOD}")),
    )
    before, after = rows(plain, "NYPD"), rows(hit, "NYPD")  # hours to close: all seen by today
    ratio = median_hours(after, "2024-04-01", "2024-04-07") / median_hours(before, "2024-04-01", "2024-04-07")
    assert 2.5 < ratio < 3.5  # the week's requests take three times as long
    # the week before is untouched: same requests, same closes
    assert median_hours(after, "2024-03-25", "2024-03-31") == median_hours(before, "2024-03-25", "2024-03-31")
    in_period = [r for r in rows(hit, "DSNY") if r["created_date"][:10] >= "2024-04-01"]
    baseline = [r for r in rows(plain, "DSNY") if r["created_date"][:10] >= "2024-04-01"]
    assert 1.6 < len(in_period) / len(baseline) < 2.4
    assert len({r["unique_key"] for r in in_period}) == len(in_period)  # the extra keys are new


@pytest.mark.parametrize(
    "spec",
    ["DSNY:ttc:2.0", "DSNY:speed:2:2024-01-01..2024-01-02", "DSNY:ttc:x:2024-01-01..2024-01-02",
     "DSNY:ttc:2:2024-01-05..2024-01-02", "DSNY:ttc:0:2024-01-01..2024-01-02"],
)  # fmt: skip
def test_bad_incident_specs_say_why(spec: str) -> None:
    with pytest.raises(ConfigError, match="bad --incident"):
        parse_incident(spec)
