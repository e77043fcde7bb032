"""When updates run: cron parsing, missed-run detection, retry backoff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from resolve311.errors import ConfigError
from resolve311.scheduler import last_fire_before, missed_run_due, parse_schedule, retry_delay
from resolve311.supervisor import backfill_stages

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # 10:00 in New York


def test_daily_cron_fires_in_city_time() -> None:
    trigger = parse_schedule("0 6 * * *", "America/New_York")
    last = last_fire_before(trigger, NOW)
    assert last is not None
    assert last.astimezone(UTC) == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)


def test_dst_changes_the_utc_hour_not_the_local_one() -> None:
    trigger = parse_schedule("0 6 * * *", "America/New_York")
    summer = last_fire_before(trigger, datetime(2026, 7, 1, 15, 0, tzinfo=UTC))
    assert summer is not None and summer.astimezone(UTC).hour == 10


@pytest.mark.parametrize(
    ("last_success", "due"),
    [
        (None, True),  # never ran
        (datetime(2026, 11, 28, 10, 0, tzinfo=UTC), True),  # before today's 06:00 run
        (datetime(2026, 11, 28, 11, 5, tzinfo=UTC), False),  # after it
        (datetime(2026, 11, 20, 11, 5, tzinfo=UTC), True),  # the machine slept for a week
    ],
)
def test_missed_run_due(last_success: datetime | None, due: bool) -> None:
    trigger = parse_schedule("0 6 * * *", "America/New_York")
    assert missed_run_due(trigger, last_success, NOW) is due


def test_six_field_cron_and_every() -> None:
    seconds = parse_schedule("*/10 * * * * *", "UTC")
    last = last_fire_before(seconds, NOW + timedelta(seconds=25))
    assert last == NOW + timedelta(seconds=20)
    every = parse_schedule("@every 30s", "UTC")
    assert not missed_run_due(every, NOW, NOW + timedelta(days=3))


@pytest.mark.parametrize("expr", ["bad", "61 * * * *", "@every 0s", "* * *"])
def test_bad_schedule_is_config_error(expr: str) -> None:
    with pytest.raises(ConfigError, match="invalid schedule"):
        parse_schedule(expr, "America/New_York")


def test_retry_backoff_grows_to_the_base_period() -> None:
    delays = [retry_delay(n, 60).total_seconds() / 60 for n in range(0, 6)]
    assert delays == [0, 12, 24, 48, 60, 60]


def test_backfill_stages_put_recent_weeks_first() -> None:
    today = date(2026, 11, 28)
    stages = backfill_stages(date(2024, 1, 1), today)
    assert stages == [(date(2026, 9, 26), None), (date(2024, 1, 1), date(2026, 9, 26))]
    assert backfill_stages(date(2026, 11, 1), today) == [(date(2026, 11, 1), None)]
