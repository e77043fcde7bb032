"""Recent windows, baseline units and the moments they end at (pure date arithmetic).

Days are numbered ``dnum`` = days since 1970-01-01 (local NYC calendar), so the
metric expressions only need integer arithmetic and run the same on every engine.

A window of ``L`` days ends on ``as_of_date``. Its *units* are windows of the same
length: unit 0 is the recent window; units 1..8 (baseline ``'8w'``) end
``k * S`` days earlier where ``S = 7 * ceil(L / 7)`` (whole weeks, so the weekdays
match and units never overlap); unit 9 (baseline ``'1y'``) ends 364 days earlier.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

WindowName = Literal["1d", "7d", "28d"]
BaselineName = Literal["8w", "1y"]

WINDOW_DAYS: Final[dict[str, int]] = {"1d": 1, "7d": 7, "28d": 28}
WINDOWS: Final[tuple[str, ...]] = ("1d", "7d", "28d")
BASELINES: Final[tuple[str, ...]] = ("8w", "1y")
EIGHT_WEEK_UNITS: Final[tuple[int, ...]] = tuple(range(1, 9))
YEAR_UNIT: Final[int] = 9
YEAR_SHIFT_DAYS: Final[int] = 364
EPOCH: Final[date] = date(1970, 1, 1)
MS_PER_HOUR: Final[int] = 3_600_000
MS_PER_DAY: Final[int] = 86_400_000


def dnum(day: date) -> int:
    """Day number of ``day`` (days since 1970-01-01)."""
    return (day - EPOCH).days


def from_dnum(number: int) -> date:
    """Inverse of :func:`dnum`."""
    return EPOCH + timedelta(days=number)


def as_of_date_for(as_of: datetime) -> date:
    """The last complete day before the data's newest local timestamp."""
    return as_of.date() - timedelta(days=1)


def local_ms(moment: datetime, tz: str) -> int:
    """UTC epoch milliseconds of a naive local wall-clock ``moment``."""
    aware = moment.replace(tzinfo=ZoneInfo(tz))
    return round(aware.timestamp() * 1000)


def unit_shift(window_days: int) -> int:
    """Days between the ends of consecutive 8-week units."""
    return 7 * math.ceil(window_days / 7)


def unit_span_days(window_days: int) -> int:
    """How many days back from ``as_of_date`` a window's units reach (exclusive)."""
    return YEAR_SHIFT_DAYS + window_days


def unit_end(as_of_date: date, window_days: int, unit: int) -> date:
    """Last day of ``unit`` for a window of ``window_days`` ending on ``as_of_date``."""
    if unit == YEAR_UNIT:
        return as_of_date - timedelta(days=YEAR_SHIFT_DAYS)
    return as_of_date - timedelta(days=unit * unit_shift(window_days))


def unit_of_offset(offset: int, window_days: int) -> int | None:
    """Unit of a day ``offset`` days before ``as_of_date`` (pure-Python twin of the Ibis expression)."""
    shift = unit_shift(window_days)
    if offset < 0:
        return None
    if offset % shift < window_days and offset // shift <= 8:
        return offset // shift
    if YEAR_SHIFT_DAYS <= offset < YEAR_SHIFT_DAYS + window_days:
        return YEAR_UNIT
    return None


def unit_offset_spans() -> list[tuple[int, int]]:
    """The day offsets before ``as_of_date`` that lie in some window's unit, as inclusive ranges
    (the 8-week units reach 251 days back, the year-ago units 364..391: the days between are in none)."""
    covered = [
        offset
        for offset in range(YEAR_SHIFT_DAYS + max(WINDOW_DAYS.values()))
        if any(unit_of_offset(offset, days) is not None for days in WINDOW_DAYS.values())
    ]
    spans: list[tuple[int, int]] = []
    for offset in covered:
        if spans and spans[-1][1] == offset - 1:
            spans[-1] = (spans[-1][0], offset)
        else:
            spans.append((offset, offset))
    return spans


def bucket_of_unit(unit: int) -> str:
    """'recent' for unit 0, '8w' for 1..8, '1y' for 9."""
    if unit == 0:
        return "recent"
    return "1y" if unit == YEAR_UNIT else "8w"


#: :func:`bucket_of_unit` of every unit, for ``Series.map`` (a dict maps in one vectorised pass; the
#: function was called once per row: ~0.5 CPU-s per refresh on the Kaplan–Meier counts at 4M).
BUCKET_OF_UNIT: Final[dict[int, str]] = {u: bucket_of_unit(u) for u in range(YEAR_UNIT + 1)}


def units_of_bucket(bucket: str) -> tuple[int, ...]:
    """Inverse of :func:`bucket_of_unit`."""
    return {"recent": (0,), "8w": EIGHT_WEEK_UNITS, "1y": (YEAR_UNIT,)}[bucket]


@dataclass(frozen=True)
class Moment:
    """The end of one unit: local midnight after its last day, as UTC epoch ms."""

    window: str
    unit: int
    end_day: date
    ms: int


def unit_moments(as_of_date: date, tz: str) -> list[Moment]:
    """Every (window, unit) end moment needed for backlog reconstruction."""
    out: list[Moment] = []
    for window in WINDOWS:
        days = WINDOW_DAYS[window]
        for unit in (0, *EIGHT_WEEK_UNITS, YEAR_UNIT):
            end = unit_end(as_of_date, days, unit)
            midnight = datetime.combine(end + timedelta(days=1), time())
            out.append(Moment(window, unit, end, local_ms(midnight, tz)))
    return out
