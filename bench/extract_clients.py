"""The ways to pull a dataset from a SODA API (each run in its own process).

resolve311's incremental update and its backfill (serial or with several windows
in flight), sodapy's ``get_all`` (offset paging, no ``$order``) alone and with its
rows then written into a DuckDB table, and a pandas ``read_csv`` loop over
``$limit``/``$offset`` pages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from bench.keys import compare_keys

if TYPE_CHECKING:
    from sodapy import Socrata

    from resolve311.pipeline.run import RunReport
    from resolve311.settings import Settings


def resolve311_update(
    url: str, home: str, oracle: str, timeout_s: float, retry_base_s: float
) -> dict[str, Any]:
    """``run_update`` into a fresh home; distinct keys read back from the warehouse."""
    started = time.perf_counter()
    from resolve311.pipeline import run_update

    settings = _settings(url, home, timeout_s, retry_base_s)
    cpu = time.process_time()
    report = run_update(settings, refresh=False)
    pulled = _pulled(started, cpu)
    return _warehouse_stats(settings, report, oracle) | pulled


def resolve311_backfill(
    url: str,
    home: str,
    oracle: str,
    timeout_s: float,
    retry_base_s: float,
    workers: int,
    since: str,
    until: str,
) -> dict[str, Any]:
    """``run_backfill`` of the whole simulated history with ``workers`` windows in flight."""
    started = time.perf_counter()
    from datetime import date

    from resolve311.pipeline import run_backfill

    settings = _settings(url, home, timeout_s, retry_base_s, backfill_workers=workers)
    cpu = time.process_time()
    report = run_backfill(settings, date.fromisoformat(since), date.fromisoformat(until), refresh=False)
    pulled = _pulled(started, cpu)
    return _warehouse_stats(settings, report, oracle) | pulled


def _pulled(started: float, cpu: float) -> dict[str, float]:
    """The pull's wall seconds from the client function's start (its imports included) and its CPU
    seconds: up to the rows being in the client's hands, before the bench checks its keys (for
    resolve311 a read of the warehouse, for the others a list in memory)."""
    return {"pull_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


def _settings(url: str, home: str, timeout_s: float, retry_base_s: float, **more: Any) -> Settings:
    from resolve311.settings import load_settings

    return load_settings(
        home=home, socrata_url=url, request_timeout_s=timeout_s, retry_base_s=retry_base_s,
        retry_max_s=max(retry_base_s * 8, 1.0), retry_budget_s=600.0, **more,
    )  # fmt: skip


def _warehouse_stats(settings: Settings, report: RunReport, oracle: str) -> dict[str, Any]:
    """Rows received by a run, and the distinct keys of its warehouse against the oracle."""
    from resolve311.warehouse.connection import connect

    c = report.counts
    received = c.rows_new + c.rows_changed + c.rows_unchanged + c.rows_quarantined
    con = connect(settings.warehouse_path, read_only=True)
    keys = [row[0] for row in con.execute("SELECT unique_key FROM requests").fetchall()]
    con.close()
    stats = compare_keys(keys, oracle)
    stats["received"] = received
    stats["duplicates"] = received - stats["distinct"]
    stats["status"] = report.status
    stats["error"] = report.error
    return stats


def sodapy_get_all(url: str, dataset: str, oracle: str, timeout_s: float, limit: int) -> dict[str, Any]:
    """``Socrata.get_all`` over plain http; an exception ends the pull and is reported."""
    started = time.perf_counter()
    client = _sodapy_client(url, timeout_s)
    keys: list[str] = []
    cpu = time.process_time()
    error = _sodapy_pull(client, dataset, limit, lambda row: keys.append(row.get("unique_key", "")))
    outcome = {"status": "failed" if error else "success", "error": error, **_pulled(started, cpu)}
    return compare_keys(keys, oracle) | outcome


def sodapy_get_all_into_duckdb(
    url: str, dataset: str, oracle: str, timeout_s: float, limit: int, home: str
) -> dict[str, Any]:
    """``get_all``, then its rows into a DuckDB table the way a script would (a DataFrame, then
    ``CREATE TABLE AS``): the naive way to have the rows in a database, with no landing log, no
    normalising and no versions. The pull ends when the table is written."""
    started = time.perf_counter()
    import duckdb
    import pandas as pd

    client = _sodapy_client(url, timeout_s)
    rows: list[dict[str, Any]] = []
    cpu = time.process_time()
    error = _sodapy_pull(client, dataset, limit, rows.append)
    Path(home).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(Path(home) / "sodapy.duckdb"))
    con.register("page_rows", pd.DataFrame.from_records(rows, columns=None if rows else ["unique_key"]))
    del rows
    con.execute("CREATE TABLE requests AS SELECT * FROM page_rows")
    outcome = {"status": "failed" if error else "success", "error": error, **_pulled(started, cpu)}
    keys = [row[0] for row in con.execute("SELECT unique_key FROM requests").fetchall()]
    con.close()
    return compare_keys(keys, oracle) | outcome


def _sodapy_client(url: str, timeout_s: float) -> Socrata:
    """A sodapy client of the simulator over plain http (imported and built before the CPU clock starts,
    as the other clients' imports and settings are)."""
    import requests
    from sodapy import Socrata

    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    return Socrata(urlsplit(url).netloc, None, timeout=timeout_s, session_adapter=adapter)


def _sodapy_pull(
    client: Socrata, dataset: str, limit: int, keep: Callable[[dict[str, Any]], None]
) -> str | None:
    """Every row of ``get_all`` given to ``keep``; the error a sodapy user sees, or None. Closes ``client``."""
    try:
        for row in client.get_all(dataset, limit=limit):
            keep(row)
    except Exception as exc:  # what a sodapy user sees
        return f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        client.close()
    return None


def pandas_read_csv_loop(url: str, dataset: str, oracle: str, limit: int) -> dict[str, Any]:
    """``pd.read_csv`` of ``/resource/<id>.csv?$limit&$offset`` pages until a short page."""
    started = time.perf_counter()
    import pandas as pd

    frames = []
    error = None
    offset = 0
    cpu = time.process_time()
    try:
        while True:
            page = f"{url}/resource/{dataset}.csv?$limit={limit}&$offset={offset}"
            frame = pd.read_csv(page, dtype=str, keep_default_na=False)
            frames.append(frame)
            if len(frame) < limit:
                break
            offset += limit
    except Exception as exc:  # what a pandas user sees
        error = f"{type(exc).__name__}: {str(exc)[:160]}"
    outcome = {"status": "failed" if error else "success", "error": error, **_pulled(started, cpu)}
    keys = [k for f in frames for k in f["unique_key"].tolist()] if frames else []
    return compare_keys(keys, oracle) | outcome
