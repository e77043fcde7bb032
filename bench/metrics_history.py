"""Benchmark 9 — metric refresh vs history length: full refresh, then one day of changes, incremental.

One simulated year (the real generator, normaliser and loader) is repeated back in time
(:mod:`bench.history_tiles`) to 1, 4, 12… years; at each length the full refresh and, after
the kept-aside next day is loaded, the incremental refresh run in their own processes.
``RESOLVE311_BENCH_HISTORY_YEARS=1.2,12`` picks the lengths (12 years ≈ 40M requests).

On a shared machine one refresh's wall time moves by ~30% from run to run, so each refresh is run
``history_repeats`` times, the full and the incremental one alternated (each from the same saved
state), and the table gives the median and every run's seconds; the ratios are the medians'.
"""

from __future__ import annotations

import os
import shutil
import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench.history_tiles import tile
from bench.isolate import Measured, run_isolated
from bench.metrics_check import snapshots_agree
from bench.report import Section, Table
from bench.sizes import Sizes
from bench.warehouse_build import cached_build, load_next_day

COLUMNS = (
    "history", "requests", "refresh", "days recomputed", "seconds", "CPU seconds", "peak RSS MB", "error",
    "runs", "each run's seconds",
)  # fmt: skip
#: The files of a home that a refresh reads and changes (the warehouse and the serving snapshot).
STATE_FILES = ("warehouse.duckdb", "serving.duckdb")
REFRESH = "bench.metrics_history:refresh"


def refresh(home: str, full: bool, keep_as: str) -> dict[str, Any]:
    """``refresh_and_publish`` (``resolve311 metrics [--full]``'s refresh and serving publish); CPU seconds."""
    import resource

    from resolve311.publish import refresh_and_publish
    from resolve311.settings import load_settings

    before = resource.getrusage(resource.RUSAGE_SELF)
    report = refresh_and_publish(load_settings(home=home), full=full)
    after = resource.getrusage(resource.RUSAGE_SELF)
    shutil.copyfile(load_settings(home=home).snapshot_path, Path(home) / keep_as)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"mode": report.mode, "days_recomputed": report.days_recomputed, "cpu_s": round(cpu, 1)}


def _years(sizes: Sizes) -> tuple[float, ...]:
    env = os.environ.get("RESOLVE311_BENCH_HISTORY_YEARS")
    return tuple(float(y) for y in env.split(",")) if env else sizes.history_years


def _tiled(base: Path, sizes: Sizes, work: Path, years: float) -> tuple[Path, int]:
    """The warehouse of ``years`` years (cached next to the base when a cache is used)."""
    home = work / f"home-{years:g}y"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    cached = sizes.cache / f"tiled-{base.parent.parent.name}-{years:g}y.duckdb" if sizes.cache else None
    if cached is not None and cached.is_file():
        shutil.copyfile(cached, home / "warehouse.duckdb")
    else:
        tile(base, home / "warehouse.duckdb", years)
        if cached is not None:
            shutil.copyfile(home / "warehouse.duckdb", cached)
    import duckdb

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as con:
        rows = int(con.execute("SELECT count(*) FROM requests").fetchall()[0][0])
    return home, rows


@dataclass(frozen=True)
class Runs:
    """One refresh kind's runs at one history length, in order."""

    runs: list[Measured]

    @property
    def ok(self) -> list[Measured]:
        return [m for m in self.runs if m.ok]

    @property
    def seconds(self) -> float | None:
        """The median wall time of the runs that succeeded."""
        return _median([m.seconds for m in self.ok])

    @property
    def cpu(self) -> float | None:
        """The median CPU seconds of the runs that succeeded."""
        return _median([_cpu(m) for m in self.ok])


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _row(table: Table, years: float, rows: int, what: str, runs: Runs) -> None:
    """One refresh kind's row: the medians of its runs that succeeded, and each run's seconds."""
    ok = runs.ok
    error = next((m.error for m in runs.runs if not m.ok), None)
    seconds = None if runs.seconds is None else round(runs.seconds, 2)
    cpu = None if runs.cpu is None else round(runs.cpu, 1)
    peak = max((m.peak_rss_mb for m in ok), default=None)
    days = ok[0].result.get("days_recomputed") if ok else None
    each = ", ".join(f"{m.seconds:.2f}" for m in ok)
    table.add(f"{years:g} years", rows, what, days, seconds, cpu, peak, error, len(runs.runs), each)


def _save(home: Path, name: str) -> None:
    """Copy the home's state files aside as ``name.<file>``."""
    for file in STATE_FILES:
        if (home / file).is_file():
            shutil.copyfile(home / file, home / f"{name}.{file}")


def _restore(home: Path, name: str) -> None:
    """Put back the state saved as ``name`` (a file it did not have is removed)."""
    for file in STATE_FILES:
        saved, live = home / f"{name}.{file}", home / file
        if saved.is_file():
            shutil.copyfile(saved, live)
        else:
            live.unlink(missing_ok=True)


def _alternated(home: Path, next_day: Path, repeats: int) -> tuple[Runs, Runs]:
    """``repeats`` full refreshes of the history and incremental ones after its next day, alternated.

    Every full refresh starts from the history as tiled, every incremental one from the state after
    the first full refresh and the day's load. The home is left as after the last incremental
    refresh (its snapshot kept as ``s-inc.duckdb``).
    """
    fulls: list[Measured] = []
    incs: list[Measured] = []
    _save(home, "tiled")
    for run in range(repeats):
        if run:
            _restore(home, "tiled")
        fulls.append(run_isolated(REFRESH, {"home": str(home), "full": True, "keep_as": "s-full.duckdb"}))
        if run:
            _restore(home, "day")
        else:
            load_next_day(home, next_day)
            _save(home, "day")
        incs.append(run_isolated(REFRESH, {"home": str(home), "full": False, "keep_as": "s-inc.duckdb"}))
    return Runs(fulls), Runs(incs)


def run(sizes: Sizes, work: Path) -> Section:
    section = Section("metrics_history", "10. Metric refresh vs history length (opt-in)")
    built = cached_build(sizes.cache, work, date.fromisoformat(sizes.today), 364, sizes.history_base_scale)
    base = built.home / "warehouse.duckdb"
    if sizes.cache is not None:
        base = sizes.cache / f"warehouse-{sizes.today}-364d-x{sizes.history_base_scale}" / "home" / base.name
    table = section.table(*COLUMNS)
    measured: dict[float, tuple[Runs, Runs]] = {}
    agree = None
    for years in _years(sizes):
        home, rows = _tiled(base, sizes, work, years)
        fulls, incs = _alternated(home, built.next_day, sizes.history_repeats)
        _row(table, years, rows, "full", fulls)
        _row(table, years, rows, "incremental after 1 day", incs)
        measured[years] = (fulls, incs)
        if agree is None and incs.runs[-1].ok:  # incremental == full, checked at the shortest history
            again = run_isolated(REFRESH, {"home": str(home), "full": True, "keep_as": "s-full2.duckdb"})
            agree = snapshots_agree(home / "s-inc.duckdb", home / "s-full2.duckdb") if again.ok else None
        shutil.rmtree(home, ignore_errors=True)
    section.setup = (
        f"One year of simulated NYC ({sizes.history_base_scale}× scale; built through resolve311's "
        "normaliser and loader, not timed) copied back in time to each history length (bench/history_tiles.py). "
        f"Then the next simulated day ({built.next_day_rows:,} new or changed rows) is loaded and the metrics "
        "refreshed again. Each refresh runs in its own process; CPU seconds are the process's user + system "
        "time (less sensitive than wall time to the other work on the machine). Each refresh is run "
        f"{sizes.history_repeats} times, full and incremental alternated, each from the same saved state: "
        "*seconds* and *CPU seconds* are the medians, *each run's seconds* the runs in order."
    )
    section.notes = _notes(measured, agree)
    return section


def _notes(measured: dict[float, tuple[Runs, Runs]], agree: dict[str, Any] | None) -> list[str]:
    out = []
    if agree is not None:
        out.append(
            f"Incremental == full at the shortest history: {agree.get('differ', '?')} of "
            f"{agree.get('compared', '?')} scorecard values differ."
        )
    ok = {y: runs for y, runs in measured.items() if all(m.ok for kind in runs for m in kind.runs)}
    if len(ok) >= 2:
        short, long = min(ok), max(ok)
        (full, inc), short_inc = ok[long], ok[short][1]
        out.append(
            f"Incremental refresh at {long:g} years vs {short:g} years: "
            f"{_ratio(inc.seconds, short_inc.seconds):.2f}× the wall time "
            f"({_ratio(inc.cpu, short_inc.cpu):.2f}× the CPU time; target ≤ 1.5×); at {long:g} years "
            f"a full refresh takes {_ratio(full.seconds, inc.seconds):.2f}× the incremental one's wall time "
            f"({_ratio(full.cpu, inc.cpu):.1f}× its CPU time; target ≥ 5×), medians of the runs; "
            f"each alternated pair (full, then incremental): {_pairs(full, inc)}."
        )
    return out


def _ratio(top: float | None, bottom: float | None) -> float:
    return (top or 0.0) / max(bottom or 0.0, 1e-9)


def _pairs(fulls: Runs, incs: Runs) -> str:
    """Each run's full / incremental wall-time ratio, in order."""
    pairs = zip(fulls.runs, incs.runs, strict=True)
    return ", ".join(f"{_ratio(f.seconds, i.seconds):.2f}×" for f, i in pairs)


def _cpu(m: Measured) -> float:
    return float(m.result.get("cpu_s") or 0.0)
