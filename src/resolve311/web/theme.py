"""Colours and shared figure styling. Blue = recent, green = historical, purple = difference."""

from __future__ import annotations

from typing import Final

RECENT: Final = "#1f5fbf"
HISTORICAL: Final = "#1a7f37"
DIFFERENCE: Final = "#6a3d9a"
INK: Final = "#1f2328"
MUTED: Final = "#57606a"
WARNING_BG: Final = "#fff4e5"
WARNING_INK: Final = "#8a4b00"
FONT: Final = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

RECENT_SCALE: Final = [[0.0, "#f3f7fd"], [0.5, "#6d9be0"], [1.0, "#0b3a8a"]]
HISTORICAL_SCALE: Final = [[0.0, "#f2faf4"], [0.5, "#5fb878"], [1.0, "#0b5a24"]]
#: Diverging scale for differences: orange below, neutral at zero, purple above.
DIFFERENCE_SCALE: Final = [
    [0.0, "#b35806"],
    [0.25, "#f1a340"],
    [0.5, "#f7f7f7"],
    [0.75, "#998ec3"],
    [1.0, "#542788"],
]

VARIANT_COLOUR: Final = {"recent": RECENT, "historical": HISTORICAL, "difference": DIFFERENCE}
VARIANT_SCALE: Final = {
    "recent": RECENT_SCALE,
    "historical": HISTORICAL_SCALE,
    "difference": DIFFERENCE_SCALE,
}


AXIS: Final = {"gridcolor": "#e8ebef", "zeroline": False, "linecolor": "#d0d7de", "automargin": True}


def base_layout(title: str, height: int = 320) -> dict[str, object]:
    """Layout keywords every figure shares."""
    return {
        "title": {"text": title, "x": 0.01, "font": {"size": 15, "color": INK}},
        "template": {"layout": {}},  # no named template: building one costs ~40 ms per figure
        "xaxis": dict(AXIS),
        "yaxis": dict(AXIS),
        "hoverlabel": {"font": {"family": FONT}},
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 44, "b": 44},
        "font": {"family": FONT, "color": INK, "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
