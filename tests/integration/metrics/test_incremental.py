"""Incremental refresh after each of several simulated days gives exactly what a full rebuild gives."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import pandas as pd
import pytest

from resolve311.metrics import day_delta, unit_counts
from resolve311.publish import refresh_and_publish

TABLES = ("scorecard", "heatmap_when", "heatmap_where", "series", "km_curve", "agencies", "calibration")
TABLES += ("type_days",)
START = datetime(2025, 1, 6)
AGENCIES = ("NYPD", "HPD", "DSNY")
TYPES = ("Noise", "Heat", "Bulky")
BOROUGHS = ("BROOKLYN", "QUEENS", "BRONX")


class TwinWarehouses:
    """Apply every change to two homes: one refreshed incrementally, one rebuilt in full."""

    def __init__(self, incremental, full) -> None:
        self.envs = (incremental, full)
        self.rows: dict[str, dict[str, object]] = {}
        self.rng = random.Random(311)

    def put(self, key: str, batch: int, **fields: object) -> set[date]:
        """Write a version to both; return the days it touches (old and new created/closed)."""
        old = self.rows.get(key, {})
        new = {**old, **fields}
        self.rows[key] = new
        for env in self.envs:
            env.warehouse.add(key, batch_seq=batch, **new)
        touched = {
            v.date() for v in (old.get("created"), old.get("closed"), new["created"], new.get("closed")) if v
        }
        return touched

    def commit(self) -> None:
        for env in self.envs:
            env.warehouse.commit()

    def new_request(self, key: str, day: datetime, batch: int) -> set[date]:
        rng = self.rng
        created = day + timedelta(minutes=rng.randrange(0, 24 * 60))
        return self.put(
            key,
            batch,
            created=created,
            closed=None,
            agency=rng.choice(AGENCIES),
            complaint_type=rng.choice(TYPES),
            borough=rng.choice(BOROUGHS),
            lat=40.6 + rng.random() / 5,
            lon=-74.0 + rng.random() / 5,
            dirty=["closed_at_midnight"] if rng.random() < 0.05 else [],
            updated_at=created + timedelta(hours=5),
        )

    def close_some(self, now: datetime, batch: int, share: float) -> set[date]:
        touched: set[date] = set()
        for key, row in sorted(self.rows.items()):
            if row.get("closed") is None and self.rng.random() < share:
                closed = min(now, row["created"] + timedelta(hours=self.rng.expovariate(1 / 40)))
                touched |= self.put(key, batch, closed=closed, updated_at=now + timedelta(hours=5))
        return touched


def snapshot_frames(env) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        out = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in TABLES}
        out["meta"] = con.execute("SELECT * FROM meta WHERE key <> 'generated_at' ORDER BY key").df()
    return out


def day_counts(env) -> pd.DataFrame:
    with duckdb.connect(str(env.settings.warehouse_path)) as con:
        return con.execute("SELECT * FROM metric_day_counts ORDER BY ALL").df()


@pytest.mark.slow
def test_incremental_refresh_equals_full_rebuild_day_after_day(env_factory) -> None:
    twins = TwinWarehouses(env_factory("incremental"), env_factory("full"))
    inc, full = twins.envs
    for day in range(50):
        for i in range(10):
            twins.new_request(f"d{day}-{i}", START + timedelta(days=day), batch=1)
    twins.close_some(START + timedelta(days=50), batch=1, share=0.85)
    twins.commit()
    assert refresh_and_publish(inc.settings).mode == "full"  # first use: everything
    for step in range(1, 4):
        batch = step + 1
        today = START + timedelta(days=50 + step)
        touched: set[date] = set()
        for i in range(12):
            touched |= twins.new_request(f"n{step}-{i}", today - timedelta(days=1), batch)
        touched |= twins.close_some(today, batch, share=0.3)
        # a late correction: an old closed request gets a different closing time
        old_key = f"d{step * 3}-0"
        if twins.rows[old_key].get("closed") is not None:
            fixed = twins.rows[old_key]["closed"] + timedelta(days=2)
            touched |= twins.put(old_key, batch, closed=fixed, updated_at=today)
        twins.commit()
        # odd days: the loader reports the days; even days: the refresh derives them itself
        report = refresh_and_publish(inc.settings, affected_dates=touched if step % 2 else None)
        assert report.mode == "incremental"
        assert 0 < report.days_recomputed < 50
        assert refresh_and_publish(full.settings, full=True).mode == "full"
        pd.testing.assert_frame_equal(day_counts(inc), day_counts(full))
        got, want = snapshot_frames(inc), snapshot_frames(full)
        for table in want:
            pd.testing.assert_frame_equal(got[table], want[table], obj=f"{table} after day {step}")


STORED = ("metric_panel_days", "metric_panel_hist", "metric_open_requests", "metric_open_state")
STORED += ("metric_window_rows", "metric_window_state")
STORED += (*(kind.table for kind in unit_counts.KINDS.values()), "metric_unit_state")


def panel_rows(env) -> dict[str, pd.DataFrame]:
    """The stored per-day panel tables and the backlog's open requests."""
    with duckdb.connect(str(env.settings.warehouse_path)) as con:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in STORED}


def touched_days_left(env) -> int:
    with duckdb.connect(str(env.settings.warehouse_path)) as con:
        return int(con.execute("SELECT count(*) FROM load_touched_days").fetchall()[0][0])


def test_without_the_loaders_record_of_touched_days_the_refresh_finds_them_in_the_versions(
    env_factory,
) -> None:
    """Rows written without ``load_touched_days`` (an older version, another writer): same result."""
    twins = TwinWarehouses(env_factory("incremental", record_days=False), env_factory("full"))
    inc, full = twins.envs
    for day in range(40):
        twins.new_request(f"d{day}", START + timedelta(days=day), batch=1)
    twins.close_some(START + timedelta(days=40), batch=1, share=0.7)
    twins.commit()
    assert refresh_and_publish(inc.settings).mode == "full"
    twins.new_request("new", START + timedelta(days=40), batch=2)
    twins.close_some(START + timedelta(days=41), batch=2, share=1.0)
    twins.commit()
    report = refresh_and_publish(inc.settings)
    assert (report.mode, touched_days_left(inc)) == ("incremental", 0)
    assert 0 < report.days_recomputed < 40
    assert touched_days_left(full) > 0  # recorded by the full twin's writer, consumed by its refresh:
    refresh_and_publish(full.settings, full=True)
    assert touched_days_left(full) == 0
    pd.testing.assert_frame_equal(day_counts(inc), day_counts(full))
    got, want = snapshot_frames(inc), snapshot_frames(full)
    for table in want:
        pd.testing.assert_frame_equal(got[table], want[table], obj=table)


@pytest.mark.slow
def test_after_a_day_of_changes_a_multi_year_warehouse_refreshes_only_the_touched_days(env_factory) -> None:
    """Three years of history, then one day: new requests, closes of requests from every year, a
    correction of a two-year-old close. The refresh recomputes the touched days only and publishes
    exactly what a full rebuild publishes (snapshot, stored day counts and calibration panel)."""
    twins = TwinWarehouses(env_factory("incremental"), env_factory("full"))
    inc, full = twins.envs
    years = 3 * 364
    start = START - timedelta(days=years - 50)
    for day in range(years):
        for i in range(3):
            twins.new_request(f"h{day}-{i}", start + timedelta(days=day), batch=1)
    twins.close_some(START + timedelta(days=50), batch=1, share=0.9)
    twins.commit()
    assert refresh_and_publish(inc.settings).mode == "full"
    today = START + timedelta(days=51)
    for i in range(20):
        twins.new_request(f"new-{i}", today - timedelta(days=1), batch=2)
    twins.close_some(today, batch=2, share=0.5)  # the few still open, from every year
    old_key = next(k for k, r in sorted(twins.rows.items()) if r.get("closed") and k.startswith("h300-"))
    twins.put(old_key, 2, closed=twins.rows[old_key]["closed"] + timedelta(days=3), updated_at=today)
    twins.commit()
    report = refresh_and_publish(inc.settings)
    assert report.mode == "incremental"
    assert 0 < report.days_recomputed < years // 4
    assert refresh_and_publish(full.settings, full=True).mode == "full"
    pd.testing.assert_frame_equal(day_counts(inc), day_counts(full))
    got_panel, want_panel = panel_rows(inc), panel_rows(full)
    for table, want in want_panel.items():
        assert len(want) > (years if table.startswith("metric_panel") else 0)  # every stored day
        pd.testing.assert_frame_equal(got_panel[table], want, obj=table)
    got, want = snapshot_frames(inc), snapshot_frames(full)
    for table in want:
        pd.testing.assert_frame_equal(got[table], want[table], obj=f"{table} after a day of changes")
    assert len(want["calibration"]) > 0


class DeltaSpy:
    """Records what ``day_delta.apply`` recomputed (its days), or raises once when told to."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[set[int]] = []
        self.fail = False
        real = day_delta.apply

        def apply(*args: Any, **kwargs: Any) -> set[int]:
            if self.fail:
                self.fail = False
                raise RuntimeError("the day tables failed")
            days = real(*args, **kwargs)
            self.calls.append(days)
            return days

        monkeypatch.setattr(day_delta, "apply", apply)


class ShiftSpy:
    """Counts the refreshes that brought the kept windowed counts up to date (``unit_counts.shifted``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = unit_counts.shifted

        def shifted(*args: Any, **kwargs: Any) -> dict[str, pd.DataFrame]:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(unit_counts, "shifted", shifted)


def test_a_day_of_changes_counted_as_a_delta_equals_a_full_rebuild(env_factory, monkeypatch) -> None:
    """Past the windows' reach (422 days): new requests, an agency moved, a request reopened, one
    created long before the reach closed today, an out-of-reach close corrected. The day tables are
    brought up to date by the changes' delta (recomputing only the out-of-reach requests' days);
    everything stored and published equals a full rebuild, day after day — and after a refresh
    that failed between the window rows and the day tables, the next one recomputes."""
    spy, shifts = DeltaSpy(monkeypatch), ShiftSpy(monkeypatch)
    twins = TwinWarehouses(env_factory("incremental"), env_factory("full"))
    inc, full = twins.envs
    days = 520
    start = START - timedelta(days=days - 50)
    for d in range(days):
        twins.new_request(f"h{d}", start + timedelta(days=d), batch=1)
    twins.close_some(START + timedelta(days=50), batch=1, share=0.8)
    twins.commit()
    assert refresh_and_publish(inc.settings).mode == "full"
    assert spy.calls == []
    before_reach = sorted((k for k in twins.rows if int(k[1:]) < days - 460), key=lambda k: int(k[1:]))
    old_open = next(k for k in before_reach if twins.rows[k].get("closed") is None)
    old_closed = next(k for k in before_reach if twins.rows[k].get("closed") is not None)
    recent = sorted((k for k, r in twins.rows.items() if r.get("closed")), key=lambda k: -int(k[1:]))
    for step in range(1, 4):
        batch = step + 1
        today = START + timedelta(days=50 + step + (step >= 2))  # day 2 comes two days after day 1
        for i in range(8):
            twins.new_request(f"n{step}-{i}", today - timedelta(days=1), batch)
        twins.put(recent[step], batch, agency="DEP", updated_at=today)  # moved to another agency
        twins.put(recent[step + 5], batch, closed=None, updated_at=today)  # reopened
        if step == 1:
            twins.put(old_open, batch, closed=today - timedelta(hours=3), updated_at=today)
        if step == 2:
            fixed = twins.rows[old_closed]["closed"] + timedelta(days=2)
            twins.put(old_closed, batch, closed=fixed, updated_at=today)
        twins.commit()
        spy.fail = step == 3
        if step == 3:
            with pytest.raises(RuntimeError, match="the day tables failed"):
                refresh_and_publish(inc.settings)
        report = refresh_and_publish(inc.settings)
        assert report.mode == "incremental"
        assert refresh_and_publish(full.settings, full=True).mode == "full"
        assert len(spy.calls) == min(step, 2)  # after the failure: recomputed, not a delta
        # the windowed counts kept: shifted by every incremental refresh, over two days too (the
        # failed one's stand where its window rows do, so the next one goes on from them)
        assert shifts.calls == step + (step == 3)
        if step == 1:  # the old request's created day (out of reach) and today
            assert len(spy.calls[0]) == 2
        if step == 2:  # the corrected request's created day and its old and new closed days
            assert len(spy.calls[1]) == 3
        pd.testing.assert_frame_equal(day_counts(inc), day_counts(full))
        got_panel, want_panel = panel_rows(inc), panel_rows(full)
        for table, want in want_panel.items():
            pd.testing.assert_frame_equal(got_panel[table], want, obj=f"{table} after day {step}")
        got, want = snapshot_frames(inc), snapshot_frames(full)
        for table in want:
            pd.testing.assert_frame_equal(got[table], want[table], obj=f"{table} after day {step}")
