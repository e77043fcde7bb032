"""The serving snapshot's contents: the results the metrics stage hands to publishing.

The refresh produces every table (:class:`Results`, docs/snapshot.md);
:func:`status_results` adds fresh ``status``, ``runs`` and ``quarantine_summary`` (and
``meta.generated_at``) to them, or to the metric tables of the current file when the
metrics were not refreshed. Publishing (``resolve311.publish``) writes the file. ``meta.data_generation`` says which state of
the warehouse the metric tables reflect, so a run can tell that the snapshot is behind
(:func:`behind_reason`) whatever was interrupted when; ``meta.metrics_status`` and
``meta.metrics_note`` tell the dashboard why metrics may be missing or old.
Temporary files of a writer that died are removed by
:func:`~resolve311.metrics.snapshot_temps.remove_stale_temps`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Final

import duckdb
import pandas as pd

from resolve311.logs import redact, redact_optional
from resolve311.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final[str] = "2"
METRIC_TABLES: Final[tuple[str, ...]] = (
    "agencies", "scorecard", "heatmap_when", "heatmap_where", "series", "km_curve", "calibration",
    "type_days", "areas",
)  # fmt: skip
STATUS_TABLES: Final[tuple[str, ...]] = ("status", "runs", "quarantine_summary")
RUNS_KEPT: Final[int] = 500
#: Cell size of the "where" heat map, degrees of latitude and longitude.
GRID_DEG: Final[float] = 0.01

_STATUS_SQL = """
WITH last_run AS (
    SELECT * FROM runs WHERE source = $source ORDER BY started_at DESC, run_id DESC LIMIT 1
), state AS (
    SELECT max(last_success_at) AS last_success_at, min(unavailable_since) AS unavailable_since,
           max(watermark) AS watermark
    FROM source_state WHERE source = $source
)
SELECT $source AS source, {as_of} AS as_of,
       r.run_id AS last_run_id, r.kind AS last_run_kind, r.status AS last_run_status,
       r.started_at AS last_run_started_at, r.ended_at AS last_run_ended_at,
       coalesce(s.last_success_at, (SELECT max(ended_at) FROM runs
                                    WHERE source = $source AND status = 'success')) AS last_success_at,
       s.unavailable_since, s.watermark,
       (SELECT count(*) FROM requests WHERE source = $source) AS requests_total,
       (SELECT count(*) FROM quarantine WHERE source = $source) AS quarantine_total,
       r.error AS last_error
FROM state s LEFT JOIN last_run r ON true
"""
#: The data's as-of when the caller has not found it (a scan of every request's creation).
_AS_OF_SQL = """(SELECT max(created_date) FROM requests
         WHERE source = $source AND created_utc <= now()::TIMESTAMP + INTERVAL 1 DAY)"""
_NO_AS_OF = object()


def schema_sql() -> str:
    """The snapshot DDL (snapshot_schema.sql)."""
    return resources.files("resolve311.metrics").joinpath("snapshot_schema.sql").read_text()


def read_status_tables(
    con: duckdb.DuckDBPyConnection, source: str, as_of: datetime | object | None = _NO_AS_OF
) -> dict[str, pd.DataFrame]:
    """status, runs (newest 500) and quarantine_summary from the warehouse (errors redacted).

    ``as_of``: the data's as-of when the caller has it (the refresh:
    :func:`resolve311.metrics.agencies.as_of`, the same rule without reading every row);
    otherwise it is looked for among every request.
    """
    params = {"source": source}
    if as_of is _NO_AS_OF:
        status = con.execute(_STATUS_SQL.format(as_of=_AS_OF_SQL), params).df()
    else:
        known = _STATUS_SQL.format(as_of="CAST($as_of AS TIMESTAMP)")
        status = con.execute(known, {"source": source, "as_of": as_of}).df()
    runs = con.execute(
        f"SELECT * FROM runs WHERE source = $source ORDER BY started_at DESC LIMIT {RUNS_KEPT}", params
    ).df()
    for frame, column in ((status, "last_error"), (runs, "error")):
        if column in frame:
            frame[column] = [redact_optional(v) if isinstance(v, str) else v for v in frame[column]]
    return {
        "status": status,
        "runs": runs,
        "quarantine_summary": con.execute(
            'SELECT reason, count(*) AS "rows", max(quarantined_at) AS last_seen FROM quarantine'
            " WHERE source = $source GROUP BY reason ORDER BY reason",
            params,
        ).df(),
    }


def base_meta(settings: Settings) -> dict[str, str | None]:
    """Meta keys every snapshot has; refresh adds the data's as-of."""
    return {
        "source": settings.source,
        "city": settings.source,
        "city_name": settings.city().title,
        "windows": "1d,7d,28d",
        "default_window": settings.recent,
        "schema_version": SCHEMA_VERSION,
        "anomaly_threshold": str(settings.anomaly_threshold),
        "anomaly_target_rate": str(settings.anomaly_target_rate),
        "min_group_size": str(settings.min_group_size),
        "timezone": settings.city_timezone(),
        "grid_deg": str(GRID_DEG),
    }


def read_meta(path: Path) -> dict[str, str | None]:
    """The meta table of a published snapshot (empty when there is none)."""
    if not path.exists():
        return {}
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())


def generated_now() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def data_generation(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """Which state of the warehouse the metrics reflect: the newest batch that changed a row."""
    # request_versions is every stored row once: the current ones (requests) and the older ones
    row = con.execute("SELECT max(batch_seq) FROM request_versions WHERE source = ?", [source]).fetchone()
    return str(row[0] if row and row[0] is not None else 0)


def behind_reason(con: duckdb.DuckDBPyConnection, settings: Settings) -> str | None:
    """Why the published metrics do not reflect the warehouse (None when they do)."""
    meta = read_meta(settings.snapshot_path)
    if not meta:
        return "no snapshot has been published"
    if meta.get("metrics_status") == "failed":
        return "the last metrics refresh failed"
    published, current = meta.get("data_generation"), data_generation(con, settings.source)
    if current == "0":  # an empty warehouse: nothing the snapshot could be missing
        return None
    if published != current:
        return f"the snapshot reflects warehouse generation {published}, not the current one ({current})"
    return None


@dataclass(frozen=True)
class Results:
    """What the metrics stage hands to publishing: snapshot tables by name, and meta keys.

    ``carry_metrics``: the metric tables (and meta keys) not given here are carried over from
    the current snapshot (a status-only publish); otherwise a table not given is published empty.
    Tables outside the snapshot schema (``digest_deliveries``) are carried over either way.
    """

    tables: Mapping[str, pd.DataFrame]
    meta: Mapping[str, str | None]
    carry_metrics: bool = False

    def with_status(self, status: Mapping[str, pd.DataFrame], meta: Mapping[str, str | None]) -> Results:
        """The same results with fresher status tables and meta keys."""
        return Results({**self.tables, **status}, {**self.meta, **meta}, self.carry_metrics)


def status_results(
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    metrics: Results | None = None,
    metrics_note: str | None = None,
) -> Results:
    """The results a run publishes: ``metrics`` (or the current snapshot's metric tables) with fresh status.

    Works when the source is down and when no snapshot exists yet (then the metric tables
    are empty and ``meta`` has only the base keys). ``con`` reads the status, possibly from an
    open (uncommitted) transaction; ``metrics_note`` says why the metrics were not refreshed
    (``meta.metrics_status`` becomes ``failed``).
    """
    status = read_status_tables(con, settings.source)
    meta: dict[str, str | None] = {"generated_at": generated_now()}
    if metrics_note is not None:
        meta.update({"metrics_status": "failed", "metrics_note": redact(metrics_note)})
    if metrics is not None:
        return metrics.with_status(status, meta)
    if not settings.snapshot_path.exists():
        meta = base_meta(settings) | meta
        meta.update({"as_of": None, "as_of_date": None})
        if metrics_note is None:
            meta.update(
                {"metrics_status": "pending", "metrics_note": "the metrics have not been computed yet"}
            )
    return Results(status, meta, carry_metrics=True)
