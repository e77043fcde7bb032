"""Generate a range of days to Arrow tables or Parquet files (the generator on its own).

Example::

    from resolve311.simulator.batches import write_parquet
    write_parquet(seed=1, scale=0.1, first=date(2024, 1, 1), last=date(2024, 12, 31), out_dir=Path("gen"))
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from resolve311.simulator.generator import generate_day
from resolve311.simulator.tables import requests_table
from resolve311.simulator.volume import counts_and_key_starts

CHUNK_DAYS = 31


def generate_tables(seed: int, scale: float, first: date, last: date) -> Iterator[pa.Table]:
    """Requests created first..last inclusive, one table per chunk of up to CHUNK_DAYS days."""
    counts, key_starts = counts_and_key_starts(seed, scale, first, last)
    chunk_start = 0
    while chunk_start < len(counts):
        stop = min(chunk_start + CHUNK_DAYS, len(counts))
        days = [
            generate_day(seed, first + timedelta(days=i), int(counts[i]), int(key_starts[i]))
            for i in range(chunk_start, stop)
        ]
        merged = {name: np.concatenate([d[name] for d in days]) for name in days[0]}
        yield requests_table(merged)
        chunk_start = stop


def write_parquet(seed: int, scale: float, first: date, last: date, out_dir: Path) -> list[Path]:
    """Write first..last to ``out_dir/days-<first>-<last>-<n>.parquet`` files; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, table in enumerate(generate_tables(seed, scale, first, last)):
        path = out_dir / f"days-{first.isoformat()}-{last.isoformat()}-{number:04d}.parquet"
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp, compression="zstd", row_group_size=256_000)
        tmp.replace(path)
        paths.append(path)
    return paths
