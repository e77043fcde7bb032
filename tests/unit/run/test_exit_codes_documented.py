"""docs/operations.md lists every exit code (cli/exit_codes.py is the source of truth) and no other."""

from __future__ import annotations

import re
from pathlib import Path

from resolve311.cli import exit_codes

OPERATIONS = Path(__file__).resolve().parents[3] / "docs" / "operations.md"


def documented_codes() -> dict[int, str]:
    text = OPERATIONS.read_text()
    section = text.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| ([^|]+) \|$", section, flags=re.MULTILINE)
    return {int(code): action.strip() for code, _meaning, action in rows}


def test_every_exit_code_is_documented_with_what_to_do() -> None:
    documented = documented_codes()
    defined = {v for k, v in vars(exit_codes).items() if k.startswith("EXIT_")}
    assert defined == set(exit_codes.ALL_EXIT_CODES)
    assert set(documented) == defined
    assert all(documented.values())  # each says what to do
