"""Wall-clock timestamps: both source formats, date-only values, DST, UTC system fields."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from resolve311.warehouse.normalize import normalize


@pytest.mark.parametrize(
    "text",
    ["2024-04-16T03:03:15.000", "2024-04-16T03:03:15", "04/16/2024 03:03:15 AM", " 04/16/2024 03:03:15 AM "],
)
def test_api_and_export_formats_read_the_same_wall_clock(
    text: str, make_row: Any, normalize_one: Any
) -> None:
    row = normalize_one(make_row(created_date=text))
    assert row["created_date"] == datetime(2024, 4, 16, 3, 3, 15)
    assert row["created_utc"] == datetime(2024, 4, 16, 7, 3, 15)  # EDT = UTC-4


def test_pm_and_noon_and_midnight_in_export_format(make_row: Any) -> None:
    rows = normalize(
        [
            make_row(unique_key="1", created_date="04/16/2024 12:03:15 PM"),
            make_row(unique_key="2", created_date="04/16/2024 12:00:00 AM"),
            make_row(unique_key="3", created_date="04/16/2024 11:59:59 PM"),
        ],
        source="nyc",
        dataset=None,
    ).rows
    assert rows.column("created_date").to_pylist() == [
        datetime(2024, 4, 16, 12, 3, 15),
        datetime(2024, 4, 16, 0, 0, 0),
        datetime(2024, 4, 16, 23, 59, 59),
    ]


@pytest.mark.parametrize("text", ["2012-11-20", "11/20/2012", "2012-11-20T00:00:00.000"])
def test_date_only_values_are_midnight_and_flagged(text: str, make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(created_date=text))
    assert row["created_date"] == datetime(2012, 11, 20)
    assert row["created_utc"] == datetime(2012, 11, 20, 5)  # EST = UTC-5
    assert "created_at_midnight" in row["dirty_flags"]


def test_winter_time_is_utc_minus_five(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(created_date="2024-01-15T10:00:00.000"))
    assert row["created_utc"] == datetime(2024, 1, 15, 15, 0)


def test_fall_back_ambiguous_hour_reads_as_standard_time(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(created_date="2024-11-03T01:30:00.000"))
    assert row["created_date"] == datetime(2024, 11, 3, 1, 30)
    assert row["created_utc"] == datetime(2024, 11, 3, 6, 30)  # 01:30 EST


def test_spring_forward_missing_hour_shifts_forward(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(created_date="2024-03-10T02:30:00.000"))
    assert row["created_utc"] == datetime(2024, 3, 10, 7, 30)  # = 03:30 EDT


@pytest.mark.parametrize(
    ("created", "closed", "hours"),
    [
        ("2024-03-10T01:30:00.000", "2024-03-10T03:30:00.000", 1.0),  # 2 wall-clock hours, 1 real
        ("2024-11-03T00:30:00.000", "2024-11-03T02:30:00.000", 3.0),  # 2 wall-clock hours, 3 real
        ("2024-03-09T12:00:00.000", "2024-03-11T12:00:00.000", 47.0),
        ("2024-11-02T12:00:00.000", "2024-11-04T12:00:00.000", 49.0),
    ],
)
def test_hours_to_close_across_dst_comes_from_utc_instants(
    created: str, closed: str, hours: float, make_row: Any, normalize_one: Any
) -> None:
    row = normalize_one(make_row(created_date=created, closed_date=closed, status="Closed"))
    assert row["hours_to_close"] == pytest.approx(hours)


def test_durations_through_the_gap_are_never_negative(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(
        make_row(
            created_date="2024-03-10T01:59:59.000", closed_date="2024-03-10T02:00:00.000", status="Closed"
        )
    )
    assert row["hours_to_close"] >= 0


def test_system_fields_are_utc_instants_not_wall_clock(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(
        make_row(**{":created_at": "2024-04-16T07:03:15.000Z", ":updated_at": "2024-04-17T01:02:03.456Z"})
    )
    assert row["source_created_at"] == datetime(2024, 4, 16, 7, 3, 15)
    assert row["source_updated_at"] == datetime(2024, 4, 17, 1, 2, 3, 456000)
    assert row["source_id"] == "row-abc"


def test_other_time_zone_is_honoured(make_row: Any) -> None:
    batch = normalize(
        [make_row(created_date="2024-04-16T03:00:00.000")],
        source="chicago",
        dataset=None,
        tz="America/Chicago",
    )
    assert batch.rows.column("created_utc").to_pylist() == [datetime(2024, 4, 16, 8, 0)]


def test_unknown_time_zone_is_a_config_error(make_row: Any) -> None:
    from resolve311.errors import ConfigError

    with pytest.raises(ConfigError, match="time zone"):
        normalize([make_row()], source="nyc", dataset=None, tz="Mars/Olympus")


@pytest.mark.parametrize(
    "text", ["2024-04-16T07:03:15Z", "2024-04-16T03:03:15-04:00", "2024-04-16T02:03:15.000-0500"]
)
def test_values_with_an_offset_become_local_wall_clock(text: str, make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(created_date=text))
    assert row["created_date"] == datetime(2024, 4, 16, 3, 3, 15)
    assert row["created_utc"] == datetime(2024, 4, 16, 7, 3, 15)


def test_system_fields_in_epoch_seconds_as_in_rows_json(make_row: Any, normalize_one: Any) -> None:
    row = normalize_one(make_row(**{":updated_at": "1713254400", ":created_at": 1713254400}))
    assert row["source_updated_at"] == datetime(2024, 4, 16, 8, 0)
    assert row["source_created_at"] == datetime(2024, 4, 16, 8, 0)


# The readings before the API-shape and export-shape shortcuts (the reference they must equal, value for value).
def _general_wall_clock_sql(text: str) -> str:
    from resolve311.warehouse.timestamps import _WITH_OFFSET, US_FORMATS

    formats = ", ".join(f"'{fmt}'" for fmt in US_FORMATS)
    t = f"trim({text})"
    return (
        f"CASE WHEN substr({t}, 5, 1) <> '-' THEN coalesce(try_strptime({t}, [{formats}]), try_cast({t} AS TIMESTAMP)) "
        f"WHEN regexp_matches({t}, '{_WITH_OFFSET}') THEN timezone($tz, try_cast({t} AS TIMESTAMPTZ)) "
        f"ELSE coalesce(try_cast({t} AS TIMESTAMP), try_strptime({t}, [{formats}])) END"
    )


def _general_instant_sql(text: str) -> str:
    t = f"trim({text})"
    return (
        f"CASE WHEN regexp_full_match({t}, '[0-9]{{9,11}}') THEN timezone('UTC', to_timestamp(try_cast({t} AS BIGINT))) "
        f"ELSE timezone('UTC', try_cast({t} AS TIMESTAMPTZ)) END"
    )


SHAPES = [
    "2024-04-16T03:03:15.000", "2024-04-16T03:03:15.123", "2024-13-16T03:03:15.000", "2024-02-30T03:03:15.000",
    "2024-04-16T25:03:15.000", "2024-04-16T03:03:15.000Z", "2024-04-16T03:03:15.12Z", "2024-04-16T03:03:15.000+05",
    " 2024-04-16T03:03:15.000", "2024-04-16T03:03:15.000 ", "2024-04-16 03:03:15.000", "2024-04-16T03:03:15",
    "2024-04-16T03:03:15.000-05:00", "0001-01-01T00:00:00.000", "9999-12-31T23:59:59.999", "1900-01-01T00:00:00.000",
    "2024-03-10T02:30:00.000", "2024-11-03T01:30:00.000", "04/16/2024 03:03:15 AM", "1713236595", "", " ",
    "2024-04-16T03:03:15.0000", "2024-04-16T03:03:15,000", "２024-04-16T03:03:15.000", "2024-04-16T07:03:15.000Z ",
    "2024-04-16t03:03:15.000", "1713236595Z", "2024-04-16T03:03:15.000z",
]  # fmt: skip
#: Portal-export shapes (and near misses) for the shortcut of the first US format.
US_SHAPES = [
    "05/31/2024 12:00:00 AM", " 05/31/2024 12:00:00 AM ", "5/3/2024 1:02:03 pm", "05/31/2024 12:00:00 am",
    "13/01/2024 01:00:00 AM", "1/2/-024 01:00:00 AM", "01/02/0024 01:00:00 AM", "01/02/99999 01:00:00 AM",
    "02/30/2024 01:00:00 AM", "01/01/2024 00:00:00 AM", "01/01/2024 12:00:00 PM", "01/01/2024 11:59:59 PM",
    "04/16/2024", "04/16/2024 03:03", "04/16/2024 03:03 PM", "\t04/16/2024 03:03:15 PM\n", "04/16/2024  03:03:15 PM",
    "04/16/2024 03:03:15PM", "04/16/2024 03:03:15 PM extra", "+4/16/2024 03:03:15 PM", " 4/16/2024 3:03:15 PM",
    "04/16/2024 03:03:15.5 PM", "03/10/2024 02:30:00 AM", "11/03/2024 01:30:00 AM", "04/16/1900 12:00:00 AM",
    "12/31/1899 07:00:00 PM", "004/16/2024 03:03:15 PM", "04/016/2024 03:03:15 PM", "04/16/2024 15:03:15",
    "04/16/2024 15:03:15 PM", "04-16-2024 03:03:15 PM", "2024/04/16 03:03:15 PM",
]  # fmt: skip


@pytest.mark.parametrize("tz", ["America/New_York", "America/Chicago", "UTC"])
def test_the_api_shape_shortcut_reads_every_value_as_the_general_reading(tz: str) -> None:
    import duckdb

    from resolve311.warehouse.timestamps import utc_from_instant_sql, wall_clock_sql

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    values = [*SHAPES, *(s + "Z" for s in SHAPES), *US_SHAPES, None]
    rows = con.execute(
        f"SELECT v, {wall_clock_sql('v')}, {_general_wall_clock_sql('v')}, "
        f"{utc_from_instant_sql('v')}, {_general_instant_sql('v')} FROM unnest($values::VARCHAR[]) AS t(v)",
        {"values": values, "tz": tz},
    ).fetchall()
    assert len(rows) == len(values)
    assert [r for r in rows if r[1] != r[2] or r[3] != r[4]] == []
    assert sum(r[1] is not None for r in rows) > 10 and sum(r[3] is not None for r in rows) > 5
    assert sum(r[1] is not None for r in rows if r[0] in US_SHAPES) > 10  # the export shortcut's values
