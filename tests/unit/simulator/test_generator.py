"""The generator: deterministic by seed, keys unique across ranges, calibrated to REFERENCE §3."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pytest

from resolve311.simulator.batches import generate_tables, write_parquet
from resolve311.simulator.volume import counts_and_key_starts

FIRST, LAST, SCALE = date(2024, 3, 1), date(2024, 4, 30), 0.1


def one(con: duckdb.DuckDBPyConnection, sql: str) -> float:
    row = con.execute(sql).fetchone()
    assert row is not None
    return float(row[0])


def share(con: duckdb.DuckDBPyConnection, predicate: str) -> float:
    return one(con, f"SELECT avg(CASE WHEN {predicate} THEN 1.0 ELSE 0.0 END) FROM g")


def days(seed: int, first: date, last: date, scale: float = 0.02) -> pa.Table:
    return pa.concat_tables(generate_tables(seed=seed, scale=scale, first=first, last=last))


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = days(1, date(2024, 1, 1), date(2024, 1, 3))
    b = days(1, date(2024, 1, 1), date(2024, 1, 3))
    c = days(2, date(2024, 1, 1), date(2024, 1, 3))
    assert a.equals(b)
    assert not a.equals(c)


def test_a_day_is_the_same_whatever_range_generated_it() -> None:
    whole = days(9, date(2024, 1, 1), date(2024, 1, 4)).to_pylist()
    late = days(9, date(2024, 1, 3), date(2024, 1, 4)).to_pylist()
    assert [r for r in whole if r["created_date"].date() >= date(2024, 1, 3)] == late


def test_keys_are_unique_and_continue_across_days() -> None:
    counts, starts = counts_and_key_starts(5, 0.5, date(2024, 1, 1), date(2024, 1, 10))
    assert all(starts[i] + counts[i] == starts[i + 1] for i in range(9))
    keys = days(5, date(2024, 1, 1), date(2024, 1, 10), scale=0.5).column("unique_key").to_pylist()
    assert len(keys) == len(set(keys)) == counts.sum()


def test_write_parquet_round_trips(tmp_path: object) -> None:
    from pathlib import Path

    out = Path(str(tmp_path))
    paths = write_parquet(3, 0.01, date(2024, 1, 1), date(2024, 2, 15), out)
    assert len(paths) == 2 and all(p.exists() for p in paths)
    total = one(duckdb.connect(), f"SELECT count(*) FROM read_parquet('{out}/*.parquet')")
    assert total == days(3, date(2024, 1, 1), date(2024, 2, 15), scale=0.01).num_rows


def test_daily_volume_matches_scale(generated: duckdb.DuckDBPyConnection) -> None:
    per_day = one(generated, "SELECT count(*) / count(DISTINCT CAST(created_date AS DATE)) FROM g")
    assert 0.85 * 9450 * SCALE <= per_day <= 1.15 * 9450 * SCALE
    weekday = one(
        generated,
        "SELECT avg(n) FROM (SELECT count(*) n FROM g GROUP BY CAST(created_date AS DATE) HAVING dayofweek(any_value(created_date)) BETWEEN 1 AND 5)",
    )
    weekend = one(
        generated,
        "SELECT avg(n) FROM (SELECT count(*) n FROM g GROUP BY CAST(created_date AS DATE) HAVING dayofweek(any_value(created_date)) IN (0, 6))",
    )
    assert weekday > weekend


@pytest.mark.parametrize(
    ("agency", "target"), [("NYPD", 0.43), ("HPD", 0.19), ("DSNY", 0.12), ("DOT", 0.07), ("DEP", 0.05)]
)
def test_agency_shares(generated: duckdb.DuckDBPyConnection, agency: str, target: float) -> None:
    observed = share(generated, f"agency = '{agency}'")
    assert abs(observed - target) <= max(0.06, target * 0.35), observed


def test_noise_comes_at_night_and_heat_in_winter(generated: duckdb.DuckDBPyConnection) -> None:
    night = share(
        generated, "complaint_type = 'Noise - Residential' AND hour(created_date) NOT BETWEEN 6 AND 20"
    )
    day = share(generated, "complaint_type = 'Noise - Residential' AND hour(created_date) BETWEEN 6 AND 20")
    assert night > day
    march = share(generated, "complaint_type = 'HEAT/HOT WATER' AND month(created_date) = 3")
    april = share(generated, "complaint_type = 'HEAT/HOT WATER' AND month(created_date) = 4")
    assert march > april


def test_coordinates_inside_nyc(generated: duckdb.DuckDBPyConnection) -> None:
    assert one(generated, "SELECT min(latitude) FROM g") >= 40.49
    assert one(generated, "SELECT max(latitude) FROM g") <= 40.92
    assert one(generated, "SELECT min(longitude) FROM g") >= -74.26
    assert one(generated, "SELECT max(longitude) FROM g") <= -73.70
    assert 0.05 <= share(generated, "latitude IS NULL") <= 0.30


@pytest.mark.parametrize(
    ("predicate", "low", "high"),
    [
        ("closed_value < created_date", 0.0015, 0.0045),  # 0.29 %
        ("closed_value = created_date", 0.015, 0.035),  # same second 2.5 %
        (
            "closed_value IS NOT NULL AND hour(closed_value) = 0 AND minute(closed_value) = 0 AND second(closed_value) = 0",
            0.03,
            0.10,
        ),
        ("res_shift_s > 0", 0.015, 0.03),  # resolution before created 2.3 %
        ("close_at IS NULL", 0.008, 0.02),  # never closed 1.4 %
        ("due_date IS NOT NULL", 0.001, 0.008),  # due_date present 0.4 %
        ("borough = 'Unspecified'", 0.035, 0.09),  # 5 %, more for helicopters
        ("final_status = 'Closed' AND close_at IS NOT NULL AND closed_value IS NULL", 0.001, 0.006),  # 0.3 %
        ("final_status <> 'Closed' AND closed_value IS NOT NULL", 0.004, 0.02),  # odd statuses + 0.4 %
    ],
)
def test_dirty_row_rates(
    generated: duckdb.DuckDBPyConnection, predicate: str, low: float, high: float
) -> None:
    assert low <= share(generated, predicate) <= high


def test_sentinel_dates_and_mojibake_appear(generated: duckdb.DuckDBPyConnection) -> None:
    assert one(generated, "SELECT count(*) FROM g WHERE year(closed_value) <= 1900") > 0
    assert one(generated, "SELECT count(*) FROM g WHERE close_text LIKE '%\u00e2\u0080\u0099%'") > 0


@pytest.mark.parametrize(
    ("agency", "low_h", "high_h"),
    [
        ("NYPD", 0.3, 3.0),
        ("DEP", 8.0, 48.0),
        ("DSNY", 36.0, 110.0),
        ("DOT", 48.0, 200.0),
        ("HPD", 80.0, 300.0),
    ],
)
def test_time_to_close_medians_by_agency(
    generated: duckdb.DuckDBPyConnection, agency: str, low_h: float, high_h: float
) -> None:
    median = one(
        generated,
        f"SELECT median(epoch(close_at) - epoch(created_date)) / 3600 FROM g WHERE agency = '{agency}' AND close_at IS NOT NULL",
    )
    assert low_h <= median <= high_h


def test_codes_and_labels_change_over_time() -> None:
    old = days(4, date(2013, 1, 5), date(2013, 1, 6), scale=0.3)
    new = days(4, date(2024, 1, 5), date(2024, 1, 6), scale=0.3)
    old_types, new_types = (
        set(old.column("complaint_type").to_pylist()),
        set(new.column("complaint_type").to_pylist()),
    )
    assert "HEATING" in old_types and "HEAT/HOT WATER" not in old_types
    assert "HEAT/HOT WATER" in new_types and "HEATING" not in new_types
    old_agencies = set(old.column("agency").to_pylist())
    assert "DCA" in old_agencies and "DCWP" not in old_agencies and "DOITT" in old_agencies
    assert {"DCWP", "OTI"} <= set(new.column("agency").to_pylist())


def test_long_tail_of_complaint_types(generated: duckdb.DuckDBPyConnection) -> None:
    assert one(generated, "SELECT count(DISTINCT complaint_type) FROM g") >= 100
    top20 = one(
        generated,
        "SELECT sum(n) / (SELECT count(*) FROM g) FROM "
        "(SELECT count(*) AS n FROM g GROUP BY complaint_type ORDER BY n DESC LIMIT 20)",
    )
    assert 0.55 <= top20 <= 0.8


def test_tables_convert_to_pandas() -> None:
    frame = days(6, date(2024, 1, 1), date(2024, 1, 2)).to_pandas()
    assert len(frame) > 0 and frame["unique_key"].is_unique
