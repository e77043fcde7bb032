"""Right-censoring: the naive "mean of closed" says recent is faster; the cohort measures say slower.

Historical cohorts (8 previous weeks): 10 requests a week, 9 closed after 2 h, 1 after 10 days.
Recent cohort (created 5 days before the as-of): 20 requests, 9 closed after 1 h, 2 after 30 h,
9 still open. Only the quick ones have closed yet, so averaging the closed ones flatters it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import duckdb
import pytest

from resolve311.publish import refresh_and_publish

AS_OF = datetime(2025, 6, 12, 6)  # a Thursday; last complete day 2025-06-11
GROUP = ("DEP", "*", "*")


def build(warehouse) -> None:
    w = warehouse
    recent_day = datetime(2025, 6, 6, 10)  # 5 days before the last complete day
    for i in range(20):
        hours = 1 if i < 9 else 30 if i < 11 else None
        closed = recent_day + timedelta(hours=hours) if hours else None
        w.add(
            f"r{i}", recent_day + timedelta(seconds=i), closed and closed + timedelta(seconds=i), agency="DEP"
        )
    for week in range(1, 9):
        day = recent_day - timedelta(days=7 * week)
        for i in range(10):
            hours = 2 if i < 9 else 240
            created = day + timedelta(seconds=i)
            w.add(f"h{week}-{i}", created, created + timedelta(hours=hours), agency="DEP")
    w.add("start", datetime(2025, 1, 1, 9), datetime(2025, 1, 1, 10), agency="DOT")
    w.add("last", AS_OF, agency="DOT")
    w.commit()


@pytest.fixture(scope="module")
def published(module_env):
    build(module_env.warehouse)
    refresh_and_publish(module_env.settings, full=True)
    return module_env


def naive_mean_hours(env, first: datetime, last: datetime) -> float:
    """Mean hours to close of the requests created in [first, last) that have closed."""
    with duckdb.connect(str(env.settings.warehouse_path)) as con:
        rows = con.execute(
            "SELECT avg(hours_to_close) FROM requests WHERE agency = 'DEP' AND is_closed"
            " AND created_date >= ? AND created_date < ?",
            [first, last],
        ).fetchall()
    return float(rows[0][0])


def test_naive_mean_of_closed_says_recent_is_faster(published) -> None:
    recent = naive_mean_hours(published, datetime(2025, 6, 5), datetime(2025, 6, 12))
    historical = naive_mean_hours(published, datetime(2025, 4, 10), datetime(2025, 6, 5))
    assert recent < historical  # (9·1 + 2·30)/11 ≈ 6.3 h vs (9·2 + 240)/10 = 25.8 h


def test_cohort_shares_and_kaplan_meier_say_recent_is_slower(published) -> None:
    snap = published.snap
    within_1d = snap.score("closed_within_1d", group=GROUP, window="7d")
    assert within_1d["recent"] == pytest.approx(9 / 20)  # the 9 open ones count, as not closed
    assert within_1d["historical"] == pytest.approx(0.9)
    assert within_1d["recent"] < within_1d["historical"]
    within_3d = snap.score("closed_within_3d", group=GROUP, window="7d")
    assert within_3d["recent"] == pytest.approx(11 / 20)
    assert within_3d["recent"] < within_3d["historical"]
    km = snap.score("km_median_h", group=GROUP, window="7d")
    assert km["recent"] == pytest.approx(30.0)  # S(1 h) = 11/20, S(30 h) = 9/20
    assert km["historical"] == pytest.approx(2.0)
    assert km["recent"] > km["historical"]
    # like-for-like: each share uses the latest cohort fully observable at that age, so the
    # 30-day share of the 7-day window is the cohort created 30 days earlier (the week of 9 May),
    # not a 5-day-old cohort; its n is that cohort's size
    within_30d = snap.score("closed_within_30d", group=GROUP, window="7d")
    assert within_30d["recent"] == pytest.approx(1.0) and within_30d["n_recent"] == 10
    assert within_1d["n_recent"] == 20 and within_3d["n_recent"] == 20
