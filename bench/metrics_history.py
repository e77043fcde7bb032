"""Benchmark 9 — metric refresh vs history length: full refresh, then one day of changes, incremental.

One simulated year (the real generator, normaliser and loader) is repeated back in time
(:mod:`bench.history_tiles`) to 1, 4, 12… years; at each length the full refresh and, after
the kept-aside next day is loaded, the incremental refresh run in their own processes.
``RESOLVE311_BENCH_HISTORY_YEARS=1.2,12`` picks the lengths (12 years ≈ 40M requests).
"""

from __future__ import annotations

import os
import shutil
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
)  # fmt: skip
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


def _row(table: Table, years: float, rows: int, what: str, m: Measured) -> None:
    cpu = m.result.get("cpu_s")
    days = m.result.get("days_recomputed")
    table.add(f"{years:g} years", rows, what, days, m.seconds, cpu, m.peak_rss_mb, m.error)


def run(sizes: Sizes, work: Path) -> Section:
    section = Section("metrics_history", "10. Metric refresh vs history length (opt-in)")
    built = cached_build(sizes.cache, work, date.fromisoformat(sizes.today), 364, sizes.history_base_scale)
    base = built.home / "warehouse.duckdb"
    if sizes.cache is not None:
        base = sizes.cache / f"warehouse-{sizes.today}-364d-x{sizes.history_base_scale}" / "home" / base.name
    table = section.table(*COLUMNS)
    measured: dict[float, tuple[Measured, Measured]] = {}
    agree = None
    for years in _years(sizes):
        home, rows = _tiled(base, sizes, work, years)
        full = run_isolated(REFRESH, {"home": str(home), "full": True, "keep_as": "s-full.duckdb"})
        load_next_day(home, built.next_day)
        inc = run_isolated(REFRESH, {"home": str(home), "full": False, "keep_as": "s-inc.duckdb"})
        _row(table, years, rows, "full", full)
        _row(table, years, rows, "incremental after 1 day", inc)
        measured[years] = (full, inc)
        if agree is None and inc.ok:  # incremental == full, checked at the shortest history
            again = run_isolated(REFRESH, {"home": str(home), "full": True, "keep_as": "s-full2.duckdb"})
            agree = snapshots_agree(home / "s-inc.duckdb", home / "s-full2.duckdb") if again.ok else None
        shutil.rmtree(home, ignore_errors=True)
    section.setup = (
        f"One year of simulated NYC ({sizes.history_base_scale}× scale; built through resolve311's "
        "normaliser and loader, not timed) copied back in time to each history length (bench/history_tiles.py). "
        f"Then the next simulated day ({built.next_day_rows:,} new or changed rows) is loaded and the metrics "
        "refreshed again. Each refresh runs in its own process; CPU seconds are the process's user + system "
        "time (less sensitive than wall time to the other work on the machine)."
    )
    section.notes = _notes(measured, agree)
    return section


def _notes(measured: dict[float, tuple[Measured, Measured]], agree: dict[str, Any] | None) -> list[str]:
    out = []
    if agree is not None:
        out.append(
            f"Incremental == full at the shortest history: {agree.get('differ', '?')} of "
            f"{agree.get('compared', '?')} scorecard values differ."
        )
    ok = {y: m for y, m in measured.items() if m[0].ok and m[1].ok}
    if len(ok) >= 2:
        short, long = min(ok), max(ok)
        inc_ratio = ok[long][1].seconds / ok[short][1].seconds
        cpu_ratio = _cpu(ok[long][1]) / max(_cpu(ok[short][1]), 1e-9)
        vs_full = ok[long][0].seconds / ok[long][1].seconds
        vs_full_cpu = _cpu(ok[long][0]) / max(_cpu(ok[long][1]), 1e-9)
        out.append(
            f"Incremental refresh at {long:g} years vs {short:g} years: {inc_ratio:.2f}× the wall time "
            f"({cpu_ratio:.2f}× the CPU time; target ≤ 1.5×); at {long:g} years a full refresh takes "
            f"{vs_full:.1f}× the incremental one's wall time ({vs_full_cpu:.1f}× its CPU time; target ≥ 5×)."
        )
    return out


def _cpu(m: Measured) -> float:
    return float(m.result.get("cpu_s") or 0.0)
