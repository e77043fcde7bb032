"""Rebuild ``data/places.csv`` (zip codes, boroughs, boards, coordinates, streets) from real files.

Run once by hand: ``python -m resolve311.simulator.calibrate_places tests/fixtures/real``.
The generator only reads the CSV this writes; nothing here runs at import time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from resolve311.schema import field_from_display_name

PLACES_CSV = Path(__file__).parent / "data" / "places.csv"
KEEP = [
    "incident_zip",
    "borough",
    "city",
    "community_board",
    "council_district",
    "police_precinct",
    "street_name",
    "latitude",
    "longitude",
    "x_coordinate_state_plane",
    "y_coordinate_state_plane",
]


def read_real_rows(folder: Path) -> pd.DataFrame:
    """All rows of the real CSV and JSON files, columns mapped to API field names."""
    frames = []
    for path in sorted(folder.iterdir()):
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str)
        elif path.suffix == ".json" and "metadata" not in path.name:
            frame = pd.DataFrame(json.loads(path.read_text(encoding="utf-8")))
        else:
            continue
        frame.columns = [field_from_display_name(str(c)) for c in frame.columns]
        frames.append(frame.reindex(columns=KEEP))
    return pd.concat(frames, ignore_index=True)


def _mode(values: pd.Series) -> str:
    counts = values.dropna().value_counts()
    return str(counts.index[0]) if len(counts) else ""


def build_places(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (zip, borough) with counts, coordinate centre/spread and common streets."""
    rows = rows[rows["incident_zip"].str.fullmatch(r"1\d{4}", na=False)]
    rows = rows[rows["borough"].isin(["MANHATTAN", "BROOKLYN", "QUEENS", "BRONX", "STATEN ISLAND"])]
    for col in ("latitude", "longitude"):
        rows[col] = pd.to_numeric(rows[col], errors="coerce")
    out = []
    for (zip_code, borough), group in rows.groupby(["incident_zip", "borough"]):
        board_precinct = rows[rows["community_board"] == _mode(group["community_board"])]
        streets = group["street_name"].dropna().value_counts().index[:12]
        out.append(
            {
                "zip": zip_code,
                "borough": borough,
                "city": _mode(group["city"]) or borough,
                "community_board": _mode(group["community_board"]),
                "council_district": _mode(group["council_district"])
                or _mode(board_precinct["council_district"]),
                "police_precinct": _mode(group["police_precinct"])
                or _mode(board_precinct["police_precinct"]),
                "lat": round(float(group["latitude"].mean()), 6),
                "lon": round(float(group["longitude"].mean()), 6),
                "lat_sd": round(float(np.nan_to_num(group["latitude"].std(), nan=0.004)), 6),
                "lon_sd": round(float(np.nan_to_num(group["longitude"].std(), nan=0.004)), 6),
                "weight": len(group),
                "streets": "|".join(streets),
            }
        )
    places = pd.DataFrame(out).dropna(subset=["lat", "lon"])
    return places[places["streets"] != ""]


def state_plane_fit(rows: pd.DataFrame) -> list[float]:
    """Least-squares x,y = a + b*lon + c*lat, as [ax, bx, cx, ay, by, cy]."""
    data = rows[["longitude", "latitude", "x_coordinate_state_plane", "y_coordinate_state_plane"]]
    data = data.apply(pd.to_numeric, errors="coerce").dropna()
    design = np.column_stack([np.ones(len(data)), data["longitude"], data["latitude"]])
    fit_x = np.linalg.lstsq(design, data["x_coordinate_state_plane"].to_numpy(), rcond=None)[0]
    fit_y = np.linalg.lstsq(design, data["y_coordinate_state_plane"].to_numpy(), rcond=None)[0]
    return [float(v) for v in (*fit_x, *fit_y)]


def main(argv: list[str]) -> None:
    rows = read_real_rows(Path(argv[0]))
    build_places(rows).to_csv(PLACES_CSV, index=False)
    print("state plane fit:", state_plane_fit(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
