"""The benchmark report: sections of tables and notes, rendered as Markdown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | float | None


@dataclass
class Table:
    """One Markdown table: a header and rows of cells."""

    columns: Sequence[str]
    rows: list[Sequence[Cell]] = field(default_factory=list)
    caption: str = ""

    def add(self, *cells: Cell) -> None:
        self.rows.append(cells)


@dataclass
class Section:
    """One benchmark's results: tables plus a few sentences of interpretation."""

    name: str
    title: str
    setup: str = ""
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self, *columns: str, caption: str = "") -> Table:
        created = Table(columns, caption=caption)
        self.tables.append(created)
        return created


def fmt(value: Any) -> str:
    """A cell as text: thousands separators for integers, 3 significant-ish digits for floats."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table) -> str:
    lines = []
    if table.caption:
        lines += [f"*{table.caption}*", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join("---" for _ in table.columns) + "|")
    lines += ["| " + " | ".join(fmt(c) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def section_markdown(section: Section) -> str:
    parts = [f"## {section.title}", ""]
    if section.setup:
        parts += [section.setup, ""]
    for table in section.tables:
        parts += [table_markdown(table), ""]
    parts += [note for note in section.notes]
    parts.append(f"\n*(benchmark wall time: {section.seconds:.0f} s)*")
    return "\n".join(parts)


def document(header: str, sections: Sequence[Section]) -> str:
    """The whole BENCHMARKS.md text."""
    return "\n\n".join([header, *(section_markdown(s) for s in sections)]) + "\n"
