"""Rebuild the simulated cities' calibration tables (``data/cities/*.csv``) from real API CSV files.

Run once by hand::

    python -m resolve311.simulator.calibrate_cities tests/fixtures/real

It reads every ``sf_soda-csv_*.csv`` (SF 311 Cases) and ``chicago_soda-csv_*.csv``
(Chicago 311 Service Requests) file in the folder, a city's files together, and writes, per city, the areas (places with
their centroid, spread, streets and area columns), the channels and, for SF,
the complaint types with their agencies. ``chicago_types.csv`` is kept by hand
(a 24-row sample is no type mix; see docs/simulator.md). The simulator only
reads the CSVs this writes; nothing here runs at import time.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from resolve311.simulator.cities import CITIES_DIR

_LAT_LON_SPREAD = "greatest(coalesce(stddev_samp(TRY_CAST({c} AS DOUBLE)), 0), 0.002)"


def _write(con: duckdb.DuckDBPyConnection, sql: str, name: str) -> None:
    out: Path = con.execute("SELECT getvariable('out_dir')").fetchone()[0]  # type: ignore[index]
    path = Path(out) / name
    con.execute(f"COPY ({sql}) TO '{path}' (HEADER, DELIMITER ',')")
    print(f"wrote {path}")


def _view(con: duckdb.DuckDBPyConnection, name: str, paths: list[Path]) -> None:
    files = ", ".join(f"'{p}'" for p in paths)
    con.execute(
        f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_csv([{files}], all_varchar=true, union_by_name=true)"
    )


def _sf(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    _view(con, "sf", paths)
    regions = [
        c for (c,) in con.execute("SELECT column_name FROM (DESCRIBE sf)").fetchall() if c.startswith(":@")
    ]
    _write(
        con,
        "SELECT count(*) AS weight, service_name, service_subtype, agency_responsible AS agency, "
        "mode(service_details) AS details, mode(status_notes) AS notes FROM sf "
        "GROUP BY ALL ORDER BY weight DESC, 2, 3, 4",
        "sf_types.csv",
    )
    region_modes = ", ".join(f'mode("{c}") AS "cr{c[len(":@computed_region") :]}"' for c in regions)
    located = "TRY_CAST(lat AS DOUBLE) <> 0 AND supervisor_district IS NOT NULL"
    _write(
        con,
        "SELECT count(*) AS weight, supervisor_district, analysis_neighborhood, police_district, "
        "mode(neighborhoods_sffind_boundaries) AS sffind, "
        "round(avg(TRY_CAST(lat AS DOUBLE)), 6) AS lat, round(avg(TRY_CAST(long AS DOUBLE)), 6) AS lon, "
        f"round({_LAT_LON_SPREAD.format(c='lat')}, 5) AS lat_sd, "
        f"round({_LAT_LON_SPREAD.format(c='long')}, 5) AS lon_sd, "
        "mode(regexp_extract(address, '(\\d{5})$', 1)) AS zip, "
        "string_agg(DISTINCT street, '|' ORDER BY street) AS streets, "
        f"{region_modes} FROM sf WHERE {located} GROUP BY ALL ORDER BY weight DESC, 2, 3, 4",
        "sf_places.csv",
    )
    _write(
        con,
        "SELECT count(*) AS weight, source FROM sf GROUP BY ALL ORDER BY weight DESC, 2",
        "sf_channels.csv",
    )


def _chicago(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> None:
    _view(con, "chi", paths)
    _write(
        con,
        "SELECT count(*) AS weight, community_area, ward, police_district, police_sector, police_beat, "
        "precinct, electrical_district, electricity_grid, mode(zip_code) AS zip, "
        "round(avg(TRY_CAST(latitude AS DOUBLE)), 6) AS lat, round(avg(TRY_CAST(longitude AS DOUBLE)), 6) AS lon, "
        "0.004 AS lat_sd, 0.005 AS lon_sd, "
        "string_agg(DISTINCT concat_ws(' ', street_direction, street_name, street_type), '|') AS streets "
        "FROM chi WHERE community_area IS NOT NULL AND latitude IS NOT NULL GROUP BY ALL ORDER BY ALL",
        "chicago_places.csv",
    )
    _write(
        con,
        "SELECT count(*) AS weight, origin FROM chi GROUP BY ALL ORDER BY weight DESC, 2",
        "chicago_channels.csv",
    )


def main(folder: Path, out_dir: Path = CITIES_DIR) -> None:
    """Write the calibration CSVs of every city with files in ``folder`` into ``out_dir``."""
    con = duckdb.connect()
    con.execute("SET threads = 1")  # mode() breaks ties by first seen: one thread, one answer
    con.execute("SET VARIABLE out_dir = ?", [str(out_dir)])
    for pattern, calibrate in (("sf_soda-csv_*.csv*", _sf), ("chicago_soda-csv_*.csv*", _chicago)):
        paths = sorted(folder.glob(pattern))
        if paths:  # every file of the city together: a bigger extract refines its tables
            calibrate(con, paths)


if __name__ == "__main__":  # pragma: no cover - a by-hand tool
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/real"))
