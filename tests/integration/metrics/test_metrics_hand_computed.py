"""Every scorecard metric on a small fixed fixture, against values worked out by hand.

The data's as-of is Thu 2025-03-20 12:00, so the last complete day is Wed 2025-03-19.
Window '1d' = 2025-03-19; its '8w' units are the 8 previous Wednesdays (03-12 … 01-22);
its '1y' unit is Wed 2024-03-20 (364 days earlier). DST began on 2025-03-09.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from resolve311.publish import refresh_and_publish

NYPD = ("NYPD", "*", "*")
APPROX = pytest.approx


def d(day: str, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute)


def build(warehouse) -> None:
    w = warehouse
    # history start (another agency) -> every baseline unit is covered
    w.add("dot1", d("2024-03-01", 9), d("2024-03-02", 9), agency="DOT", complaint_type="Pothole")
    # the recent day, Wed 2025-03-19
    w.add("r1", d("2025-03-19", 8), d("2025-03-19", 10), lat=40.7012, lon=-73.9888)  # 2 h
    w.add("r2", d("2025-03-19", 9), d("2025-03-19", 9, 5), lat=40.7099, lon=-73.9801)  # 5 min: admin close
    w.add("r3", d("2025-03-19", 10), dirty=["unspecified_borough"], lat=0.0, lon=0.0)  # open; off the map
    w.add("r4", d("2025-03-19", 11), d("2025-03-20", 11))  # closes after the window, 24 h
    w.add("r5", d("2025-03-10", 12), d("2025-03-19", 12))  # older, closed in the window: 216 h
    w.add("r6", d("2025-03-01", 0))  # open for weeks (its age spans the DST change)
    # r7: seen open on 03-15, its close (back-dated to 03-18) only published on 03-21 (UTC)
    w.add("r7", d("2025-03-14", 10), updated_at=d("2025-03-15", 12), batch_seq=1)
    w.commit()
    w.add("r7", d("2025-03-14", 10), d("2025-03-18", 10), updated_at=d("2025-03-21", 1), batch_seq=2)
    # baseline Wednesdays: unit k has k requests, each closed after exactly 1 h
    for k in range(1, 9):
        day = d("2025-03-19", 9) - timedelta(days=7 * k)
        for i in range(k):
            w.add(f"b{k}-{i}", day + timedelta(minutes=i), day + timedelta(hours=1, minutes=i))
    # a year earlier: 10 requests, each closed after 2 h
    for i in range(10):
        w.add(f"y{i}", d("2024-03-20", 9, i), d("2024-03-20", 11, i))
    # the newest record defines the as-of
    w.add("last", d("2025-03-20", 12), agency="DOT", complaint_type="Pothole")
    w.add_sla("Noise", 3.0)
    w.commit()


@pytest.fixture(scope="module")
def published(module_env):
    build(module_env.warehouse)
    report = refresh_and_publish(module_env.settings, full=True)
    assert report.as_of == d("2025-03-20", 12)
    return module_env.snap


MAD_UNITS_1_TO_8 = 2.0  # median |k - 4.5| for k = 1..8


@pytest.mark.parametrize(
    ("metric", "recent", "historical", "n_recent", "n_historical"),
    [
        ("created_per_day", 4, 4.5, 4, 36),  # r1..r4 vs (1+…+8)/8
        ("closed_per_day", 3, 4.5, 3, 36),  # r1, r2, r5
        ("net_backlog_change_per_day", 1, 0, 7, 72),  # n: created + closed
        # final data: r3, r4, r6 open at 03-20 00:00 (r7's close is known now); r5, r6 at 03-13, r6 at 03-06
        ("backlog_end", 3, 3 / 8, 3, 3),
        ("backlog_age_median_h", 14, 120, 3, 3),  # ages [13, 14, 455] ; [60, 287, 120]
        ("backlog_age_p90_h", 366.8, 253.6, 3, 3),  # 14 + 0.8 * (455 - 14)
        ("ttc_median_h", 2, 1, 3, 36),  # [5 min, 2 h, 216 h]
        ("ttc_p90_h", 173.2, 1, 3, 36),  # 2 + 0.8 * (216 - 2)
        # like-for-like cohorts: the X-day cohort of the 1d window is the day X days before 03-19
        ("closed_within_1d", None, None, 0, 0),  # Tue 03-18 and the 8 Tuesdays before: nobody
        ("closed_within_3d", None, None, 0, 0),  # Sundays: nobody
        ("closed_within_7d", 1, 1, 1, 35),  # Wed 03-12 (b1-0) vs Wednesdays 03-05 … 01-22 (b2..b8)
        ("closed_within_30d", None, None, 0, 0),  # Mondays: nobody
        ("km_median_h", 2, 1, 4, 36),  # S(0.25) = 3/4, S(2) = 1/2; baselines censored at the same age
        ("on_time_share", 2 / 3, 1, 3, 36),  # target 3 h: r1, r2 on time, r5 late
        ("admin_close_share", 1 / 3, 0, 3, 36),
        ("dirty_share", 0.25, 0, 4, 36),
    ],
)
def test_scorecard_1d_against_8_week_baseline(
    published, metric, recent, historical, n_recent, n_historical
) -> None:
    row = published.score(metric, group=NYPD)
    for got, want in ((row["recent"], recent), (row["historical"], historical)):
        if want is None:
            assert math.isnan(got)
        else:
            assert got == APPROX(want)
    assert row["n_recent"] == n_recent  # each metric's own population
    assert row["n_historical"] == n_historical
    assert bool(row["small_sample"]) is True  # n < min_group_size 20
    assert bool(row["anomaly"]) is False


def test_robust_score_and_differences(published) -> None:
    row = published.score("created_per_day", group=NYPD)
    assert row["diff_abs"] == APPROX(-0.5)
    assert row["diff_rel"] == APPROX(-0.5 / 4.5)
    assert row["score"] == APPROX((4 - 4.5) / (1.4826 * MAD_UNITS_1_TO_8))
    assert math.isnan(published.score("created_per_day", group=NYPD, baseline="1y")["score"])


def test_year_earlier_baseline(published) -> None:
    assert published.score("created_per_day", group=NYPD, baseline="1y")["historical"] == APPROX(10)
    assert published.score("ttc_median_h", group=NYPD, baseline="1y")["historical"] == APPROX(2)
    # 2024-03-21 is within 90 days of the history start (2024-03-01): its backlog is not known
    assert math.isnan(published.score("backlog_end", group=NYPD, baseline="1y")["historical"])
    assert published.score("created_per_day", group=NYPD, baseline="1y")["n_historical"] == 10


def test_seven_day_window_and_city_level(published) -> None:
    # 03-13..03-19: r1..r4 and r7 created; r1, r2, r5, r7 closed
    assert published.score("created_per_day", group=NYPD, window="7d")["recent"] == APPROX(5 / 7)
    assert published.score("closed_per_day", group=NYPD, window="7d")["recent"] == APPROX(4 / 7)
    city = published.score("created_per_day", window="7d")
    assert city["recent"] == APPROX(5 / 7)  # DOT created nothing in the window


def test_backlog_uses_final_data_at_every_moment(published) -> None:
    # r7's close (back-dated to 03-18, published on 03-21) counts as closed at 03-20 00:00, as it does
    # at every past moment: all moments are computed from the same (final) information
    assert published.score("backlog_end", group=("NYPD", "Noise", "*"))["recent"] == 3
    # 28d window: backlog at 03-20 00:00 is the same moment, same answer
    assert published.score("backlog_end", group=NYPD, window="28d")["recent"] == 3


def test_heatmap_when_counts_per_week(published) -> None:
    rows = published.rows(
        "SELECT hour, recent, historical FROM heatmap_when WHERE agency = 'NYPD' AND complaint_type = '*'"
        " AND borough = '*' AND \"window\" = '1d' AND baseline = '8w' AND weekday = 2 ORDER BY hour"
    )
    by_hour = {h: (r, hist) for h, r, hist in rows}
    # recent: one request per hour 8..11 on one day = 7 per week; baseline: 36 requests at 09:xx in 8 days
    assert by_hour[8] == (APPROX(7.0), APPROX(0.0))
    assert by_hour[9] == (APPROX(7.0), APPROX(36 / (8 / 7)))
    assert set(by_hour) == {8, 9, 10, 11}


def test_heatmap_where_cells_per_day(published) -> None:
    rows = published.rows(
        "SELECT agency, complaint_type, cell_lat, cell_lon, recent, historical, difference FROM heatmap_where"
        " WHERE \"window\" = '1d' AND baseline = '8w' ORDER BY ALL"
    )
    # r1 and r2 share the 0.01° cell [40.70, 40.71) × [-73.99, -73.98); r3 lies outside NYC
    assert rows == [
        ("*", "*", APPROX(40.705), APPROX(-73.985), APPROX(2.0), APPROX(0.0), APPROX(2.0)),
        ("NYPD", "*", APPROX(40.705), APPROX(-73.985), APPROX(2.0), APPROX(0.0), APPROX(2.0)),
    ]


def test_series_days_and_baseline_band(published) -> None:
    rows = published.rows(
        "SELECT date, created, closed, baseline_low, baseline_mid, baseline_high FROM series"
        " WHERE agency = 'NYPD' AND complaint_type = '*' AND borough = '*' AND period = 'day'"
        " AND date = DATE '2025-03-19'"
    )
    (_, created, closed, low, mid, high) = rows[0]
    assert (created, closed) == (4, 3)
    # same weekday 1..8 weeks earlier: created 1..8 -> p10 1.7, median 4.5, p90 7.3
    assert (low, mid, high) == (APPROX(1.7), APPROX(4.5), APPROX(7.3))
    days = published.rows("SELECT count(*), max(date) FROM series WHERE agency = '*' AND period = 'day'")
    assert days == [(384, d("2025-03-19").date())]  # 400 days, but history starts on 2024-03-01
    weeks = published.rows(
        "SELECT sum(created) FROM series WHERE agency = 'NYPD' AND complaint_type = '*' AND borough = '*'"
        " AND period = 'week'"
    )
    assert weeks == [(4 + 1 + 1 + 1 + 36 + 10,)]  # every NYPD request up to as_of_date


def test_km_curve_steps(published) -> None:
    rows = published.rows(
        "SELECT t_hours, survival, at_risk FROM km_curve WHERE agency = 'NYPD' AND complaint_type = '*'"
        " AND borough = '*' AND \"window\" = '1d' AND cohort = 'recent' ORDER BY t_hours"
    )
    curve = {t: (s, n) for t, s, n in rows}
    assert curve[0.0] == (APPROX(1.0), 4)
    assert curve[0.25] == (APPROX(0.75), 4)
    assert curve[2.0] == (APPROX(0.5), 3)
    assert curve[24.0] == (APPROX(0.25), 2)
    assert 48.0 not in curve  # r3 censored at 26 h: nobody left at risk, the curve ends


def test_agencies_table(published) -> None:
    rows = published.rows("SELECT agency, agency_name, requests_total FROM agencies ORDER BY agency")
    assert rows == [("DOT", "DOT name", 2), ("NYPD", "NYPD name", 53)]
