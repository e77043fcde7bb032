"""Scorecard formatting and ranking of agencies by movement."""

from __future__ import annotations

import pytest

from resolve311.web.scorecard import fmt, fmt_rel, rank_agencies


@pytest.mark.parametrize(
    "metric,value,signed,text",
    [
        ("created_per_day", 1234.4, False, "1,234"),
        ("created_per_day", 3.25, True, "+3.2"),
        ("ttc_median_h", 5.0, False, "5.0 h"),
        ("ttc_median_h", 72.0, False, "3.0 d"),
        ("closed_within_7d", 0.634, False, "63%"),
        ("closed_within_7d", -0.1, True, "-10 pts"),
        ("backlog_end", None, False, "–"),
        ("backlog_end", float("nan"), False, "–"),
    ],
)
def test_fmt(metric: str, value: float | None, signed: bool, text: str) -> None:
    assert fmt(metric, value, signed=signed) == text


def test_fmt_rel() -> None:
    assert fmt_rel(0.25) == "+25%" and fmt_rel(None) == ""


def row(
    agency: str, metric: str, score: float | None, *, small: bool = False, anomaly: bool = False
) -> dict[str, object]:
    return {
        "agency": agency,
        "agency_name": agency.lower(),
        "metric": metric,
        "score": score,
        "small_sample": small,
        "anomaly": anomaly,
    }


def test_most_moved_first_small_samples_last_nulls_count_as_unmoved() -> None:
    ranked = rank_agencies(
        [
            row("A", "created_per_day", 1.0),
            row("A", "ttc_median_h", -4.0, anomaly=True),
            row("B", "created_per_day", 2.0),
            row("C", "created_per_day", 9.0, small=True),
            row("D", "created_per_day", None),
        ]
    )
    assert [s.agency for s in ranked] == ["A", "B", "D", "C"]
    assert ranked[0].movement == 4.0 and ranked[0].anomaly
    assert ranked[-1].small_sample and ranked[2].movement is None
