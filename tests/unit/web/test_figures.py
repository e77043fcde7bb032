"""Pure figure builders: shapes, colours, escaping, empty states."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from resolve311.web import figures, theme


def test_when_heatmap_is_a_7_by_24_grid_with_the_recent_scale() -> None:
    frame = pd.DataFrame({"weekday": [0, 6], "hour": [0, 23], "value": [5.0, 7.0]})
    fig = figures.when_heatmap(frame, "recent", "When")
    z = np.array(fig["data"][0]["z"], dtype=float)
    assert z.shape == (7, 24) and z[0, 0] == 5.0 and z[6, 23] == 7.0 and np.isnan(z[3, 3])
    assert fig["data"][0]["colorscale"][-1][1] == theme.RECENT_SCALE[-1][1]


def test_difference_maps_are_diverging_and_centred_on_zero() -> None:
    frame = pd.DataFrame({"cell_lat": [40.71, 40.73], "cell_lon": [-74.01, -73.97], "value": [-2.0, 5.0]})
    fig = figures.where_heatmap(frame, "difference", "Where", 0.02)
    trace = fig["data"][0]
    assert trace["zmid"] == 0 and trace["zmin"] == -5.0 and trace["zmax"] == 5.0
    assert np.array(trace["z"]).shape == (2, 3)  # the grid between the cells is filled with gaps
    assert fig["layout"]["yaxis"]["scaleanchor"] == "x"


def test_series_shades_the_recent_window_and_draws_the_band() -> None:
    days = pd.date_range("2026-11-01", periods=27, freq="D")
    frame = pd.DataFrame(
        {
            "date": days.strftime("%Y-%m-%d"),
            "created": 10.0,
            "closed": 9.0,
            "baseline_low": 8.0,
            "baseline_mid": 10.0,
            "baseline_high": 12.0,
        }
    )
    fig = figures.series_figure(frame, "History", figures.recent_range("2026-11-27", "7d"))
    assert [t["name"] for t in fig["data"]][-2:] == ["created", "closed"]
    assert any(t.get("fill") == "tonexty" for t in fig["data"])
    assert len(fig["layout"]["shapes"]) == 1
    assert figures.recent_range("2026-11-27", "7d") == (date(2026, 11, 21), date(2026, 11, 27))


def test_timeliness_and_km_use_recent_blue_and_historical_green() -> None:
    metrics = {m: {"recent": 0.5, "historical": 0.6} for m in ("closed_within_1d", "closed_within_7d")}
    bars = figures.timeliness_figure(metrics, "Timeliness")
    assert [t["marker"]["color"] for t in bars["data"]] == [theme.RECENT, theme.HISTORICAL]
    assert bars["data"][0]["y"][0] == 50.0 and bars["data"][0]["y"][1] is None
    km = pd.DataFrame(
        {
            "cohort": ["recent", "historical"],
            "t_hours": [24.0, 24.0],
            "survival": [0.5, 0.4],
            "at_risk": [5, 4],
        }
    )
    fig = figures.km_figure(km, "KM")
    assert [t["line"]["color"] for t in fig["data"]] == [theme.RECENT, theme.HISTORICAL]
    assert fig["data"][0]["line"]["shape"] == "hv"


def test_empty_inputs_give_a_message_not_an_error() -> None:
    empty = pd.DataFrame(columns=["weekday", "hour", "value"])
    fig = figures.when_heatmap(empty, "recent", "When")
    assert fig["layout"]["annotations"][0]["text"] == "No data for this view"
    assert figures.empty_figure("<b>x</b>")["layout"]["annotations"][0]["text"] == "&lt;b&gt;x&lt;/b&gt;"


def test_figures_are_plain_json_data_with_gaps_as_null() -> None:
    frame = pd.DataFrame(
        {
            "date": ["2026-11-26", "2026-11-27"],
            "created": [10.0, np.nan],
            "closed": [9.0, 8.0],
            "baseline_low": [None, None],
            "baseline_mid": [None, None],
            "baseline_high": [None, None],
        }
    )
    fig = figures.series_figure(frame, "History", None)
    assert json.loads(json.dumps(fig, allow_nan=False)) == fig  # no numpy, no NaN: strict JSON as it is
    assert fig["data"][0]["y"] == [10.0, None]
