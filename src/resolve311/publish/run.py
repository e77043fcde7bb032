"""Publish the current serving snapshot to every configured sink, each outcome in the ledger."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import duckdb

from resolve311.publish import ledger
from resolve311.publish.base import Release, Sink
from resolve311.publish.sinks import configured_sinks
from resolve311.settings import Settings
from resolve311.warehouse.connection import open_warehouse

log = logging.getLogger(__name__)

_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


@dataclass(frozen=True)
class Outcome:
    """What happened to one sink: 'success', 'failed' or 'skipped' (already published)."""

    sink: str
    status: str
    detail: str | None = None
    error: str | None = None
    seconds: float = 0.0


def current_release(settings: Settings, run_id: str | None = None) -> Release | None:
    """The serving snapshot on disk as a release (None before the first snapshot)."""
    path = settings.snapshot_path
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    generation = f"{meta.get('generated_at') or ''}+{path.stat().st_mtime_ns}"  # unique per write
    return Release(settings, path, generation, meta.get("as_of"), run_id)


def publish_release(
    settings: Settings, *, run_id: str | None = None, only: str | None = None, force: bool = False
) -> list[Outcome]:
    """Copy the current snapshot to each sink not yet holding it; never raises for a sink's failure.

    The caller holds the update lock (the warehouse is opened for writing the ledger).
    """
    release = current_release(settings, run_id)
    if release is None:
        return []
    sinks = [s for s in configured_sinks(settings) if only is None or s.name == only]
    with open_warehouse(settings.warehouse_path) as con:
        ledger.interrupt_stale(con)
        outcomes = []
        for sink in sinks:
            if not force and ledger.published(con, sink.name, release.generation):
                outcomes.append(Outcome(sink.name, "skipped", "already published"))
                continue
            outcomes.append(_publish_one(con, sink, release))
    return outcomes


def _publish_one(con: duckdb.DuckDBPyConnection, sink: Sink, release: Release) -> Outcome:
    ledger.start(con, release.run_id, sink.name, release.generation, release.as_of)
    started = time.monotonic()
    try:
        detail = sink.publish(release, con)
    except Exception as exc:  # a sink's failure is its own outcome: the others still run
        error = one_line(exc)
        ledger.finish(con, sink.name, release.generation, error=error, detail=None)
        log.error("publish to %s failed: %s", sink.name, error)
        return Outcome(sink.name, "failed", error=error, seconds=time.monotonic() - started)
    ledger.finish(con, sink.name, release.generation, error=None, detail=detail)
    log.info("published %s to %s: %s", release.generation, sink.name, detail)
    return Outcome(sink.name, "success", detail, seconds=time.monotonic() - started)


def one_line(exc: BaseException) -> str:
    """The first line of an error, with any password in a URL replaced by ***."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return _PASSWORD.sub(r"\1***@", text)
