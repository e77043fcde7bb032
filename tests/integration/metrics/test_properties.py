"""Property tests: breakdowns add up, shares lie in [0, 1], quantiles lie between min and max."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolve311.publish import refresh_and_publish
from resolve311.settings import load_settings

START = datetime(2025, 1, 1)
ADDITIVE = ("created_per_day", "closed_per_day", "net_backlog_change_per_day", "backlog_end")
SHARES = (
    "closed_within_1d", "closed_within_3d", "closed_within_7d", "closed_within_30d",
    "on_time_share", "admin_close_share", "dirty_share",
)  # fmt: skip

request = st.tuples(
    st.sampled_from(["NYPD", "HPD"]),
    st.sampled_from(["Noise", "Heat"]),
    st.sampled_from(["BRONX", "QUEENS"]),
    st.integers(0, 60 * 24 * 75),  # created, minutes after START
    st.one_of(st.none(), st.floats(0, 24 * 20), st.just(-2.0)),  # hours to close (or open / dirty)
    st.booleans(),  # dirty
)


def load(path: Path, rows: list[tuple]) -> None:
    from zoneinfo import ZoneInfo

    nyc, utc = ZoneInfo("America/New_York"), ZoneInfo("UTC")

    def to_utc(t: datetime) -> datetime:
        return t.replace(tzinfo=nyc).astimezone(utc).replace(tzinfo=None)

    records = []
    for i, (agency, ctype, borough, minutes, hours, dirty) in enumerate(rows):
        created = START + timedelta(minutes=minutes)
        closed = created + timedelta(hours=hours) if hours is not None else None
        c_utc, k_utc = to_utc(created), (to_utc(closed) if closed else None)
        records.append(
            {
                "unique_key": str(i), "created_date": created, "closed_date": closed, "agency": agency,
                "complaint_type": ctype, "borough": borough, "source": "nyc", "created_utc": c_utc,
                "closed_utc": k_utc,
                "hours_to_close": (k_utc - c_utc).total_seconds() / 3600 if k_utc else None,
                "is_closed": closed is not None, "dirty_flags": ["x"] if dirty else [],
                "row_hash": str(i), "batch_seq": 1, "loaded_at": START,
            }
        )  # fmt: skip
    frame = pd.DataFrame(records)
    from resolve311.warehouse.connection import connect

    con = connect(path)
    con.register("frame", frame)
    con.execute("INSERT INTO requests BY NAME SELECT * FROM frame")
    con.execute("INSERT INTO sla_targets VALUES (NULL, 'Noise', 6)")
    con.close()


def published(rows: list[tuple]) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    home = Path(tempfile.mkdtemp(prefix="r311-prop-"))
    s = load_settings(home=home)
    load(s.warehouse_path, rows)
    refresh_and_publish(s, full=True)
    with duckdb.connect(str(s.snapshot_path), read_only=True) as con:
        return con.execute("SELECT * FROM scorecard").df(), con.execute("SELECT * FROM km_curve").df(), home


def level(card: pd.DataFrame, agency: str | None, ctype: str | None, borough: str | None) -> pd.DataFrame:
    mask = pd.Series(True, index=card.index)
    for col, value in (("agency", agency), ("complaint_type", ctype), ("borough", borough)):
        mask &= (card[col] != "*") if value == "any" else (card[col] == value)
    return card[mask]


def check_adds_up(card: pd.DataFrame) -> None:
    keys = ["window", "baseline", "metric"]
    card = card[card["metric"].isin(ADDITIVE)]
    city = level(card, "*", "*", "*").set_index(keys)["recent"]
    agencies = level(card, "any", "*", "*").groupby(keys)["recent"].sum()
    pd.testing.assert_series_equal(
        agencies.reindex(city.index, fill_value=0), city, check_names=False, rtol=1e-9
    )
    per_agency = level(card, "any", "*", "*").set_index(["agency", *keys])["recent"]
    for part in ("complaint_type", "borough"):
        other = "borough" if part == "complaint_type" else "complaint_type"
        rows = card[(card["agency"] != "*") & (card[part] != "*") & (card[other] == "*")]
        sums = rows.groupby(["agency", *keys])["recent"].sum()
        pd.testing.assert_series_equal(
            sums.reindex(per_agency.index, fill_value=0), per_agency, check_names=False, rtol=1e-9
        )


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(request, min_size=1, max_size=120))
def test_breakdowns_add_up_shares_bounded_quantiles_within_range(rows) -> None:
    card, km, home = published(rows)
    try:
        check_all(card, km, home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def check_all(card: pd.DataFrame, km: pd.DataFrame, home: Path) -> None:
    check_adds_up(card)
    shares = card[card["metric"].isin(SHARES)]
    for col in ("recent", "historical"):
        values = shares[col].dropna()
        assert ((values >= 0) & (values <= 1)).all()
    assert ((km["survival"] >= 0) & (km["survival"] <= 1)).all()
    for _, curve in km.groupby(["agency", "complaint_type", "borough", "window", "cohort"]):
        assert curve.sort_values("t_hours")["survival"].is_monotonic_decreasing
    check_quantiles_within_range(card, home)


def check_quantiles_within_range(card: pd.DataFrame, home: Path) -> None:
    s = load_settings(home=home)
    with duckdb.connect(str(s.snapshot_path), read_only=True) as con:
        as_of_date = con.execute("SELECT value FROM meta WHERE key = 'as_of_date'").fetchall()[0][0]
    with duckdb.connect(str(s.warehouse_path), read_only=True) as con:
        bounds = con.execute(
            "SELECT min(hours_to_close), max(hours_to_close) FROM requests WHERE hours_to_close >= 0"
            " AND CAST(closed_date AS DATE) BETWEEN CAST(? AS DATE) - 27 AND CAST(? AS DATE)",
            [as_of_date, as_of_date],
        ).fetchall()[0]
    city = level(card, "*", "*", "*")
    city = city[(city["window"] == "28d") & (city["baseline"] == "8w")].set_index("metric")["recent"]
    low, high = bounds
    if low is None:  # nothing closed in the window: no time to close
        assert pd.isna(city.get("ttc_median_h"))
        return
    for metric in ("ttc_median_h", "ttc_p90_h"):
        assert low - 1e-9 <= city[metric] <= high + 1e-9
    assert city["ttc_median_h"] <= city["ttc_p90_h"] + 1e-9
