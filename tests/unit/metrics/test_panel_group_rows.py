"""panel._group_rows: each row's index in the panel's groups, -1 for an agency outside them or null."""

from __future__ import annotations

import pandas as pd

from resolve311.metrics.panel import _group_rows


def test_rows_are_found_by_value_absent_and_null_are_minus_one() -> None:
    agency = pd.Series(["NYPD", "*", "DOT", "HPD", None, "NYPD"], dtype="str")
    rows = _group_rows(agency, ["*", "DOT", "NYPD"])
    assert rows.tolist() == [2, 0, 1, -1, -1, 2]
    assert rows.tolist() == [
        {"*": 0, "DOT": 1, "NYPD": 2}.get(a, -1) if isinstance(a, str) else -1 for a in agency
    ]
