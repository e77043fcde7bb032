"""Who is slipping, honestly: calibrated flags ranked by evidence, one line each (pure logic).

A flag is a headline value whose |score| exceeds its agency's calibrated
threshold (see docs/metrics.md). Flags are ranked by how far beyond that
threshold they are (``|score| / threshold``), not by raw σ: a 9σ move on a
metric whose ordinary days reach 8σ is weaker evidence than 6σ where they
reach 4σ. Across agencies × metrics, the expected number of flags on an
ordinary day is the sum of the measured false-alarm rates of the values
tested: the summary states it next to the count, so a reader sees how many of
today's flags chance alone would produce (an estimate of the false-discovery
share).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from resolve311.metrics import registry
from resolve311.web.scorecard import fmt, fmt_rel, number

BASELINE_TEXT = {"8w": "the same weekdays of the previous 8 weeks", "1y": "a year earlier"}


@dataclass(frozen=True)
class Flag:
    """One flagged value of one agency."""

    agency: str
    agency_name: str
    metric: str
    strength: float  # |score| / threshold (> 1)
    line: str


@dataclass(frozen=True)
class Summary:
    """What the overview says above the table."""

    flags: list[Flag]
    tested: int  # values that could be flagged (calibrated, not small)
    expected: float  # flags an ordinary day would produce (Σ measured false-alarm rates)
    headline: str


def strength(row: Mapping[str, Any]) -> float | None:
    """|score| / threshold of a flagged value (None when not flagged)."""
    z, t = number(row.get("score")), number(row.get("threshold"))
    if not row.get("anomaly") or row.get("small_sample") or z is None or not t:
        return None
    return abs(z) / t


def flag_line(row: Mapping[str, Any], baseline: str) -> str:
    """ "Time to close, median 9.1 h vs 4.9 h (+86%) against …; n = 380 closures; score 8.1 > 6.3"."""
    metric = str(row["metric"])
    info = registry.spec(metric)
    label = info.label if info else metric
    direction = "up" if (number(row.get("diff_abs")) or 0) > 0 else "down"
    n = number(row.get("n_recent"))
    what = registry.POPULATION_TEXT[info.population] if info else "observations"
    return (
        f"{label} {direction}: {fmt(metric, row.get('recent'))} vs {fmt(metric, row.get('historical'))} "
        f"({fmt(metric, row.get('diff_abs'), signed=True)} {fmt_rel(row.get('diff_rel'))}) against "
        f"{BASELINE_TEXT.get(baseline, baseline)}; n = {0 if n is None else n:,.0f} {what}; "
        f"score {number(row.get('score')) or 0:+.1f}, flag threshold {number(row.get('threshold')) or 0:.1f}"
    )


def summarize(
    rows: Iterable[Mapping[str, Any]], rates: Mapping[str, float], baseline: str, window: str
) -> Summary:
    """Flags of the headline rows, strongest first, with the count chance alone would give."""
    flags: list[Flag] = []
    tested, expected = 0, 0.0
    for row in rows:
        metric = str(row["metric"])
        if (
            row.get("small_sample")
            or number(row.get("threshold")) is None
            or number(row.get("score")) is None
        ):
            continue
        tested += 1
        expected += rates.get(metric, 0.0)
        s = strength(row)
        if s is not None:
            code = str(row["agency"])
            name = str(row.get("agency_name") or code)
            flags.append(Flag(code, name, metric, s, flag_line(row, baseline)))
    flags.sort(key=lambda f: (-f.strength, f.agency, f.metric))
    agencies = len({f.agency for f in flags})
    return Summary(
        flags, tested, expected, headline(len(flags), agencies, tested, expected, baseline, window)
    )


def headline(flags: int, agencies: int, tested: int, expected: float, baseline: str, window: str) -> str:
    """One honest line: how many values flagged, and how many an ordinary day would flag by chance."""
    if baseline != "8w":
        return (
            "Flags are raised against the 8-week baseline only (a year earlier is a single unit: "
            "no spread to judge a change by). Switch to the 8-week comparison to see them."
        )
    if tested == 0:
        return "Not enough history yet to calibrate the flag: no value is judged unusual or ordinary."
    chance = f"an ordinary day would flag about {expected:.1f} of these {tested} values by chance"
    if not flags:
        return f"Nothing unusual in the {window}: no agency moved beyond what its own history makes ordinary ({chance})."
    return (
        f"{flags} flagged value{'s' if flags != 1 else ''} at {agencies} "
        f"agenc{'ies' if agencies != 1 else 'y'} in the {window}; {chance}."
    )


def flags_by_agency(summary: Summary) -> dict[str, list[Flag]]:
    out: dict[str, list[Flag]] = {}
    for flag in summary.flags:
        out.setdefault(flag.agency, []).append(flag)
    return out
