"""The Dash request bodies the benchmark sends are the ones a browser sends."""

from __future__ import annotations

from pathlib import Path

from bench.dash_client import component_values, payload
from bench.report import Section, assemble, fmt, section_file

MULTI = {
    "output": "..a.children...b.figure..",
    "inputs": [{"id": "x", "property": "value"}],
    "state": [{"id": "y", "property": "data"}],
}


def test_multi_output_callback_body() -> None:
    body = payload(MULTI, {("x", "value"): "28d", ("y", "data"): [1]}, ["x.value"])
    assert body["outputs"] == [{"id": "a", "property": "children"}, {"id": "b", "property": "figure"}]
    assert body["inputs"] == [{"id": "x", "property": "value", "value": "28d"}]
    assert body["state"] == [{"id": "y", "property": "data", "value": [1]}]
    assert body["changedPropIds"] == ["x.value"]


def test_single_output_callback_body_is_an_object() -> None:
    body = payload({"output": "a.children", "inputs": []}, {}, [])
    assert body["outputs"] == {"id": "a", "property": "children"}


def test_component_values_walks_nested_children() -> None:
    layout = {
        "type": "Div",
        "namespace": "dash_html_components",
        "props": {
            "children": [
                {"type": "Dropdown", "namespace": "dcc", "props": {"id": "w", "value": "7d"}},
                {
                    "type": "Div",
                    "namespace": "h",
                    "props": {
                        "children": {"type": "Store", "namespace": "dcc", "props": {"id": "s", "data": 3}}
                    },
                },
            ]
        },
    }
    assert component_values(layout) == {
        ("w", "id"): "w",
        ("w", "value"): "7d",
        ("s", "id"): "s",
        ("s", "data"): 3,
    }


def test_report_renders_tables_and_escapes_pipes(tmp_path: Path) -> None:
    section = Section("x", "X")
    section.table("a", "b").add(1234567, "p|q")
    section_file(tmp_path, "x").write_text(section.markdown())
    section_file(tmp_path, "other").write_text("## Other\n")
    text = assemble(tmp_path, ["x"])
    assert "| 1,234,567 | p\\|q |" in text
    assert text.index("## X") < text.index("## Other")
    assert fmt(None) == "—" and fmt(0.01234) == "0.0123" and fmt(True) == "yes"
