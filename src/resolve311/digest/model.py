"""The digest as plain values: what one subscriber hears about one as-of date (pure).

``build_digest(subscriber, tables, dashboard_url)`` turns snapshot tables into a
:class:`Digest`; the e-mail and webhook renderers only format it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from resolve311.digest import signals as sig
from resolve311.digest.signals import DayPoint, Signal, SnapshotTables
from resolve311.settings import Subscriber
from resolve311.web.filters import Filters
from resolve311.web.signals import headline

MAX_MOVEMENTS: Final = 20
MAX_CHARTS: Final = 6
CITY: Final = "*"
RELATION: Final = {
    "worse": "worse than",
    "better": "better than",
    "up": "above",
    "down": "below",
    "changed": "against",
}
SHORT_BASELINE: Final = {"8w": "the 8-week baseline", "1y": "a year earlier"}
BASELINE_TEXT: Final = {
    "8w": "the 8-week baseline (same weekdays)",
    "1y": "the same window a year earlier",
}


@dataclass(frozen=True)
class Chart:
    """Requests created per day for one agency, with the baseline band; the recent window marked."""

    agency: str
    title: str
    points: tuple[DayPoint, ...]
    recent_days: int


@dataclass(frozen=True)
class Movement:
    """One flagged change: an agency's metric moved beyond its baseline."""

    agency: str
    agency_name: str
    signal: Signal
    link: str

    @property
    def label(self) -> str:
        return sig.label(self.signal.metric)

    @property
    def verdict(self) -> str:
        """'worse', 'better' or 'changed', by the metric's direction."""
        d, change = sig.direction(self.signal.metric), self.signal.diff_abs or 0.0
        if d == "neutral" or change == 0:
            return "up" if change > 0 else "down" if change < 0 else "changed"
        worse = (change > 0) == (d == "up_bad")
        return "worse" if worse else "better"


@dataclass(frozen=True)
class SummaryRow:
    """One followed agency's headline values (for ``sensitivity = "summary"``)."""

    agency: str
    agency_name: str
    cells: tuple[tuple[str, str, str], ...]  # (label, recent value, relative change)
    link: str


@dataclass(frozen=True)
class Digest:
    """Everything one subscriber is told for one as-of date."""

    subscriber: str
    as_of_date: str
    window: str
    baseline: str
    movements: tuple[Movement, ...]
    more: int
    summary: tuple[SummaryRow, ...]
    charts: tuple[Chart, ...]
    overview_link: str
    health_link: str
    skip: bool
    webhook_format: str = "slack"
    tested: int = 0  # followed values that could be flagged (calibrated, scored, not small)
    expected: float = 0.0  # flags an ordinary day would give among them (Σ measured false-alarm rates)
    headline: str = ""  # the overview's honest line: flags against the count chance alone would give

    @property
    def quiet(self) -> bool:
        return not self.movements

    @property
    def title(self) -> str:
        if self.quiet:
            return f"Nothing unusual — {self.as_of_date}"
        agencies = len({m.agency for m in self.movements})
        flags = len(self.movements) + self.more
        return (
            f"{flags} flag{'s' if flags != 1 else ''} in {agencies} "
            f"agenc{'ies' if agencies != 1 else 'y'} — {self.as_of_date}"
        )

    def by_agency(self) -> list[tuple[Movement, list[Movement]]]:
        """Movements grouped by agency, strongest agency first: (first movement, all of them)."""
        groups: dict[str, list[Movement]] = {}
        for m in self.movements:
            groups.setdefault(m.agency, []).append(m)
        return [(ms[0], ms) for ms in groups.values()]

    @property
    def short_baseline(self) -> str:
        return SHORT_BASELINE.get(self.baseline, self.baseline)

    @property
    def baseline_text(self) -> str:
        return BASELINE_TEXT.get(self.baseline, self.baseline)


def describe(m: Movement, baseline_text: str) -> str:
    """One plain sentence: what moved, by how much, against which baseline, on what n and alarm rate."""
    s = m.signal
    change = sig.show(s.metric, s.diff_abs, signed=True)
    rel = sig.show_rel(s.diff_rel)
    parts = [
        f"{m.label} {sig.show(s.metric, s.recent)} vs {sig.show(s.metric, s.historical)} "
        f"({change}{', ' + rel if rel else ''}), {RELATION[m.verdict]} {baseline_text}",
        f"n = {_n(s.n)} {sig.n_counts(s.metric)} (baseline {_n(s.n_baseline)})",
    ]
    if s.score is not None and s.threshold is not None:
        p = _p(s.p_value)
        parts.append(f"score {s.score:+.1f} beyond its calibrated threshold {s.threshold:.1f}{p}")
    parts.append(false_alarm_text(s))
    return "; ".join(parts) + "."


def false_alarm_text(s: Signal) -> str:
    """How often this agency's flag on this metric and window fires on ordinary days (measured)."""
    if s.false_alarm_rate is None:
        return "false-alarm rate not measured yet"
    days = f", out of sample over {s.days_evaluated:,} days" if s.days_evaluated else ""
    return (
        f"this flag fires on {s.false_alarm_rate * 100:.1f}% of ordinary days "
        f"(measured for this agency, metric and window{days})"
    )


def _p(value: float | None) -> str:
    if value is None:
        return ""
    return ", p < 0.001" if value < 0.001 else f", p = {value:.3f}"


def _n(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def digest_id(subscriber: str, as_of_date: str, target: str = "") -> str:
    """A stable id for (subscriber, date[, target]): the same on every rerun."""
    return hashlib.sha256(f"{subscriber}\x00{as_of_date}\x00{target}".encode()).hexdigest()[:20]


def dashboard_link(base: str, filters: Filters, page: str = "/agency") -> str:
    """A deep link into the dashboard (its URL scheme: the page path plus the filters)."""
    return base.rstrip("/") + page + filters.query_string()


def build_digest(sub: Subscriber, tables: SnapshotTables, dashboard_url: str) -> Digest:
    """The digest of ``sub`` for the snapshot's as-of date (pure)."""
    as_of = tables.as_of_date or ""
    view = Filters(window=sub.window, baseline=sub.baseline)
    follows = _follows(sub)
    rows = [s for s in sig.signals(tables, sub.window, sub.baseline) if follows(s)]
    flagged = sorted((s for s in rows if s.flagged), key=lambda s: (-s.strength, s.agency, s.metric))
    movements = tuple(
        Movement(s.agency, _name(tables, s.agency), s, _agency_link(dashboard_url, view, s.agency))
        for s in flagged[:MAX_MOVEMENTS]
    )
    summary = _summary(sub, tables, rows, dashboard_url, view) if sub.sensitivity == "summary" else ()
    tested = [s for s in rows if s.tested]
    expected = sum(s.false_alarm_rate or 0.0 for s in tested)
    agencies = len({s.agency for s in flagged})
    line = headline(len(flagged), agencies, len(tested), expected, sub.baseline, f"{sub.window} window")
    return Digest(
        subscriber=sub.name,
        as_of_date=as_of,
        window=sub.window,
        baseline=sub.baseline,
        movements=movements,
        more=max(0, len(flagged) - MAX_MOVEMENTS),
        summary=summary,
        charts=_charts(movements, tables, sub.window),
        overview_link=dashboard_link(dashboard_url, view, "/"),
        health_link=dashboard_url.rstrip("/") + "/health",
        skip=not movements and sub.sensitivity == "flags" and sub.when_quiet == "skip",
        webhook_format=sub.webhook_format,
        tested=len(tested),
        expected=expected,
        headline=line,
    )


def _follows(sub: Subscriber) -> Callable[[Signal], bool]:
    agencies = set(sub.agencies)
    metrics = set(sub.metrics)

    def keep(s: Signal) -> bool:
        if agencies and s.agency not in agencies:
            return False
        if not agencies and s.agency == CITY:
            return False  # following everything: the agencies, not their sum
        return not metrics or s.metric in metrics

    return keep


def _name(tables: SnapshotTables, agency: str) -> str:
    return "City-wide" if agency == CITY else tables.agency_names.get(agency, agency)


def _agency_link(base: str, view: Filters, agency: str) -> str:
    if agency == CITY:
        return dashboard_link(base, view, "/")
    return dashboard_link(base, view.with_(agency=agency))


def _summary(
    sub: Subscriber, tables: SnapshotTables, rows: list[Signal], base: str, view: Filters
) -> tuple[SummaryRow, ...]:
    metrics = tuple(sub.metrics) or sig.SUMMARY_METRICS
    by_agency: dict[str, dict[str, Signal]] = {}
    for s in rows:
        by_agency.setdefault(s.agency, {})[s.metric] = s
    out = []
    for agency in sorted(by_agency):
        have = by_agency[agency]
        cells = tuple(
            (sig.label(m), sig.show(m, have[m].recent), sig.show_rel(have[m].diff_rel))
            for m in metrics
            if m in have
        )
        out.append(SummaryRow(agency, _name(tables, agency), cells, _agency_link(base, view, agency)))
    return tuple(out)


def _charts(movements: tuple[Movement, ...], tables: SnapshotTables, window: str) -> tuple[Chart, ...]:
    days = {"1d": 1, "7d": 7, "28d": 28}.get(window, 7)
    out: list[Chart] = []
    for m in movements:
        points = tuple(tables.series.get(m.agency, ()))
        if len(points) < 2 or any(c.agency == m.agency for c in out):
            continue
        title = f"{m.agency_name}: requests created per day, last {len(points)} days, with the baseline band"
        out.append(Chart(m.agency, title, points, days))
        if len(out) == MAX_CHARTS:
            break
    return tuple(out)
