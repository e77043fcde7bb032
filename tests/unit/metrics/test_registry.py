"""The metric registry is the single declaration: docs, scoring and the web agree with it."""

from __future__ import annotations

import re
from pathlib import Path

from resolve311.metrics import registry, scoring
from resolve311.web import scorecard

DOC = Path(__file__).resolve().parents[3] / "docs" / "metrics.md"


def _anchor(heading: str) -> str:
    """GitHub's heading anchor: lower-case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _doc_table() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Metric registry", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def test_docs_table_lists_exactly_the_registry_in_order() -> None:
    documented = [
        [name.strip("`"), label, unit, population, direction, re.sub(r"^\[#([^\]]+)\].*$", r"\1", doc)]
        for name, label, unit, population, direction, doc in _doc_table()
    ]
    declared = [[m.name, m.label, m.unit, m.population, m.direction, m.anchor] for m in registry.REGISTRY]
    assert documented == declared


def test_every_anchor_is_a_heading_of_metrics_md() -> None:
    headings = {
        _anchor(line.lstrip("#"))
        for line in DOC.read_text(encoding="utf-8").splitlines()
        if line.startswith("#")
    }
    missing = {m.anchor for m in registry.REGISTRY} - headings
    assert not missing, f"anchors without a heading: {missing}"


def test_scoring_and_web_use_the_registry() -> None:
    assert scoring.METRICS == registry.NAMES
    assert set(scorecard.METRICS) == set(registry.NAMES)
    for name, _ in scorecard.HEADLINE:
        assert name in registry.BY_NAME
    assert all(m.population in registry.POPULATION_TEXT for m in registry.REGISTRY)
