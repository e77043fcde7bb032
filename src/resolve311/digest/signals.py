"""The ONE place the digest reads the serving snapshot's signal columns.

Everything else in ``digest/`` sees plain :class:`Signal` values. The calibrated signal
(docs/snapshot.md, "For readers of the flags"; docs/metrics.md, "Calibrated anomaly flag"):

- ``flagged``  <- ``scorecard.anomaly AND NOT small_sample`` with a calibrated ``threshold``
  (the overview's rule, :func:`resolve311.web.signals.strength`); baseline ``'1y'`` is never flagged;
- ``n``        <- ``scorecard.n_recent``: the metric's own population (what it counts is the
  registry's ``POPULATION_TEXT``);
- ``false_alarm_rate`` <- ``calibration.false_alarm_rate`` of THAT agency × window × metric
  (measured out of sample on the agency's own last year), with ``threshold`` and ``p_value``;
- ``strength`` <- ``|score| / threshold``; labels, units and direction from ``metrics/registry.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import duckdb

from resolve311.metrics import registry
from resolve311.metrics.registry import Direction
from resolve311.web.scorecard import HEADLINE, fmt, fmt_rel, number
from resolve311.web.signals import strength
from resolve311.web.snapshot import SnapshotReader

SUMMARY_METRICS: Final[tuple[str, ...]] = tuple(m for m, _ in HEADLINE)
SERIES_DAYS: Final = 28

_SCORECARD_COLUMNS: Final = (
    'agency, metric, "window", baseline, recent, historical, diff_abs, diff_rel, score, '
    "threshold, p_value, anomaly, small_sample, n_recent, n_historical"
)
CalibrationKey = tuple[str, str, str]  # (agency, window, metric)


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
    threshold: float | None  # the agency's calibrated threshold for this metric and window
    p_value: float | None  # against the agency's own history of this metric and window
    flagged: bool
    small: bool
    n: int | None  # the metric's own population (see :func:`n_counts`)
    n_baseline: int | None
    false_alarm_rate: float | None  # measured, this agency × window × metric
    days_evaluated: int | None  # the days that rate was measured on
    strength: float  # |score| / threshold when flagged, else 0

    @property
    def tested(self) -> bool:
        """Could be flagged today: a score, a calibrated threshold, not a small sample."""
        return not self.small and self.score is not None and self.threshold is not None


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
    calibration: Mapping[CalibrationKey, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def as_of_date(self) -> str | None:
        return self.meta.get("as_of_date")


def read_tables(reader: SnapshotReader) -> SnapshotTables:
    """Agency- and city-level scorecard rows, calibration, agency names, the last weeks of series."""
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
    return SnapshotTables(meta, names, rows, series, _calibration(reader))


def _calibration(reader: SnapshotReader) -> dict[CalibrationKey, Mapping[str, Any]]:
    try:
        rows = reader.rows(
            'SELECT agency, "window", metric, days_evaluated, false_alarm_rate FROM calibration'
        )
    except duckdb.CatalogException:  # a snapshot written before the calibration table existed
        return {}
    return {(str(r["agency"]), str(r["window"]), str(r["metric"])): r for r in rows}


def signals(tables: SnapshotTables, window: str, baseline: str) -> list[Signal]:
    """Every agency-level (and city ``'*'``) signal of one window and baseline."""
    return [
        _signal(row, tables.calibration.get((str(row["agency"]), window, str(row["metric"])), {}))
        for row in tables.scorecard
        if row.get("window") == window and row.get("baseline") == baseline
    ]


def _signal(row: Mapping[str, Any], calibration: Mapping[str, Any]) -> Signal:
    s = strength(row)
    return Signal(
        agency=str(row["agency"]),
        metric=str(row["metric"]),
        window=str(row["window"]),
        baseline=str(row["baseline"]),
        recent=number(row.get("recent")),
        historical=number(row.get("historical")),
        diff_abs=number(row.get("diff_abs")),
        diff_rel=number(row.get("diff_rel")),
        score=number(row.get("score")),
        threshold=number(row.get("threshold")),
        p_value=number(row.get("p_value")),
        flagged=s is not None,
        small=bool(row.get("small_sample")),
        n=_count(row.get("n_recent")),
        n_baseline=_count(row.get("n_historical")),
        false_alarm_rate=number(calibration.get("false_alarm_rate")),
        days_evaluated=_count(calibration.get("days_evaluated")),
        strength=s or 0.0,
    )


def _count(value: Any) -> int | None:
    v = number(value)
    return None if v is None else int(v)


def known_metrics() -> frozenset[str]:
    return frozenset(registry.NAMES)


def label(metric: str) -> str:
    info = registry.spec(metric)
    return info.label if info else metric


def n_counts(metric: str) -> str:
    """What a metric's n counts, in the registry's words ("requests validly closed in the window")."""
    info = registry.spec(metric)
    return registry.POPULATION_TEXT[info.population] if info else "observations"


def show(metric: str, value: float | None, *, signed: bool = False) -> str:
    """A metric value as text in its unit ("5.2 h", "63%", "1,234")."""
    return fmt(metric, value, signed=signed)


def show_rel(value: float | None) -> str:
    return fmt_rel(value)


def direction(metric: str) -> Direction:
    info = registry.spec(metric)
    return info.direction if info else "neutral"
