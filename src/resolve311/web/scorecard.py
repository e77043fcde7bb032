"""Pure scorecard logic: metric labels, formatting, and ranking agencies by movement."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from resolve311.metrics import registry
from resolve311.metrics.registry import MetricSpec, Unit

METRICS: Final[dict[str, MetricSpec]] = registry.BY_NAME


#: The overview's columns: volume, closures, backlog, median time to close, cohort timeliness.
HEADLINE: Final[tuple[tuple[str, str], ...]] = (
    ("created_per_day", "Volume /day"),
    ("closed_per_day", "Closures /day"),
    ("backlog_end", "Backlog"),
    ("ttc_median_h", "Median time to close"),
    # 1 day: the freshest like-for-like cohort (created the day before as_of_date),
    # so the column reacts first; the 3/7/30-day shares are on the agency view.
    ("closed_within_1d", "Closed ≤ 1 day"),
)
TIMELINESS: Final[tuple[tuple[str, str], ...]] = (
    ("closed_within_1d", "1 day"),
    ("closed_within_3d", "3 days"),
    ("closed_within_7d", "7 days"),
    ("closed_within_30d", "30 days"),
)


def number(value: Any) -> float | None:
    """A finite float, or None for NULL/NaN."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def unit_of(metric: str) -> Unit:
    info = METRICS.get(metric)
    return info.unit if info else "count"


def fmt(metric: str, value: Any, *, signed: bool = False) -> str:
    """Human text for a metric value ("1,234", "63%", "5.2 h", "3.1 d"); "–" when NULL."""
    v = number(value)
    if v is None:
        return "–"
    sign = "+" if signed and v > 0 else ""
    unit = unit_of(metric)
    if unit == "share":
        return f"{sign}{v * 100:.0f}{' pts' if signed else '%'}"
    if unit == "hours":
        return f"{sign}{v / 24:.1f} d" if abs(v) >= 48 else f"{sign}{v:.1f} h"
    return f"{sign}{v:,.0f}" if abs(v) >= 100 else f"{sign}{v:,.1f}"


def n_text(metric: str, row: dict[str, Any] | None) -> str:
    """Hover text naming a value's own n: "n = 14 recent · 380 historical (requests validly closed …)"."""
    row = row or {}
    info = METRICS.get(metric)
    what = registry.POPULATION_TEXT[info.population] if info else "observations"

    def count(key: str) -> str:
        v = number(row.get(key))
        return "–" if v is None else f"{v:,.0f}"

    small = " — small sample: not flagged, not ranked" if row.get("small_sample") else ""
    return f"n = {count('n_recent')} recent · {count('n_historical')} historical ({what}){small}"


def fmt_rel(value: Any) -> str:
    v = number(value)
    return "" if v is None else f"{v * 100:+.0f}%"


@dataclass
class AgencyScore:
    """One overview row: an agency's headline metrics and how far it moved."""

    agency: str
    agency_name: str
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    movement: float | None = None  # largest |robust score| of a value that is not a small sample
    anomaly: bool = False
    small_sample: bool = False
    evidence: float | None = None  # strongest flag: |score| / calibrated threshold (> 1)
    p_value: float | None = None  # smallest empirical p-value of a value that is not a small sample


def rank_agencies(rows: Iterable[dict[str, Any]]) -> list[AgencyScore]:
    """Group scorecard rows by agency; rank by calibrated evidence, small samples last.

    Flagged agencies first, by their strongest flag (|score| / calibrated
    threshold); then the others by their smallest p-value against their own
    history. A small value never flags or ranks its agency; an agency all of
    whose values are small is marked small and listed last.
    """
    by_agency: dict[str, AgencyScore] = {}
    sizes: dict[str, list[bool]] = {}
    for row in rows:
        code = str(row["agency"])
        score = by_agency.setdefault(code, AgencyScore(code, str(row.get("agency_name") or code)))
        score.metrics[str(row["metric"])] = row
        small = bool(row.get("small_sample"))
        sizes.setdefault(code, []).append(small)
        if not small:
            _add_evidence(score, row)
    for code, score in by_agency.items():
        score.small_sample = all(sizes[code])
    return sorted(by_agency.values(), key=_rank_key)


def _add_evidence(score: AgencyScore, row: dict[str, Any]) -> None:
    z, t, p = number(row.get("score")), number(row.get("threshold")), number(row.get("p_value"))
    if z is not None and (score.movement is None or abs(z) > score.movement):
        score.movement = abs(z)
    if p is not None and (score.p_value is None or p < score.p_value):
        score.p_value = p
    if not row.get("anomaly"):
        return
    score.anomaly = True
    if z is not None and t:
        strength = abs(z) / t
        score.evidence = strength if score.evidence is None else max(score.evidence, strength)


def _rank_key(s: AgencyScore) -> tuple[int, float, float, str]:
    return (
        1 if s.small_sample else 0,
        -(s.evidence or 0.0),
        s.p_value if s.p_value is not None else 2.0,
        s.agency,
    )
