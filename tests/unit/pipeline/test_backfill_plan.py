"""Backfill chunking: half-open created-date chunks, open-ended when no end is given."""

import itertools
from datetime import date

from resolve311.pipeline import backfill_chunks


def test_chunks_cover_the_range_without_gaps_or_overlap() -> None:
    chunks = backfill_chunks(date(2024, 1, 1), date(2024, 1, 20), date(2026, 1, 1), 7)
    assert chunks == [
        (date(2024, 1, 1), date(2024, 1, 8)),
        (date(2024, 1, 8), date(2024, 1, 15)),
        (date(2024, 1, 15), date(2024, 1, 20)),
    ]


def test_without_an_end_the_last_chunk_is_open() -> None:
    chunks = backfill_chunks(date(2026, 1, 1), None, date(2026, 1, 10), 7)
    assert chunks[0] == (date(2026, 1, 1), date(2026, 1, 8))
    assert chunks[-1] == (date(2026, 1, 12), None)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
