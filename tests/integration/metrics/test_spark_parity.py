"""The same metric definitions on DuckDB and on Spark give the same snapshot.

Counts and shares must match exactly; exact quantiles (linear interpolation on
both engines) may differ only in the last bits of the interpolation arithmetic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest

pytest.importorskip("pyspark")

from integration.metrics.conftest import NYC, utc
from resolve311.metrics.engines import spark_session
from resolve311.publish import refresh_and_publish

pytestmark = pytest.mark.spark

TABLES = ("scorecard", "heatmap_when", "heatmap_where", "series", "km_curve", "agencies")
FLOAT_TOLERANCE = 1e-9
SPAN_DAYS = 420  # the random requests are created within this many days of the start


@pytest.fixture(scope="module")
def spark(module_env) -> Iterator[object]:
    session = spark_session(module_env.settings.spark_master)
    yield session
    session.stop()


def build(warehouse) -> None:
    rng = random.Random(4)
    start = datetime(2024, 2, 1)
    for i in range(900):
        created = start + timedelta(minutes=rng.randrange(0, 60 * 24 * SPAN_DAYS))
        hours = rng.choice([rng.expovariate(1 / 20), 0.05, 0.0, -3.0]) if rng.random() < 0.85 else None
        closed = created + timedelta(hours=hours) if hours is not None else None
        fields = {
            "agency": rng.choice(["NYPD", "HPD", "DOT"]),
            "complaint_type": rng.choice(["Noise", "HEAT/HOT WATER", "Street Condition"]),
            "borough": rng.choice(["BROOKLYN", "QUEENS", "Unspecified"]),
            "lat": 40.5 + rng.random() * 0.4 if rng.random() < 0.8 else None,
            "lon": -74.1 + rng.random() * 0.3,
            "dirty": ["closed_before_created"] if hours is not None and hours < 0 else [],
        }
        if closed is not None and rng.random() < 0.3:  # seen open first, closed later
            warehouse.add(
                f"k{i}", created, None, updated_at=created + timedelta(hours=1), batch_seq=1, **fields
            )
            warehouse.commit()
        warehouse.add(f"k{i}", created, closed, updated_at=closed, batch_seq=2, **fields)
    add_closes_at_the_cutoffs(warehouse, newest=start + timedelta(days=SPAN_DAYS + 1))
    warehouse.add_sla("Noise", 3.0)
    warehouse.add_sla("street condition", 240.0, agency="DOT")
    warehouse.commit()


def add_closes_at_the_cutoffs(warehouse, newest: datetime) -> None:
    """Requests closed exactly when their 8-week unit is censored (``as_of`` moved back 7 days per
    unit), created a number of hours and 4 s before: closed at the cutoff, so a close (an event),
    not censored. Spark once divided the age by a DECIMAL literal, rounding it to 1e-9 hours below
    the close, and counted these as still open (a 7d/8w Kaplan-Meier median 1 hour off at 3.3M)."""
    warehouse.add("newest", newest)  # the data's newest created date is the refresh's as_of
    as_of_utc = utc(newest).replace(tzinfo=UTC)
    for unit, hours in enumerate((40.5, 44, 47.9, 60, 75, 90, 100, 120, 140)):
        closed = as_of_utc - timedelta(days=7 * unit)
        created = closed - timedelta(hours=hours, seconds=4)
        warehouse.add(
            f"cutoff{unit}",
            created.astimezone(NYC).replace(tzinfo=None),
            closed.astimezone(NYC).replace(tzinfo=None),
            agency="HPD",
            complaint_type="HEAT/HOT WATER",
        )


def snapshot(env) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(env.settings.snapshot_path), read_only=True) as con:
        return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').df() for t in TABLES}


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame, table: str) -> None:
    assert list(duck.columns) == list(spark.columns)
    assert len(duck) == len(spark), table
    for col in duck.columns:
        left, right = duck[col], spark[col]
        if pd.api.types.is_float_dtype(left):
            pd.testing.assert_series_equal(left, right, rtol=FLOAT_TOLERANCE, atol=0, obj=f"{table}.{col}")
        else:
            pd.testing.assert_series_equal(left, right, obj=f"{table}.{col}")


def test_duckdb_and_spark_publish_the_same_metrics(module_env, spark) -> None:
    build(module_env.warehouse)
    duck_report = refresh_and_publish(module_env.settings, full=True, engine="duckdb")
    duck = snapshot(module_env)
    spark_report = refresh_and_publish(module_env.settings, full=True, engine="spark")
    assert spark_report.engine == "spark"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"  # results come as Arrow
    assert spark_report.rows == duck_report.rows
    got = snapshot(module_env)
    for table in TABLES:
        assert_same(duck[table], got[table], table)
    assert len(duck["scorecard"]) > 500
    assert duck["scorecard"]["metric"].nunique() == 16  # with SLA targets: every metric
