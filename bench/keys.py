"""Correctness of a pull against the oracle: received, distinct, duplicates, missing, extra."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any


def compare_keys(received: Iterable[str], oracle_path: str) -> dict[str, Any]:
    """Counts describing ``received`` keys against the oracle file (one key a line)."""
    oracle = set(Path(oracle_path).read_text().split())
    got = list(received)
    distinct = set(got)
    return {
        "received": len(got),
        "distinct": len(distinct),
        "duplicates": len(got) - len(distinct),
        "missing": len(oracle - distinct),
        "extra": len(distinct - oracle),
        "oracle": len(oracle),
    }
