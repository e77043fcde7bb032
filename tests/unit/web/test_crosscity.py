"""The cross-city comparison (pure): per-100k volumes, cohort medians and shares, n and small samples."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from resolve311.sources.categories import Category
from resolve311.web.crosscity import (
    COUNTS,
    CityFacts,
    Sums,
    closed_means,
    compare_city,
    measures,
    median_days,
    window_bounds,
    within_7d,
)

FACTS = CityFacts("chicago", "Chicago", 200_000, date(2026, 11, 27), 20, ("Completed",), ("Canceled",))


def sums(window: str, **counts: int) -> Sums:
    out = Sums()
    out.windows[window] = dict.fromkeys(COUNTS, 0) | counts
    return out


def test_the_median_is_the_bucket_where_half_the_cohort_has_closed() -> None:
    cohort = sums("cohort_recent", created=10, closed_d1=3, closed_d2=2, closed_d14=4)
    assert median_days(cohort, "cohort_recent", 5) == {
        "value": 2.0, "n": 10, "small_sample": False, "low": 1, "high": 2,
    }  # fmt: skip
    wide = sums("cohort_recent", created=10, closed_d1=1, closed_d14=5)
    assert (median_days(wide, "cohort_recent", 5)["low"], median_days(wide, "cohort_recent", 5)["high"]) == (
        7,
        14,
    )


def test_a_median_not_reached_while_most_are_open_is_said_so() -> None:
    cohort = sums("cohort_recent", created=10, closed_d1=2)
    result = median_days(cohort, "cohort_recent", 5)
    assert result["value"] is None and result["not_reached"] is True


def test_requests_closed_without_a_time_leave_the_cohort() -> None:
    cohort = sums("cohort_historical", created=12, closed_d1=4, closed_d7=2, closed_d30=2, closed_untimed=2)
    assert within_7d(cohort, "cohort_historical", 5) == {"value": 0.6, "n": 10, "small_sample": False}


def test_volumes_and_backlog_are_per_100k_residents_with_their_n() -> None:
    s = sums("recent", created=50)
    s.add(sums("historical", created=600))
    s.open_now = 30
    got = measures(s, FACTS)
    assert got["volume_recent_per_100k"] == {"value": 25.0, "n": 50, "small_sample": False}
    # 600 over the 336 days before the recent window = 50 per 28 days = 25 per 100k
    assert got["volume_historical_per_100k"]["value"] == pytest.approx(25.0)
    assert got["backlog_per_100k"] == {"value": 15.0, "n": 30, "small_sample": False}


def test_values_on_fewer_requests_than_the_citys_floor_are_small_samples() -> None:
    got = measures(sums("recent", created=19), FACTS)
    assert got["volume_recent_per_100k"]["small_sample"] is True
    assert measures(sums("recent", created=20), FACTS)["volume_recent_per_100k"]["small_sample"] is False


def test_without_a_population_there_is_no_rate() -> None:
    facts = CityFacts("x", "X", None, date(2026, 11, 27), 20)
    assert measures(sums("recent", created=50), facts)["volume_recent_per_100k"]["value"] is None


def test_types_pool_into_the_first_category_that_lists_them() -> None:
    noise = Category("noise", "Noise", types={"chicago": ("Noise*",)})
    aircraft = Category(
        "aircraft", "Aircraft", types={"chicago": ("Aircraft Noise Complaint", "Noise Complaint")}
    )
    by_type = {
        "Noise Complaint": sums("recent", created=30),
        "Aircraft Noise Complaint": sums("recent", created=10),
        "Pothole in Street Complaint": sums("recent", created=99),
    }
    rows = {r["category"]: r for r in compare_city(FACTS, by_type, [noise, aircraft])}
    assert rows["noise"]["types"] == ["Noise Complaint"]
    assert rows["aircraft"]["types"] == ["Aircraft Noise Complaint"]
    assert rows["noise"]["measures"]["volume_recent_per_100k"]["n"] == 30


def test_the_caveat_names_the_citys_closing_vocabulary() -> None:
    assert closed_means(FACTS) == (
        "Closed: a status starting with “Completed”; “Canceled” also end a request and count as closed."
    )


def test_the_caveat_says_which_duplicates_are_not_counted() -> None:
    facts = replace(FACTS, duplicate_statuses=("Duplicate",), duplicate_field="duplicate")
    assert closed_means(facts).endswith(
        ". Duplicate reports (status “Duplicate” or “duplicate” = true) are not counted."
    )


def test_cohorts_are_old_enough_for_the_seven_day_share() -> None:
    bounds = window_bounds(date(2026, 11, 27))
    assert bounds["recent"] == (date(2026, 10, 31), date(2026, 11, 27))
    assert bounds["cohort_recent"][1] == date(2026, 11, 19)  # 8 days before: 7 full days to close
    assert bounds["cohort_historical"][1] < bounds["cohort_recent"][0]
