"""Page layouts render for any URL query, with and without a snapshot (never an error page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import plotly.utils
import pytest

from resolve311.settings import load_settings
from resolve311.web.app import create_app
from resolve311.web.pages import agency, health, overview


def render(home: Path, module: Any, query: dict[str, Any]) -> str:
    app = create_app(load_settings(home=home, recent="7d"))
    with app.server.test_request_context():
        layout = module.layout(**query)
    return json.dumps(layout.to_plotly_json(), cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.mark.parametrize(
    "module,query,expected",
    [
        (overview, {}, "Who is slipping?"),
        (overview, {"window": "zz"}, "Ignored a bad link parameter (window"),
        (agency, {}, "HPD — Department of Housing"),  # the most moved agency opens
        (agency, {"agency": "NOPE"}, "Unknown agency 'NOPE'"),
        (
            agency,
            {"agency": "HPD", "complaint_type": "PLUMBING", "borough": "BRONX"},
            "showing the complaint type",
        ),
        (agency, {"agency": ["DOT", "HPD"], "period": "week"}, "Created and closed per week"),
        (health, {}, "closed_before_created"),
    ],
)
def test_pages_render_for_any_query(
    snapshot_home: Path, module: Any, query: dict[str, Any], expected: str
) -> None:
    assert expected in render(snapshot_home, module, query)


@pytest.mark.parametrize("module", [overview, agency, health])
def test_pages_without_a_snapshot_say_no_data_yet(tmp_path: Path, module: Any) -> None:
    text = render(tmp_path / "empty", module, {"agency": "HPD"})
    assert "No data yet" in text and "Traceback" not in text


def test_values_name_their_own_n_on_hover_and_small_ones_are_greyed(snapshot_home: Path) -> None:
    page = render(snapshot_home, agency, {"agency": "HPD"})
    assert "n = " in page and "requests validly closed in the window" in page
    overview_page = render(snapshot_home, overview, {})
    assert "n = " in overview_page
    assert "cell-small" in overview_page and "small sample: not flagged, not ranked" in overview_page
