"""Parse, normalise and load API pages: resolve311's import vs a pandas pipeline (one process each).

Each contender loads every file into an empty store, then re-delivers the last
file with every row changed (an upsert of one page into the loaded store).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

TIME_FIELDS = ("created_date", "closed_date", "due_date", "resolution_action_updated_date")
NYC = "America/New_York"


def resolve311_import(home: str, files: list[str], upsert_file: str) -> dict[str, Any]:
    """``run_import`` (landing log + normalise + upsert into DuckDB), metrics off."""
    from resolve311.pipeline import run_import
    from resolve311.settings import load_settings
    from resolve311.warehouse.connection import connect

    settings = load_settings(home=home)
    started = time.perf_counter()
    first = run_import(settings, [Path(f) for f in files], refresh=False)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    second = run_import(settings, [Path(upsert_file)], refresh=False)
    upsert_s = time.perf_counter() - started
    con = connect(settings.warehouse_path, read_only=True)
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE closed_utc IS NOT NULL) FROM requests"
    ).fetchone()
    con.close()
    assert row is not None
    return {
        "status": f"{first.status}/{second.status}",
        "rows_in": sum(f["rows"] for f in first.files),
        "rows_stored": int(row[0]),
        "closed_utc": int(row[1]),
        "quarantined": first.counts.rows_quarantined,
        "load_s": load_s,
        "upsert_s": upsert_s,
        "upsert_changed": second.counts.rows_changed,
    }


def _normalise(frame: Any) -> Any:
    """What a pandas user writes: parse times, localise to NYC, UTC instants, numbers, newest per key."""
    import pandas as pd

    for name in TIME_FIELDS:
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], format="ISO8601", errors="coerce")
    for name in ("created", "closed"):
        local = frame[f"{name}_date"].dt.tz_localize(NYC, ambiguous="NaT", nonexistent="shift_forward")
        frame[f"{name}_utc"] = local.dt.tz_convert("UTC").dt.tz_localize(None)
    frame["hours_to_close"] = (frame["closed_utc"] - frame["created_utc"]).dt.total_seconds() / 3600
    for name in ("latitude", "longitude"):
        frame[name] = pd.to_numeric(frame[name], errors="coerce")
    frame[":updated_at"] = pd.to_datetime(frame[":updated_at"], format="ISO8601", errors="coerce")
    frame = frame.dropna(subset=["unique_key", "created_date"])
    return frame.sort_values(":updated_at", kind="stable").drop_duplicates("unique_key", keep="last")


def _read(path: str) -> Any:
    import pandas as pd

    if path.endswith(".json"):
        return pd.read_json(path, dtype=False, convert_dates=False)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def _upsert(store: Path, incoming: Any) -> int:
    """Newest wins: old store + incoming, keep the newest version of each key, rewrite the file."""
    import pandas as pd

    if store.exists():
        merged = pd.concat([pd.read_parquet(store), incoming], ignore_index=True)
        merged = merged.sort_values(":updated_at", kind="stable").drop_duplicates("unique_key", keep="last")
    else:
        merged = incoming
    merged.to_parquet(store, index=False)
    return len(merged)


def pandas_load(store: str, files: list[str], upsert_file: str) -> dict[str, Any]:
    """read_csv/read_json + to_datetime + tz_localize + drop_duplicates, upserted into one Parquet file."""
    import pandas as pd

    path = Path(store)
    started = time.perf_counter()
    frames = [_read(f) for f in files]
    incoming = _normalise(pd.concat(frames, ignore_index=True))
    if "location" in incoming:
        incoming["location"] = incoming["location"].astype(str)
    stored = _upsert(path, incoming)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    again = _normalise(_read(upsert_file))
    if "location" in again:
        again["location"] = again["location"].astype(str)
    stored = _upsert(path, again)
    upsert_s = time.perf_counter() - started
    return {
        "status": "success",
        "rows_in": sum(len(f) for f in frames),
        "rows_stored": stored,
        "closed_utc": int(pd.read_parquet(path, columns=["closed_utc"])["closed_utc"].notna().sum()),
        "quarantined": None,
        "load_s": load_s,
        "upsert_s": upsert_s,
        "upsert_changed": len(again),
    }
