"""The ONE place the digest reads the serving snapshot's signal columns.

Everything else in ``digest/`` sees plain :class:`Signal` values. Today's snapshot
(docs/snapshot.md) has no calibrated flag yet, so this adapter maps:

- ``flagged``  <- ``scorecard.anomaly AND NOT small_sample`` (|robust score| > threshold);
- ``n``        <- ``scorecard.n_recent`` (requests created in the window, not the metric's own population);
- ``false_alarm_rate`` <- ``meta.anomaly_rate_history`` (share of agency-days of the last year
  the flagger would have flagged, one rate for all metrics), ``calibrated = False``;
- ``strength`` <- ``abs(score)``; metric labels and units from ``web/scorecard.py``.

When issue 10 lands (per-metric n, a calibrated flag, a measured false-alarm rate per metric and
``metrics/registry.py``), switch the column names in :func:`read_tables` / :func:`_signal` and the
label/direction lookups below; nothing else in the digest changes. docs/digest.md says so too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from resolve311.web.scorecard import HEADLINE, METRICS, fmt, fmt_rel, number
from resolve311.web.snapshot import SnapshotReader

Direction = Literal["up_is_worse", "down_is_worse", "neutral"]

#: Which way is worse, per metric (to move to the metric registry of issue 10).
DIRECTION: Final[dict[str, Direction]] = {
    "created_per_day": "neutral",
    "closed_per_day": "down_is_worse",
    "net_backlog_change_per_day": "up_is_worse",
    "backlog_end": "up_is_worse",
    "backlog_age_median_h": "up_is_worse",
    "backlog_age_p90_h": "up_is_worse",
    "ttc_median_h": "up_is_worse",
    "ttc_p90_h": "up_is_worse",
    "closed_within_1d": "down_is_worse",
    "closed_within_3d": "down_is_worse",
    "closed_within_7d": "down_is_worse",
    "closed_within_30d": "down_is_worse",
    "km_median_h": "up_is_worse",
    "on_time_share": "down_is_worse",
    "admin_close_share": "up_is_worse",
    "dirty_share": "up_is_worse",
}
SUMMARY_METRICS: Final[tuple[str, ...]] = tuple(m for m, _ in HEADLINE)
FALSE_ALARM_BASIS: Final = "share of ordinary agency-days the flag fired over the last year, all metrics"
SERIES_DAYS: Final = 28

_SCORECARD_COLUMNS: Final = (
    'agency, metric, "window", baseline, recent, historical, diff_abs, diff_rel, score, '
    "anomaly, small_sample, n_recent, n_historical"
)


@dataclass(frozen=True)
class Signal:
    """One agency's metric, recent window against its baseline, with the evidence behind a flag."""

    agency: str
    metric: str
    window: str
    baseline: str
    recent: float | None
    historical: float | None
    diff_abs: float | None
    diff_rel: float | None
    score: float | None
    flagged: bool
    small: bool
    n: int | None
    n_baseline: int | None
    false_alarm_rate: float | None
    calibrated: bool
    strength: float


@dataclass(frozen=True)
class DayPoint:
    """One day of an agency's series: requests created, and the baseline band of that weekday."""

    day: str
    created: float
    low: float | None
    high: float | None


@dataclass(frozen=True)
class SnapshotTables:
    """The plain values the digest needs, read once from the snapshot."""

    meta: Mapping[str, str | None]
    agency_names: Mapping[str, str]
    scorecard: Sequence[Mapping[str, Any]]
    series: Mapping[str, Sequence[DayPoint]] = field(default_factory=dict)

    @property
    def as_of_date(self) -> str | None:
        return self.meta.get("as_of_date")


def read_tables(reader: SnapshotReader) -> SnapshotTables:
    """Agency- and city-level scorecard rows, agency names, and the last weeks of daily series."""
    meta = {str(r["key"]): r["value"] for r in reader.rows("SELECT key, value FROM meta")}
    names = {
        str(r["agency"]): str(r["agency_name"] or r["agency"])
        for r in reader.rows("SELECT agency, agency_name FROM agencies")
    }
    rows = reader.rows(
        f"SELECT {_SCORECARD_COLUMNS} FROM scorecard WHERE complaint_type = '*' AND borough = '*'"
    )
    series_rows = reader.rows(
        "SELECT agency, CAST(date AS VARCHAR) AS day, created, baseline_low, baseline_high FROM series "
        "WHERE complaint_type = '*' AND borough = '*' AND period = 'day' "
        "AND date > (SELECT max(date) FROM series WHERE period = 'day') - ? ORDER BY agency, date",
        [SERIES_DAYS],
    )
    series: dict[str, list[DayPoint]] = {}
    for r in series_rows:
        series.setdefault(str(r["agency"]), []).append(
            DayPoint(
                str(r["day"]),
                number(r["created"]) or 0.0,
                number(r["baseline_low"]),
                number(r["baseline_high"]),
            )
        )
    return SnapshotTables(meta=meta, agency_names=names, scorecard=rows, series=series)


def signals(tables: SnapshotTables, window: str, baseline: str) -> list[Signal]:
    """Every agency-level (and city ``'*'``) signal of one window and baseline."""
    rate = number(tables.meta.get("anomaly_rate_history"))
    return [
        _signal(row, rate)
        for row in tables.scorecard
        if row.get("window") == window and row.get("baseline") == baseline
    ]


def _signal(row: Mapping[str, Any], rate: float | None) -> Signal:
    small = bool(row.get("small_sample"))
    score = number(row.get("score"))
    return Signal(
        agency=str(row["agency"]),
        metric=str(row["metric"]),
        window=str(row["window"]),
        baseline=str(row["baseline"]),
        recent=number(row.get("recent")),
        historical=number(row.get("historical")),
        diff_abs=number(row.get("diff_abs")),
        diff_rel=number(row.get("diff_rel")),
        score=score,
        flagged=bool(row.get("anomaly")) and not small,
        small=small,
        n=_count(row.get("n_recent")),
        n_baseline=_count(row.get("n_historical")),
        false_alarm_rate=rate,
        calibrated=False,
        strength=abs(score) if score is not None else 0.0,
    )


def _count(value: Any) -> int | None:
    v = number(value)
    return None if v is None else int(v)


def known_metrics() -> frozenset[str]:
    return frozenset(METRICS)


def label(metric: str) -> str:
    info = METRICS.get(metric)
    return info.label if info else metric


def show(metric: str, value: float | None, *, signed: bool = False) -> str:
    """A metric value as text in its unit ("5.2 h", "63%", "1,234")."""
    return fmt(metric, value, signed=signed)


def show_rel(value: float | None) -> str:
    return fmt_rel(value)


def direction(metric: str) -> Direction:
    return DIRECTION.get(metric, "neutral")
