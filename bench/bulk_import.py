"""Benchmark 6 — bulk import: a 41-column portal export of NYC-shaped rows, resolve311 vs the engines.

The export is generated from the simulator's rows (display-name header of the
real 41-column export, US-style local dates, ``(lat, lon)`` locations): a
window of simulated days is rendered and repeated with shifted keys and dates
until the file has ``Sizes.bulk_rows`` rows. Each contender then loads the
same file in its own process (peak RSS of its process tree).
"""

from __future__ import annotations

import math
import os
from datetime import date
from pathlib import Path

from bench.isolate import Measured, run_isolated
from bench.report import Section, Table
from bench.sizes import Sizes

HEADER_FILE = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "real" / "export-41col_2025-03-24.csv"
)
US_FORMAT = "%m/%d/%Y %I:%M:%S %p"
KEY_STRIDE = 1_000_000_000
#: Rows of the side-by-side with the batch path (the path before the bulk one; slow, so a prefix).
BEFORE_ROWS = 300_000
COLUMNS = (
    "contender",
    "rows in",
    "rows stored",
    "seconds",
    "rows/s",
    "× DuckDB bare",
    "CPU s (Python process)",
    "peak RSS MB",
    "error",
)


def export_header() -> list[str]:
    with HEADER_FILE.open(encoding="utf-8") as handle:
        return handle.readline().strip().split(",")


def _column_sql(display: str, kinds: dict[str, str], days: int) -> str:
    from resolve311.schema import field_from_display_name

    field = field_from_display_name(display)
    alias = '"' + display.replace('"', '""') + '"'
    if field == "unique_key":
        return f"(unique_key::BIGINT + r * {KEY_STRIDE})::VARCHAR AS {alias}"
    if field == "location":
        return (
            f"CASE WHEN latitude IS NOT NULL THEN '(' || latitude || ', ' || longitude || ')' END AS {alias}"
        )
    kind = kinds.get(field)
    if kind is None:
        return f"NULL::VARCHAR AS {alias}"
    if kind.startswith("TIMESTAMP"):
        return f"strftime({field} - to_days((r * {days})::INTEGER), '{US_FORMAT}') AS {alias}"
    return f"{field}::VARCHAR AS {alias}"


def make_export(work: Path, rows: int, today: date) -> Path:
    """Write ``rows`` NYC-shaped rows as a 41-column portal export; returns the file."""
    from resolve311.simulator.config import SimConfig
    from resolve311.simulator.engine import Simulation

    out = work / f"export-41col-{rows}.csv"
    if out.exists():
        return out
    days, scale = (30, 1.0) if rows >= 200_000 else (3, 0.1)
    sim = Simulation(
        SimConfig(today=today, history_days=days, scale=scale, data_dir=work / "sim", memory_limit="2GB")
    )
    sim.store.con.execute("SET enable_progress_bar = false")
    try:
        sim.start()
        store = sim.store.cursor()
        kinds = {name: kind for name, kind, *_ in store.execute("DESCRIBE rows").fetchall()}
        base = int(store.execute("SELECT count(*) FROM rows").fetchall()[0][0])
        repeats = math.ceil(rows / base)
        select = ", ".join(_column_sql(h, kinds, days) for h in export_header())
        temp = out.with_suffix(".tmp")
        store.execute(
            f"COPY (SELECT {select} FROM rows, range({repeats}) t(r) ORDER BY r, created_date LIMIT {rows}) "
            f"TO '{temp}' (HEADER, DELIMITER ',')"
        )
        temp.rename(out)
    finally:
        sim.close()
    return out


def _rate(m: Measured) -> float | None:
    seconds = m.result.get("load_s")
    return float(m.result["rows_in"]) / seconds if seconds else None


def _row(table: Table, name: str, m: Measured, ceiling: float | None) -> float | None:
    r = m.result
    seconds = r.get("load_s")
    rate = _rate(m)
    ratio = rate / ceiling if rate and ceiling else None
    error = m.error or (r.get("error") if r.get("status") not in (None, "success") else None)
    cpu = r.get("cpu_s")
    table.add(name, r.get("rows_in"), r.get("rows_stored"), seconds, rate, ratio, cpu, m.peak_rss_mb, error)
    return rate


def run(sizes: Sizes, work: Path) -> Section:
    """Import the same generated export with each contender."""
    rows = int(os.environ.get("RESOLVE311_BENCH_BULK_ROWS", sizes.bulk_rows))
    section = Section("bulk_import", "8. Bulk import: a portal export at engine speed")
    work.mkdir(parents=True, exist_ok=True)
    export = make_export(work, rows, date.fromisoformat(sizes.today))
    table = section.table(*COLUMNS)
    bare = run_isolated(
        "bench.bulk_contenders:duckdb_bare", {"database": str(work / "bare.duckdb"), "file": str(export)}
    )
    ceiling = _rate(bare)
    _row(table, "DuckDB bare CREATE TABLE AS read_csv (ceiling)", bare, ceiling)
    ours = run_isolated(
        "bench.bulk_contenders:resolve311_import", {"home": str(work / "home"), "file": str(export)}
    )
    mine = _row(table, "resolve311 import (bulk path)", ours, ceiling)
    pandas = run_isolated(
        "bench.bulk_contenders:pandas_chunked", {"store": str(work / "pandas.parquet"), "file": str(export)}
    )
    _row(table, "pandas read_csv(chunksize=250k) → Parquet", pandas, ceiling)
    if sizes.spark:
        spark = run_isolated(
            "bench.bulk_contenders:spark_local", {"store": str(work / "spark.parquet"), "file": str(export)}
        )
        _row(table, "Spark local[2] read.csv → Parquet", spark, ceiling)
    _before_and_after(section, work, export, min(rows, BEFORE_ROWS))
    size_mb = export.stat().st_size / 2**20
    section.setup = (
        f"One 41-column portal export (display names, `MM/DD/YYYY hh:mm:ss AM` local dates, `(lat, lon)` "
        f"locations) of {rows:,} NYC-shaped rows ({size_mb:,.0f} MB) generated from the simulator's rows "
        "(a window of simulated days repeated with shifted keys and dates). Size: `Sizes.bulk_rows`, or "
        "`RESOLVE311_BENCH_BULK_ROWS=40000000 python -m bench --only bulk_import` for the issue's full 40M. "
        "resolve311: `run_import` of the file into an empty home (landing copy, SHA-256 in the background, DuckDB "
        "`read_csv`, the whole normalisation in SQL, quarantine, versions, upsert), metrics off. DuckDB bare: "
        "`CREATE TABLE t AS SELECT * FROM read_csv(file)` into a database file (no normalisation at all). "
        "pandas: `read_csv(chunksize=250_000, dtype=str)`, the two dates parsed, appended to one Parquet file."
    )
    section.notes = _notes(rows, mine, ceiling, ours)
    return section


def _before_and_after(section: Section, work: Path, export: Path, rows: int) -> None:
    """The same import by the bulk path and by the batch path, on the first ``rows`` rows."""
    prefix = work / f"prefix-{rows}.csv"
    if not prefix.exists():
        with export.open("rb") as src, prefix.open("wb") as dst:
            for number, line in enumerate(src):
                if number > rows:
                    break
                dst.write(line)
    table = section.table(
        *COLUMNS,
        caption=f"The bulk path against the batch path (today's reference) on the first {rows:,} rows:",
    )
    bare = run_isolated(
        "bench.bulk_contenders:duckdb_bare",
        {"database": str(work / "bare-prefix.duckdb"), "file": str(prefix)},
    )
    ceiling = _rate(bare)
    _row(table, "DuckDB bare (ceiling)", bare, ceiling)
    for name, bulk in (
        ("resolve311 import, bulk path", True),
        ("resolve311 import, batch path (before)", False),
    ):
        home = work / ("home-prefix-bulk" if bulk else "home-prefix-batches")
        m = run_isolated(
            "bench.bulk_contenders:resolve311_import", {"home": str(home), "file": str(prefix), "bulk": bulk}
        )
        _row(table, name, m, ceiling)


#: Measured with a per-statement profiler (process CPU seconds, so less sensitive to the other
#: engineers' load than wall time) on 500k rows of the same export, first import into an empty home.
WHERE_THE_TIME_GOES = (
    'This round — profiled inside the direct insert (docs/warehouse.md "Where a large import\'s time goes"): '
    "writing `requests` ~44% of its operator time, the CSV reader 15%, the four timestamp readings the "
    "largest expression (replaced by constants: −3.5 of 9.6–10.4 single-thread CPU-s for the normalising "
    "`SELECT` at 2M rows), then `dirty_flags` (−1.2), `row_hash` (−0.8), the UTC conversions (−0.6). Cut: "
    "a value with a `/` is read first with the export's own format alone (the general reading only for "
    "what it does not read; identical values, a test keeps the general one as the reference): that "
    "`SELECT` 9.6–10.4 → 7.8 s; and the landing copy's SHA-256 follows the copy block by block instead of "
    "running alongside the insert. By hand at 12M rows (same file, old main vs this code, alternated, each "
    "in its own process): CPU 129.8 / 119.5 / 116.9 / 125.3 s → 116.7 / 113.8 / 106.9 / 107.7 s (−9%); on "
    "the quiet pairs (load 0.5–2.0) 64.8 / 67.5 s → 59.8 / 56.3 s wall (−8% and −17%), bare 32.8 s: "
    "0.49–0.51× → 0.55–0.58×; peak RSS 2.5–2.75 GB either way.",
    'The round before — the direct load (docs/warehouse.md "Large files"): a file of keys the warehouse has '
    "never seen (every first import) goes from DuckDB's reader straight into `requests`; the loader's rules "
    "are checked on what was written (distinct keys, none stored before; else the insert is undone and the "
    "file takes the staged path), and a count of the rows read replaces a second, ordered read when nothing "
    "was quarantined. Why: the ratio fell from 0.50× at 2M to 0.25× at 40M because the staged path wrote "
    "every normalised row, uncompressed, into a temporary table that spilled beyond the 3 GB cap (19 GB for "
    "the 40M run's 26.7M-row file) and read it back. Traced per statement on one 12M-row export (load 5–9; "
    "CPU seconds): staged table 85 CPU-s with 4.3 GB spilled, the insert from it 73.5 (it read 5 GB back "
    "and spilled 3 GB more), whole load 166 CPU-s / 312 s; direct: the insert 115 CPU-s, no spill, 1.5 GB "
    "written, whole load 145 CPU-s / 203 s with the ordered second read (26 CPU-s; a count costs ~1 CPU-s "
    "per million rows). Side by side at 12M (same file, each step in its own process, two runs): bare "
    "72.8 s / 68.1 CPU-s and 122.3 s / 75.6 CPU-s, import 183.7 s / 137.7 CPU-s and 215.9 s / 133.5 CPU-s, "
    "i.e. 0.40× and 0.57× by wall, 0.49× and 0.57× by CPU (load 5.5–6.9 and 3.5–6.4), peak RSS 2.5–2.6 GB.",
    "Two rounds ago (500k rows, CPU seconds of the process, first import into "
    "an empty home): "
    "DuckDB bare 2.7 s; resolve311 8.2–8.5 s = the staged statement 2.85 s (reading the 41 text columns "
    "≈ 1.2 s, the normalising expressions ≈ 1.4 s: dirty flags 0.3, row_hash 0.26, the four timestamps "
    "0.2, the rest coordinates, reasons, the raw row of quarantined rows, the temporary table) + writing "
    "`requests` 2.35 s + writing `request_versions` 2.35–2.7 s + the commit 0.5 s. Each write of the "
    "55 typed, compressed columns costs about as much CPU as the bare statement's whole run (which "
    "writes 41 columns once and computes nothing): the two writes alone cost ≈ 1.8× the bare run, so "
    "0.5× is out of reach while a first import writes every row twice. Measured with the "
    "`request_versions` insert skipped (a probe, not a product path; 2M rows, back to back with the "
    "full import and the bare statement): 23.7–24.9 s instead of 34.5–36.6 s, bare 9.6–11.1 s, i.e. "
    "≈ 0.42× instead of ≈ 0.30×: writing each row once (done this round, below) is necessary for "
    "0.5×; the staged read and normalisation (≈ 1.05× the bare run's CPU) remain.",
    "Memory (this round): the import's peak RSS grew with the file (7.1 GB for the 26.7M-row file of "
    "the 40M scale run, 4.66 GB at 6.7M) because DuckDB built the ART indexes of `requests` (its "
    "PRIMARY KEY) and `request_versions` (unique (unique_key, row_hash)) in memory at the commit, "
    "outside `memory_limit` (an index must fit in memory; a 13.4M-key insert into a keyed table fails "
    "under a 500 MB cap), and the commit itself ran after the 3 GB cap was lifted. Now the two tables "
    "have no index (migration 008; no statement read them: every loader join is a hash join, and the "
    "loader keeps keys and versions unique by construction) and the cap holds through the commit. "
    "Peak RSS per phase (VmRSS sampled every 0.2 s, 15-year tiled history, both exports then 1M "
    "rows of the second file again through the general path; load 5–7): 10M rows — staged read and "
    "normalise 3.13 GB, insert `requests` 3.21 GB, insert `request_versions` 3.20 GB, commit 2.73 GB "
    "(was 4.43 GB, 17.9 s → 4.1 s), second file (new keys) 2.91 GB, general path's comparison join "
    "2.81 GB; whole run 3.28 GB (was 4.66 GB). 2M rows: 2.08 GB (the data fits under the cap). Above "
    "~5M rows the peak is the 3 GB cap plus ~0.3 GB of process, whatever the size: DuckDB spills the "
    "rest to `warehouse.duckdb.tmp/`.",
    "Each row written once (this round, migration 009): `request_versions` is now a view over "
    "`requests` and `request_history` (the versions that are not current), so a first import writes "
    "`requests` only. Measured before building it, with a probe that skipped the version insert (1.34M "
    "rows, back to back twice at load 6–7): CPU 21.6–22.4 s → 15.5–16.6 s, bare 7.4–7.6 CPU-s, i.e. "
    "≈ 0.34× → ≈ 0.47× bare by CPU (wall 0.27–0.38× → 0.34–0.47×). The table above is the built path.",
    "Measured and not adopted (gain within noise or none, 500k rows): one detected `strptime` format per "
    "timestamp column (≤ 0.12 CPU-s: the format list already stops at the first match); "
    "`hash(a, b, …)` instead of `hash(struct_pack(…))` (no difference, so no scheme change); dirty flags "
    "as `string_split(concat_ws(…))` (0.1 CPU-s); disabling compression methods (`fsst`, `dictionary`: "
    "no difference; `dict_fsst`: 5× the blocks on disk); `preserve_insertion_order` on the inserts (no "
    "difference); one DuckDB thread for the ordered read (that statement "
    "alone: 9.8–10.4 s instead of 11.4–13.1 s at 2M rows, but the whole import took 29.0–30.7 s instead "
    "of 26.3–28.6 s). A gzipped export reads slower (one decompressing "
    "thread: 500k rows read in 3.7 s instead of 2.7 s) for a 4× smaller landing log. On the staged read "
    "`preserve_insertion_order` halves the parallelism on an idle machine (1.9 s vs 1.0 s wall "
    "at 500k) but it is what numbers the rows: the file position decides the newest of a key's "
    "duplicates and is the quarantine's row number, as on the batch path.",
)


def _notes(rows: int, mine: float | None, ceiling: float | None, ours: Measured) -> list[str]:
    notes = []
    if mine and ceiling:
        verdict = "meets" if mine / ceiling >= 0.5 else "misses"
        notes.append(
            f"resolve311 imports at {mine:,.0f} rows/s = {mine / ceiling:.2f}× DuckDB's bare rate "
            f"({ceiling:,.0f} rows/s): it {verdict} the issue's target of 0.5×; peak RSS {ours.peak_rss_mb:,.0f} MB "
            "(target ≤ 4 GB)."
        )
    notes.extend(WHERE_THE_TIME_GOES)
    notes.append(
        "The ratio varies from run to run on this shared machine: 0.24–0.37× over the six runs of this "
        "section at 2M rows before this one (load 2.4–6), the bare statement alone taking 5.7–17.2 s; read one "
        "run's ratio as ± 0.07."
    )
    if rows < 40_000_000:
        notes.append(
            f"Measured at {rows:,} rows, not the issue's 40M: the machine (2 cores) was shared with other "
            "engineers' work at the time; the size is a parameter (see the setup line) for a later full run."
        )
    return notes
