"""Benchmark 1 — extract: pull a simulated dataset with resolve311, sodapy and pandas.

Without faults each client pulls ``extract_repeats`` times, the clients taking turns (one pull of each,
then again), each resolve311 pull into a fresh home: one pull's time moves a lot from run to run on a
shared machine. A client's row is its median pull by distinct rows/s, and its last cell every pull's rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.isolate import Measured, run_isolated
from bench.report import Section, Table
from bench.simproc import cpu_seconds, oracle_keys, simulator_process
from bench.sizes import Sizes
from resolve311.pipeline.backfill import BACKFILL_CHUNK_DAYS

FAULTS = "503:0.05,429:0.02,timeout:0.01,truncate:0.01"
DATASET = "erm2-nwe9"
COLUMNS = (
    "client", "status", "rows received", "distinct keys", "duplicates", "missing", "extra",
    "seconds", "distinct rows/s", "peak RSS MB", "error", "client CPU s", "server CPU s", "requests",
    "each pull's distinct rows/s",
)  # fmt: skip
RATE = COLUMNS.index("distinct rows/s")


def _sim_args(sizes: Sizes, scale: float, faults: str | None, latency: float = 0.0) -> list[str]:
    args = ["--today", sizes.today, "--history-days", str(sizes.extract_days), "--scale", str(scale)]
    args += ["--latency", str(latency)] if latency else []
    return args + (["--faults", faults, "--stall-seconds", "2", "--retry-after", "1"] if faults else [])


BACKFILL_WORKERS = 4
PARALLEL = f"resolve311 backfill ({BACKFILL_WORKERS} workers)"
SERIAL = "resolve311 backfill (1 worker)"
SODAPY_DUCKDB = "sodapy get_all, then a DuckDB table"
CLIENTS = (PARALLEL, SERIAL, "resolve311 update", "sodapy get_all", "pandas read_csv loop")
#: The clean run adds the naive way to have the rows in a database (the faulty run would only show sodapy fail again).
CLEAN_CLIENTS = (*CLIENTS[:4], SODAPY_DUCKDB, *CLIENTS[4:])
#: The clients of the latency run: the backfill both ways and the naive client it must beat.
LATENCY_CLIENTS = (PARALLEL, SERIAL, "sodapy get_all")
OURS = (PARALLEL, SERIAL, "resolve311 update")


def _history(sizes: Sizes) -> dict[str, str]:
    """The backfill range covering the whole simulated history."""
    today = date.fromisoformat(sizes.today)
    return {
        "since": str(today - timedelta(days=sizes.extract_days + 1)),
        "until": str(today + timedelta(days=1)),
    }


def _contenders(
    sizes: Sizes, url: str, home: Path, oracle: Path, page: int, timeout_s: float
) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each client's child-process target and arguments (keys: CLIENTS)."""
    common = {"url": url, "oracle": str(oracle)}
    ours = common | {"timeout_s": timeout_s, "retry_base_s": 0.2} | _history(sizes)
    return {
        PARALLEL: (
            "bench.extract_clients:resolve311_backfill",
            ours | {"home": str(home / "parallel"), "workers": BACKFILL_WORKERS},
        ),
        SERIAL: (
            "bench.extract_clients:resolve311_backfill",
            ours | {"home": str(home / "serial"), "workers": 1},
        ),
        "resolve311 update": (
            "bench.extract_clients:resolve311_update",
            common | {"home": str(home), "timeout_s": timeout_s, "retry_base_s": 0.2},
        ),
        "sodapy get_all": (
            "bench.extract_clients:sodapy_get_all",
            common | {"dataset": DATASET, "timeout_s": timeout_s, "limit": page},
        ),
        SODAPY_DUCKDB: (
            "bench.extract_clients:sodapy_get_all_into_duckdb",
            common
            | {"dataset": DATASET, "timeout_s": timeout_s, "limit": page, "home": str(home / "sodapy")},
        ),
        "pandas read_csv loop": (
            "bench.extract_clients:pandas_read_csv_loop",
            common | {"dataset": DATASET, "limit": page},
        ),
    }


def _served(url: str) -> int:
    """Requests the simulator has answered so far (its ``/_sim/state``)."""
    import httpx

    return int(httpx.get(f"{url}/_sim/state", timeout=60).json()["requests_served"])


def _measure(url: str, pid: int, target: str, kwargs: dict[str, Any], page: int) -> Measured:
    """Run one client; add the simulator's CPU seconds and requests served during it."""
    cpu, served = cpu_seconds(pid), _served(url)
    m = run_isolated(target, kwargs, env=_page_env(page))
    m.result["server_cpu_s"] = cpu_seconds(pid) - cpu
    m.result["requests"] = _served(url) - served
    return m


def _row(table: Table, name: str, runs: Sequence[Measured]) -> None:
    """``name``'s median pull by distinct rows/s (a failed pull counts as the slowest), and every pull's rate."""
    rows = [_cells(name, m) for m in runs]
    rates = [row[RATE] for row in rows]
    by_rate = sorted(rows, key=lambda row: -1.0 if row[RATE] is None else float(row[RATE]))
    median = by_rate[(len(rows) - 1) // 2]
    table.add(*median, ", ".join("failed" if rate is None else f"{rate:,.0f}" for rate in rates))


def _cells(name: str, m: Measured) -> tuple[Any, ...]:
    """One pull's cells (all columns but the last)."""
    r = m.result
    received, distinct = r.get("received"), r.get("distinct")
    seconds = float(r.get("pull_s", m.seconds))  # the pull, not the bench's check of its keys
    rate = distinct / seconds if distinct and seconds == seconds and seconds > 0 else None
    error = m.error or r.get("error")
    return (
        name, r.get("status", "crashed"), received, r.get("distinct"), r.get("duplicates"),
        r.get("missing"), r.get("extra"), seconds, rate, m.peak_rss_mb, error, r.get("cpu_s"),
        r.get("server_cpu_s"), r.get("requests"),
    )  # fmt: skip


def _page_env(page: int) -> dict[str, str]:
    import os

    return {**os.environ, "RESOLVE311_PAGE_SIZE": str(page)}


def _clean_run(sizes: Sizes, work: Path, section: Section) -> int:
    caption = f"No faults, pages of {sizes.extract_page:,} rows"
    return _run_without_faults(sizes, work / "clean", section.table(*COLUMNS, caption=caption), CLEAN_CLIENTS)


def _latency_run(sizes: Sizes, work: Path, section: Section) -> None:
    """The clean run's data served with the portal's query time: each data request waits first."""
    caption = (
        f"No faults, every data request answered after a wait of {sizes.extract_latency:g} s "
        f"(`--latency {sizes.extract_latency:g}`), pages of {sizes.extract_page:,} rows"
    )
    table = section.table(*COLUMNS, caption=caption)
    _run_without_faults(sizes, work / "latency", table, LATENCY_CLIENTS, sizes.extract_latency)


def _run_without_faults(
    sizes: Sizes, work: Path, table: Table, clients: Sequence[str], latency: float = 0.0
) -> int:
    """``clients`` taking turns ``extract_repeats`` times against one simulator (``latency`` s before
    each data request); returns the rows it serves."""
    work.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[Measured]] = {name: [] for name in clients}
    with simulator_process(*_sim_args(sizes, sizes.extract_scale, None, latency)) as (url, pid):
        oracle = work / "oracle.txt"
        n = oracle_keys(url, oracle)
        for turn in range(sizes.extract_repeats):
            contenders = _contenders(sizes, url, work / f"home-{turn}", oracle, sizes.extract_page, 60)
            for name in clients:
                target, kwargs = contenders[name]
                runs[name].append(_measure(url, pid, target, kwargs, sizes.extract_page))
    for name in clients:
        _row(table, name, runs[name])
    return n


def _faulty_run(sizes: Sizes, work: Path, section: Section) -> int:
    caption = (
        f'Faults on (`--faults "{FAULTS}"`, 2 s stall, client read timeout 1 s), '
        f"pages of {sizes.fault_page:,} rows, a fresh simulator per client"
    )
    table = section.table(*COLUMNS, caption=caption)
    n = 0
    for index, name in enumerate(CLIENTS):
        with simulator_process(*_sim_args(sizes, sizes.fault_scale, FAULTS)) as (url, pid):
            oracle = work / "oracle-faults.txt"
            n = oracle_keys(url, oracle)
            home = work / f"faults-home-{index}"
            target, kwargs = _contenders(sizes, url, home, oracle, sizes.fault_page, 1.0)[name]
            _row(table, name, [_measure(url, pid, target, kwargs, sizes.fault_page)])
    return n


def run(sizes: Sizes, work: Path) -> Section:
    """Both runs, as one report section."""
    section = Section("extract", "1. Extract: pulling a dataset from the SODA API")
    clean_rows = _clean_run(sizes, work, section)
    fault_rows = _faulty_run(sizes, work, section)
    _latency_run(sizes, work, section)
    section.setup = (
        f"The simulator (`resolve311 simulate`, a separate process on the same 2 cores) serves "
        f"{sizes.extract_days} simulated days at scale {sizes.extract_scale} ({clean_rows:,} rows) for the "
        f"clean run and at scale {sizes.fault_scale} ({fault_rows:,} rows) for the faulty run. The oracle is "
        "the simulator's exact data read with `X-Sim-No-Faults: 1`. resolve311 runs into a fresh home "
        "(keyset paging on `:updated_at, :id`, landing log, warehouse load; metrics off): `run_backfill` of "
        f"the whole history in {BACKFILL_CHUNK_DAYS}-day windows, with {BACKFILL_WORKERS} workers and with 1, and "
        "`run_update`, whose *received* count includes the trailing re-pull of the last 3 days, by design. "
        "sodapy and pandas page by `$offset` without `$order`, the way most scripts do. *seconds* is each "
        "client's pull, timed in its process from the call (its imports included) until the rows are in its "
        "hands — the bench's own check of the keys afterwards (for resolve311 a read of the warehouse, "
        "~0.3 s; for sodapy's DuckDB table a read of it; for the others a list in memory) is not counted. "
        "Before issue 11 the "
        "backfill had only the serial path, which read each page with Python's `json` and `read_records` "
        "(5.9k distinct rows/s on this simulator at scale 0.5 on an idle machine, commit c7b879e). "
        f"The third run serves the clean run's data with a wait of {sizes.extract_latency:g} s before each data "
        "request is answered (`--latency`), as the real portal takes its time to run a query: an assumed figure, "
        "not one measured on the portal (no network here); the wait costs the simulator no CPU. "
        f"Without faults (the first and third runs) each client pulls {sizes.extract_repeats} times, the clients "
        "taking turns, each resolve311 pull into a fresh home: a row is the client's median pull by distinct "
        "rows/s, and *each pull's distinct rows/s* lists every pull in order (the faulty run pulls once)."
    )
    section.notes = notes(section)
    return section


def _rate(row: Sequence[Any] | None) -> float | None:
    return float(row[8]) if row and isinstance(row[8], float) else None


def _faulty_speedup(faulty: Table) -> str:
    by_name = {row[0]: row for row in faulty.rows}
    parallel, serial = _rate(by_name.get(PARALLEL)), _rate(by_name.get(SERIAL))
    if not (parallel and serial):
        return ""
    return f", {serial:,.0f} vs {parallel:,.0f} ({parallel / serial:.2f}×) with faults on"


def _server_note(by_name: dict[Any, Sequence[Any]]) -> str:
    """The simulator's CPU while serving the concurrent backfill and sodapy."""
    ours, theirs = by_name.get(PARALLEL), by_name.get("sodapy get_all")
    if not (ours and theirs and isinstance(ours[12], float) and isinstance(theirs[12], float)):
        return ""
    return (
        f"The simulator (*server CPU s*, its process's user + kernel time while it served that client) spent "
        f"{ours[12]:.2f} CPU-s on the concurrent backfill's {ours[13]} requests and {theirs[12]:.2f} on sodapy's "
        f"{theirs[13]}: both render every row as JSON in DuckDB; the backfill's pages also carry the 3 system "
        "fields and are sorted on `:updated_at, :id` within their window, and each window ends with a `count(*)`."
    )


def _latency_note(table: Table) -> str:
    by_name = {row[0]: row for row in table.rows}
    parallel, serial, sodapy = (_rate(by_name.get(n)) for n in LATENCY_CLIENTS)
    if not (parallel and serial and sodapy):
        return "With the portal's query time: a client failed (see the table)."
    return (
        f"With the portal's query time (each data request waits before it is answered), the concurrent backfill "
        f"keeps {BACKFILL_WORKERS} windows in flight while sodapy and the serial backfill wait for each page in "
        f"turn: {parallel:,.0f} distinct rows/s against sodapy's {sodapy:,.0f} ({parallel / sodapy:.2f}×) and the "
        f"serial backfill's {serial:,.0f} ({parallel / serial:.2f}×)."
    )


def notes(section: Section) -> list[str]:
    """Interpretation written from the measured rows."""
    clean, faulty, *latency = section.tables
    by_name = {row[0]: row for row in clean.rows}
    out = []
    parallel, serial, sodapy = (_rate(by_name.get(n)) for n in (PARALLEL, SERIAL, "sodapy get_all"))
    if parallel and sodapy:
        verdict = "reaches" if parallel >= sodapy else "does not reach"
        out.append(
            f"Without faults the concurrent backfill ({BACKFILL_WORKERS} windows in flight) {verdict} sodapy "
            f"get_all's rate: {parallel:,.0f} vs {sodapy:,.0f} distinct rows/s ({parallel / sodapy:.2f}×; goal 2×), "
            "while it also pulls in a total order, lands every page in the landing log and loads it into DuckDB; "
            "sodapy only holds the rows in memory."
        )
    naive = _rate(by_name.get(SODAPY_DUCKDB))
    if parallel and naive:
        out.append(
            f"The naive way to have the rows in a database, sodapy's rows then written into a DuckDB table (a "
            "DataFrame, `CREATE TABLE AS`; no landing log, no normalising, no versions, its duplicates and gaps "
            f"kept): {naive:,.0f} distinct rows/s; the concurrent backfill is {parallel / naive:.2f}× that."
        )
    if parallel and serial:
        out.append(
            f"Serial (1 worker: fetch, read, normalise, land and load one page after the other) vs concurrent: "
            f"{serial:,.0f} vs {parallel:,.0f} distinct rows/s ({parallel / serial:.2f}×) without faults"
            + _faulty_speedup(faulty)
            + ". Concurrency hides waiting (the source's latency, retries, stalls); it cannot create CPU: "
            "the *client CPU s* column is the work each client does for the same rows (the simulator's own "
            "CPU on the same 2 cores, *server CPU s*, comes on top), and resolve311 reads, normalises, compresses, lands and "
            "loads every row where sodapy only parses it."
        )
    server = _server_note(by_name)
    if server:
        out.append(server)
    if latency:
        out.append(_latency_note(latency[0]))
    update = _rate(by_name.get("resolve311 update"))
    if update:
        out.append(
            f"`update` (serial by design; it also re-reads the trailing days, counted in *received*): {update:,.0f} distinct rows/s."
        )
    complete = [str(r[0]) for r in faulty.rows if r[1] == "success" and r[5] == 0]
    broken = [f"{r[0]} ({r[10] or 'incomplete'})" for r in faulty.rows if r[0] not in complete]
    out.append(
        "With faults on, complete pulls: "
        + (", ".join(complete) or "none")
        + ". Failed or incomplete: "
        + (", ".join(broken) or "none")
        + "."
    )
    lossy = [r for r in clean.rows if r[0] not in OURS and (r[5] or r[4])]
    if lossy:
        worst = max(lossy, key=lambda r: int(r[5] or 0))
        out.append(
            f"Even without faults, offset paging without `$order` is wrong: {worst[0]} received "
            f"{int(worst[4] or 0):,} duplicates and missed {int(worst[5] or 0):,} of {int(worst[3] or 0) + int(worst[5] or 0):,} "
            "keys, because the server (like the real portal) promises no row order without `$order`, so "
            "consecutive pages overlap and leave gaps. resolve311 pages on `:updated_at, :id` and got every key."
        )
    else:
        out.append(
            "Offset paging without `$order` happened to be complete here; it is only correct while the server "
            "keeps a stable order and the data does not change during the pull, which the real portal does not promise."
        )
    return out
