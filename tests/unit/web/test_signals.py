"""The overview's honest summary: flags strongest first, one line each, chance stated, quiet said plainly."""

from __future__ import annotations

from resolve311.web import signals


def row(agency: str, metric: str, score: float, **extra: object) -> dict[str, object]:
    base: dict[str, object] = {
        "agency": agency,
        "agency_name": f"{agency} name",
        "metric": metric,
        "score": score,
        "threshold": 5.0,
        "anomaly": abs(score) > 5.0,
        "small_sample": False,
        "recent": 9.1,
        "historical": 4.9,
        "diff_abs": 4.2,
        "diff_rel": 4.2 / 4.9,
        "n_recent": 380,
    }
    return base | extra


RATES = {"ttc_median_h": 0.005, "created_per_day": 0.004}


def test_flags_strongest_first_with_what_moved_by_how_much_against_what_and_n() -> None:
    rows = [
        row("DSNY", "ttc_median_h", 6.0),
        row("HPD", "ttc_median_h", 9.0),
        row("DOT", "created_per_day", 1.0),
        row("TLC", "created_per_day", 40.0, small_sample=True, anomaly=True),  # small: never a flag
    ]
    summary = signals.summarize(rows, RATES, "8w", "last 7 days")
    assert [f.agency for f in summary.flags] == ["HPD", "DSNY"]
    line = summary.flags[0].line
    assert line.startswith("Time to close, median up: 9.1 h vs 4.9 h (+4.2 h +86%)")
    assert "the same weekdays of the previous 8 weeks" in line
    assert "n = 380 requests validly closed in the window" in line
    assert "score +9.0, flag threshold 5.0" in line
    assert summary.tested == 3 and abs(summary.expected - 0.014) < 1e-12
    assert summary.headline.startswith("2 flagged values at 2 agencies in the last 7 days")
    assert "about 0.0 of these 3 values by chance" in summary.headline


def test_nothing_unusual_is_said_plainly() -> None:
    summary = signals.summarize([row("DOT", "created_per_day", 1.0)], RATES, "8w", "last day")
    assert summary.flags == []
    assert summary.headline.startswith("Nothing unusual in the last day")


def test_year_baseline_and_uncalibrated_history_are_explained() -> None:
    assert "8-week baseline only" in signals.summarize([], RATES, "1y", "last day").headline
    uncalibrated = [row("DOT", "created_per_day", 9.0, threshold=None, anomaly=False)]
    assert "Not enough history" in signals.summarize(uncalibrated, RATES, "8w", "last day").headline
