"""The refresh's first phase runs while pandas and Ibis are imported in a thread (metrics/refresh.py)."""

from __future__ import annotations

import ast
import subprocess
import sys

from resolve311.metrics import refresh

HEAVY = ("pandas", "ibis", "sqlglot")


def imported_with(*modules: str) -> list[str]:
    """The heavy libraries a fresh interpreter holds after importing ``modules``."""
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return list(ast.literal_eval(done.stdout))


def test_the_refresh_and_publishing_entries_import_neither_pandas_nor_ibis() -> None:
    # what `resolve311 metrics` and the pipeline's metrics stage import before the refresh starts
    assert imported_with("resolve311.metrics.refresh", "resolve311.publish", "resolve311.cli") == []


def test_the_deferred_modules_bring_them_in() -> None:
    # the thread imports these: were they light, a refresh would import the rest on its main thread
    assert imported_with(*refresh.DEFERRED_MODULES) == sorted(HEAVY)
