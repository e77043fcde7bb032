"""Split a large CSV (a multi-GB portal export) into self-contained parts with bounded memory.

Each part is the original header line followed by whole records, byte for byte
as in the file, so every part can be landed as its own batch and read with
:func:`resolve311.warehouse.formats.read_records`. Record boundaries are found
with quote parity (a newline ends a record only outside a quoted cell; an
escaped quote ``""`` toggles twice), so multi-line cells such as SODA's
3-line ``location`` never get cut.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from resolve311.errors import ParseError
from resolve311.warehouse.formats import GZIP_MAGIC, UTF8_BOM

DEFAULT_ROWS_PER_PART = 50_000
_READ_SIZE = 16 << 20


def open_maybe_gzip(path: Path) -> BinaryIO:
    """Open ``path`` for reading, transparently gunzipping it when it starts with the gzip magic."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == GZIP_MAGIC:
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def record_ends(block: bytes, quotes_before: int) -> tuple[np.ndarray, int]:
    """Offsets just past each record-ending newline in ``block``, and the quote count after it.

    ``quotes_before`` is the number of quote characters seen before ``block``.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    quote_positions = np.flatnonzero(data == ord('"'))
    newlines = np.flatnonzero(data == ord("\n"))
    quotes_at_newline = np.searchsorted(quote_positions, newlines) + quotes_before
    ends = newlines[(quotes_at_newline % 2) == 0] + 1
    return ends, quotes_before + len(quote_positions)


def iter_csv_parts(stream: BinaryIO, rows_per_part: int = DEFAULT_ROWS_PER_PART) -> Iterator[bytes]:
    """Yield parts of at most ``rows_per_part`` records, each starting with the header line."""
    if rows_per_part < 1:
        raise ValueError("rows_per_part must be at least 1")
    header, rest = _read_header(stream)
    if header is None:
        return
    carry, part, count, quotes = b"", bytearray(), 0, 0
    for block in _blocks(rest, stream):
        buffer = carry + block
        ends, quotes = record_ends(block, quotes)
        ends += len(carry)
        start, used = 0, 0
        while len(ends) - used >= rows_per_part - count:
            used += rows_per_part - count
            cut = int(ends[used - 1])
            part += buffer[start:cut]
            yield header + bytes(part)
            part, count, start = bytearray(), 0, cut
        if used < len(ends):
            cut = int(ends[-1])
            part += buffer[start:cut]
            count, start = count + len(ends) - used, cut
        carry = buffer[start:]
    if carry.strip():
        part += carry if carry.endswith(b"\n") else carry + b"\n"
        count += 1
    if count:
        yield header + bytes(part)


def _blocks(first: bytes, stream: BinaryIO) -> Iterator[bytes]:
    if first:
        yield first
    while block := stream.read(_READ_SIZE):
        yield block


def _read_header(stream: BinaryIO) -> tuple[bytes | None, bytes]:
    """The header line (with its newline) and the bytes already read past it."""
    buffer = b""
    while b"\n" not in buffer:
        chunk = stream.read(1 << 16)
        if not chunk:
            break
        buffer += chunk
    buffer = buffer.removeprefix(UTF8_BOM)
    if not buffer.strip():
        return None, b""
    line, _, rest = buffer.partition(b"\n")
    if line.count(b'"') % 2:
        raise ParseError("CSV header has an unbalanced quote")
    return line + b"\n", rest
