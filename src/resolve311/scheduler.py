"""The daily schedule: when updates run, catch-up after missed runs, retry after outages.

Pure pieces (``parse_schedule``, ``last_fire_before``, ``missed_run_due``,
``retry_delay``) decide *when*; :class:`Supervisor` (in ``supervisor.py``)
does the running. Schedules are cron expressions in the city's time zone
(5 fields, or 6 with seconds first) or ``@every <N>s|m|h`` for demos and tests.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from resolve311.errors import ConfigError

_EVERY = re.compile(r"^@every\s+(\d+(?:\.\d+)?)\s*([smh])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
#: How far back ``last_fire_before`` looks for a missed run.
LOOKBACK = timedelta(days=8)


def parse_schedule(expr: str, timezone: str) -> BaseTrigger:
    """Turn a schedule string into an APScheduler trigger, or raise :class:`ConfigError`.

    >>> parse_schedule("0 6 * * *", "America/New_York").fields[5]  # hour
    <CronField (hour='6')>
    """
    text = expr.strip()
    every = _EVERY.match(text)
    try:
        if every:
            seconds = float(every.group(1)) * _UNIT_SECONDS[every.group(2)]
            if seconds <= 0:
                raise ValueError("interval must be positive")
            return IntervalTrigger(seconds=seconds, timezone=timezone)
        fields = text.split()
        if len(fields) == 5:
            return CronTrigger.from_crontab(text, timezone=timezone)
        if len(fields) == 6:
            second, minute, hour, day, month, dow = fields
            return CronTrigger(
                second=second,
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=dow,
                timezone=timezone,
            )
    except (ValueError, KeyError, LookupError) as exc:
        raise ConfigError(f"invalid schedule {expr!r}: {exc}") from None
    raise ConfigError(f"invalid schedule {expr!r}: expected 5 or 6 cron fields or '@every 30s'")


def last_fire_before(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The most recent time at or before ``now`` when ``trigger`` fired (within ``LOOKBACK``)."""
    if isinstance(trigger, IntervalTrigger):
        return None  # interval schedules have no fixed grid to miss
    moment = trigger.get_next_fire_time(None, now - LOOKBACK)
    last = None
    while moment is not None and moment <= now:
        last = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return last


def missed_run_due(trigger: BaseTrigger, last_success: datetime | None, now: datetime) -> bool:
    """True when a scheduled run fell due since the last successful update (or none ever ran)."""
    if last_success is None:
        return True
    last = last_fire_before(trigger, now)
    return last is not None and last_success < last


def retry_delay(failures: int, base_minutes: float, max_minutes: float = 24 * 60) -> timedelta:
    """Delay before retrying after ``failures`` consecutive source_unavailable runs.

    The first retry waits a fifth of the base period, then the delay doubles up to
    the base period (hourly by default), and never beyond ``max_minutes``.
    """
    if failures <= 0:
        return timedelta(0)
    minutes = min(base_minutes, base_minutes / 5 * 2 ** (failures - 1), max_minutes)
    return timedelta(minutes=minutes)
