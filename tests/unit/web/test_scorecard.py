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
    agency: str,
    metric: str,
    score: float | None,
    *,
    small: bool = False,
    anomaly: bool = False,
    threshold: float | None = 5.0,
    p_value: float | None = None,
) -> dict[str, object]:
    return {
        "agency": agency,
        "agency_name": agency.lower(),
        "metric": metric,
        "score": score,
        "small_sample": small,
        "anomaly": anomaly,
        "threshold": threshold,
        "p_value": p_value,
    }


def test_ranked_by_calibrated_evidence_not_raw_sigma_small_samples_last() -> None:
    ranked = rank_agencies(
        [
            row("A", "created_per_day", 1.0, p_value=0.5),
            # 9σ on a metric whose ordinary days reach 8σ: a weaker flag than 6σ against a 4σ threshold
            row("A", "ttc_median_h", -9.0, anomaly=True, threshold=8.0, p_value=0.003),
            row("E", "closed_per_day", 6.0, anomaly=True, threshold=4.0, p_value=0.003),
            row("B", "created_per_day", 2.0, p_value=0.2),
            row("F", "created_per_day", 3.0, p_value=0.4),  # more σ than B, less unusual for F
            row("C", "created_per_day", 30.0, small=True, anomaly=True),  # small: never flags nor ranks
            row("D", "created_per_day", None),
        ]
    )
    assert [s.agency for s in ranked] == ["E", "A", "B", "F", "D", "C"]
    assert ranked[0].evidence == 1.5 and ranked[1].evidence == 9 / 8 and ranked[1].movement == 9.0
    assert ranked[1].anomaly and not ranked[2].anomaly
    assert ranked[-1].small_sample and not ranked[-1].anomaly and ranked[-1].movement is None
