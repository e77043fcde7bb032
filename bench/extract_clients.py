"""The three ways to pull a dataset from a SODA API (each run in its own process).

resolve311's incremental update, sodapy's ``get_all`` (offset paging, no ``$order``),
and a pandas ``read_csv`` loop over ``$limit``/``$offset`` pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bench.keys import compare_keys


def resolve311_update(
    url: str, home: str, oracle: str, timeout_s: float, retry_base_s: float
) -> dict[str, Any]:
    """``run_update`` into a fresh home; distinct keys read back from the warehouse."""
    from resolve311.pipeline import run_update
    from resolve311.settings import load_settings
    from resolve311.warehouse.connection import connect

    settings = load_settings(
        home=home, socrata_url=url, request_timeout_s=timeout_s, retry_base_s=retry_base_s,
        retry_max_s=max(retry_base_s * 8, 1.0), retry_budget_s=600.0,
    )  # fmt: skip
    report = run_update(settings, refresh=False)
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
    import requests
    from sodapy import Socrata

    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    client = Socrata(urlsplit(url).netloc, None, timeout=timeout_s, session_adapter=adapter)
    keys: list[str] = []
    error = None
    try:
        for row in client.get_all(dataset, limit=limit):
            keys.append(row.get("unique_key", ""))
    except Exception as exc:  # what a sodapy user sees
        error = f"{type(exc).__name__}: {str(exc)[:160]}"
    finally:
        client.close()
    return compare_keys(keys, oracle) | {"status": "failed" if error else "success", "error": error}


def pandas_read_csv_loop(url: str, dataset: str, oracle: str, limit: int) -> dict[str, Any]:
    """``pd.read_csv`` of ``/resource/<id>.csv?$limit&$offset`` pages until a short page."""
    import pandas as pd

    frames = []
    error = None
    offset = 0
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
    keys = [k for f in frames for k in f["unique_key"].tolist()] if frames else []
    return compare_keys(keys, oracle) | {"status": "failed" if error else "success", "error": error}
