"""Importing files through the landing log: the bulk path (CSV) and the batch path (JSON, reference).

* **Bulk** (every CSV by default): the file is copied once into the landing log
  (as delivered, hashed on the way), loaded from that copy by DuckDB's own
  ``read_csv`` with the normalisation in SQL (:mod:`resolve311.warehouse.bulk`),
  and becomes a batch only when the load succeeded: the batch, its rows and the
  checkpoint commit together, and a file that cannot be read leaves nothing behind.
* **Batches** (JSON, or CSV with ``bulk=False``): the file is landed in parts of
  ``rows_per_part`` records and each part is parsed by pyarrow and normalised
  in a private DuckDB (today's path, kept as the reference the bulk path is
  tested against).

Either way a file is refused before anything is landed when it is empty or has
no ``unique_key`` column (a missing header row, a file of another kind).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from resolve311.errors import ParseError
from resolve311.landing.store import BatchMeta
from resolve311.pipeline.consumer import save_checkpoint
from resolve311.warehouse.loader import LoadResult
from resolve311.warehouse.transaction import transaction

if TYPE_CHECKING:
    from resolve311.landing.store import StagedFile
    from resolve311.pipeline.run import RunContext
    from resolve311.warehouse.formats import Format

FileProgress = Callable[[float, str], None]  # (percent of this file, label)


def import_file(
    run: RunContext, path: Path, *, bulk: bool, rows_per_part: int, progress: FileProgress | None = None
) -> dict[str, Any]:
    """Land and load one file; its entry for ``RunReport.files``. ParseError names the file."""
    try:
        fmt = file_format(path)
        if fmt == "csv" and bulk:
            return _import_bulk(run, path, progress)
        return _import_parts(run, path, fmt, rows_per_part, progress)
    except ParseError as exc:
        raise ParseError(f"{path.name}: {exc}") from None


def file_format(path: Path) -> Format:
    """JSON or CSV, from the name, else from the first bytes (gzip allowed)."""
    from resolve311.warehouse.csv_split import open_maybe_gzip
    from resolve311.warehouse.formats import detect_format

    try:
        with open_maybe_gzip(path) as stream:
            head = stream.read(65536)
    except (OSError, EOFError) as exc:
        raise ParseError(f"unreadable: {exc}") from None
    if not head.strip():
        raise ParseError("the file is empty")
    return detect_format(path.name, head)


def _import_bulk(run: RunContext, path: Path, progress: FileProgress | None) -> dict[str, Any]:
    from resolve311.warehouse.bulk import bulk_memory, key_column_check, read_header
    from resolve311.warehouse.formats import csv_fields

    header = read_header(path)  # refuse a bad file before copying it
    key_column_check(header, [run.source.field_map.get(f, f) for f in csv_fields(header)])
    meta = BatchMeta(
        source=run.source.name, dataset=None, producer="import", kind="import", format="csv",
        rows=0, run_id=run.report.run_id, name=path.name,
    )  # fmt: skip
    staged = run.store.stage_file(path, meta)
    try:
        with bulk_memory(run.con):  # held through the commit, which writes the rows
            result, rows = _load_landed_file(run, path, staged, meta, progress)
    finally:
        run.store.discard(staged)
    run.record(result)
    return _entry(path, staged.seq, rows, [result])


def _load_landed_file(
    run: RunContext, path: Path, staged: StagedFile, meta: BatchMeta, progress: FileProgress | None
) -> tuple[LoadResult, int]:
    """Load the landed copy, commit it as a batch with the checkpoint; roll back on any failure."""
    from resolve311.warehouse.bulk import bulk_load_csv

    with transaction(run.con):
        result = bulk_load_csv(
            run.con, staged.local, batch_seq=staged.seq, source=run.source.name, dataset=None,
            tz=run.source.timezone, field_map=run.source.field_map, rules=run.source.rules,
            progress=None if progress is None else (lambda pct: progress(pct, path.name)),
        )  # fmt: skip
        rows = _rows_in(result)
        if rows == 0:
            raise ParseError("the file has no rows")
        run.store.commit_file(staged, replace(meta, rows=rows))
        save_checkpoint(run.con, staged.seq)
    return result, rows


def _import_parts(
    run: RunContext, path: Path, fmt: Format, rows_per_part: int, progress: FileProgress | None
) -> dict[str, Any]:
    from resolve311.warehouse.formats import read_records

    results: list[LoadResult] = []
    rows, first_seq = 0, None
    for data, part_fmt in _file_parts(path, fmt, rows_per_part):
        table = read_records(data, part_fmt)
        if not results:
            _check_columns(run, table.column_names, table.num_rows)
        meta = BatchMeta(
            source=run.source.name, dataset=None, producer="import", kind="import", format=part_fmt,
            rows=table.num_rows, run_id=run.report.run_id, name=path.name,
        )  # fmt: skip
        manifest, result = run.land_and_load(data, meta)
        results.append(result)
        rows += table.num_rows
        first_seq = manifest.seq if first_seq is None else first_seq
        if progress is not None:
            progress(0.0, f"{path.name}: {rows:,} rows")
    if not results:
        raise ParseError("the file has no rows")
    return _entry(path, first_seq, rows, results)


def _check_columns(run: RunContext, columns: list[str], num_rows: int) -> None:
    if num_rows == 0:
        raise ParseError("the file has no rows")
    if not any(run.source.field_map.get(c, c) == "unique_key" for c in columns):
        raise ParseError(
            "no unique_key field in the file; is the header row missing, "
            "or is this not a 311 file of this source?"
        )


def _file_parts(path: Path, fmt: Format, rows_per_part: int) -> Iterator[tuple[bytes, Format]]:
    """The batches to land for one file: CSV in bounded parts, JSON whole."""
    from resolve311.warehouse.csv_split import iter_csv_parts, open_maybe_gzip
    from resolve311.warehouse.formats import decompress

    if fmt == "json":
        yield decompress(path.read_bytes()), fmt
        return
    try:
        with open_maybe_gzip(path) as stream:
            yield from ((part, fmt) for part in iter_csv_parts(stream, rows_per_part))
    except (OSError, EOFError) as exc:
        raise ParseError(f"unreadable: {exc}") from None


def _rows_in(result: LoadResult) -> int:
    return (
        result.rows_new
        + result.rows_changed
        + result.rows_unchanged
        + result.rows_duplicate
        + result.rows_quarantined
    )


def _entry(path: Path, first_seq: int | None, rows: int, results: list[LoadResult]) -> dict[str, Any]:
    return {
        "file": str(path),
        "batch_seq": first_seq,
        "rows": rows,
        "loaded": sum(r.rows_new + r.rows_changed + r.rows_unchanged for r in results),
        "duplicates": sum(r.rows_duplicate for r in results),
        "quarantined": sum(r.rows_quarantined for r in results),
        "batches": len(results),
    }
