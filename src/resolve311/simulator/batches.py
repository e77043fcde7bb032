"""Generate a range of days to Arrow tables or Parquet files (the generator on its own).

Example::

    from resolve311.simulator.batches import write_parquet
    write_parquet(seed=1, scale=0.1, first=date(2024, 1, 1), last=date(2024, 12, 31), out_dir=Path("gen"))
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from resolve311.simulator.generator import Columns, generate_day
from resolve311.simulator.incidents import Incident, apply_incidents, extra_volume
from resolve311.simulator.tables import requests_table
from resolve311.simulator.vocabulary import build_vocabulary
from resolve311.simulator.volume import counts_and_key_starts, day_index

CHUNK_DAYS = 31
PARALLEL_ROWS = 1_000_000


def generate_tables(
    seed: int, scale: float, first: date, last: date, incidents: tuple[Incident, ...] = ()
) -> Iterator[pa.Table]:
    """Requests created first..last inclusive, one table per chunk of up to CHUNK_DAYS days."""
    counts, key_starts = counts_and_key_starts(seed, scale, first, last)
    chunk_start = 0
    while chunk_start < len(counts):
        stop = min(chunk_start + CHUNK_DAYS, len(counts))
        days = [
            _day(seed, first + timedelta(days=i), int(counts[i]), int(key_starts[i]), incidents)
            for i in range(chunk_start, stop)
        ]
        merged = {name: np.concatenate([d[name] for d in days]) for name in days[0]}
        yield requests_table(merged)
        chunk_start = stop


def _day(seed: int, day: date, n: int, key_start: int, incidents: tuple[Incident, ...]) -> Columns:
    """One day's rows, with the incidents applied (and a volume incident's extra rows)."""
    cols = generate_day(seed, day, n, key_start)
    if not incidents:
        return cols
    agencies = build_vocabulary().agencies
    extra = extra_volume(generate_day, day, n, day_index(day), incidents, agencies, seed)
    if extra is not None:
        cols = {name: np.concatenate([cols[name], extra[name]]) for name in cols}
    return apply_incidents(cols, day, incidents, agencies, seed)


def _chunks(first: date, last: date) -> list[tuple[date, date]]:
    spans, start = [], first
    while start <= last:
        stop = min(start + timedelta(days=CHUNK_DAYS - 1), last)
        spans.append((start, stop))
        start = stop + timedelta(days=1)
    return spans


def _write_span(
    seed: int, scale: float, first: date, last: date, out_dir: Path, incidents: tuple[Incident, ...] = ()
) -> Path:
    """Generate one span into ``out_dir/days-<first>-<last>.parquet`` (write to temp, then rename)."""
    table = pa.concat_tables(generate_tables(seed, scale, first, last, incidents))
    path = out_dir / f"days-{first.isoformat()}-{last.isoformat()}.parquet"
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=256_000)
    tmp.replace(path)
    return path


def write_parquet(
    seed: int,
    scale: float,
    first: date,
    last: date,
    out_dir: Path,
    workers: int | None = None,
    incidents: tuple[Incident, ...] = (),
) -> list[Path]:
    """Write first..last as one Parquet file per CHUNK_DAYS span; returns their paths.

    ``workers`` processes generate spans in parallel (default: one per core, up
    to 2, when there are over PARALLEL_ROWS rows; else in this process).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    spans = _chunks(first, last)
    if workers is None:
        rows = int(counts_and_key_starts(seed, scale, first, last)[0].sum()) if spans else 0
        workers = min(2, os.cpu_count() or 1) if rows > PARALLEL_ROWS else 1
    if workers <= 1 or len(spans) <= 1:
        return [_write_span(seed, scale, a, b, out_dir, incidents) for a, b in spans]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_write_span, seed, scale, a, b, out_dir, incidents) for a, b in spans]
        return [f.result() for f in futures]
