"""`resolve311 status` in words: what has never happened says so."""

from __future__ import annotations

import pytest

from resolve311.cli.data_cmds import _print_status


def test_a_dataset_never_updated_says_never(capsys: pytest.CaptureFixture[str]) -> None:
    _print_status(
        {
            "source": "nyc",
            "data_as_of": "2024-06-30T05:58:41.000",
            "datasets": [
                {"dataset": "erm2-nwe9", "watermark": "2024-06-30T10:29:58.235", "last_success_at": None,
                 "unavailable_since": None},
                {"dataset": "76ig-c548", "watermark": None, "last_success_at": "2026-12-02T04:18:48.804",
                 "unavailable_since": "2026-12-02T05:00:00"},
            ],
            "counts": {"requests": 3},
            "runs": [],
        }
    )  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "  erm2-nwe9: watermark 2024-06-30T10:29:58.235, last successful update never"
    assert lines[2] == (
        "  76ig-c548: watermark none, last successful update 2026-12-02T04:18:48.804,"
        " unavailable since 2026-12-02T05:00:00"
    )
