"""Service-level target texts and file shapes (NYC dataset cs9t-e3x8)."""

from __future__ import annotations

import pytest

from resolve311.errors import ParseError
from resolve311.metrics.sla import parse_target_hours, read_rows


@pytest.mark.parametrize(
    ("text", "hours"),
    [("4 days", 96.0), ("8 hours", 8.0), ("1 Day", 24.0), ("2 weeks", 336.0), ("0.5 hours", 0.5),
     ("SLA Not Managed by 311", None), ("", None), (None, None)],
)  # fmt: skip
def test_parse_target_hours(text: str | None, hours: float | None) -> None:
    assert parse_target_hours(text) == hours


def test_csv_display_names_map_to_api_fields() -> None:
    rows = read_rows(b"Agency,Problem,Problem Details,SLA Days\nNYPD,Noise,Loud,3 hours\n")
    assert rows == [{"agency": "NYPD", "problem": "Noise", "problem_details": "Loud", "sla_days": "3 hours"}]


def test_json_rows_and_bad_input() -> None:
    assert read_rows(b'[{"problem": "Noise", "sla_days": "2 days"}]') == [
        {"problem": "Noise", "sla_days": "2 days"}
    ]
    with pytest.raises(ParseError):
        read_rows(b"[{broken")
