"""The Spark session's settings: resolve311's defaults give way to what the user passes to spark-submit."""

from __future__ import annotations

import pytest

from resolve311.metrics.engines import session_settings, submitted_settings

ARROW = "spark.sql.execution.arrow.pyspark.enabled"
PARTITIONS = "spark.sql.shuffle.partitions"


def test_a_local_master_gets_every_default_and_the_utc_time_zone() -> None:
    settings = session_settings("local[2]", "6g", "")
    assert settings == {
        "spark.sql.session.timeZone": "UTC",
        ARROW: "true",
        PARTITIONS: "2",
        "spark.driver.memory": "6g",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def test_a_cluster_keeps_sparks_defaults_but_arrow() -> None:
    assert session_settings("spark://host:7077", "6g", "pyspark-shell") == {
        "spark.sql.session.timeZone": "UTC",
        ARROW: "true",
    }


def test_the_users_settings_win_over_the_defaults_but_not_over_the_time_zone() -> None:
    args = (
        f"--conf {PARTITIONS}=5 -c {ARROW}=false --conf=spark.ui.enabled=true --driver-memory 9g "
        "--conf spark.sql.session.timeZone=America/New_York pyspark-shell"
    )
    settings = session_settings("local[2]", "6g", args)
    assert settings == {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", {}),
        ("pyspark-shell", {}),
        ("--conf 'spark.executor.extraJavaOptions=-Da=1 -Db=2' pyspark-shell",
         {"spark.executor.extraJavaOptions": "-Da=1 -Db=2"}),
        ("--conf spark.a=x=y --conf", {"spark.a": "x=y"}),  # a value may hold '='; a trailing --conf has none
        ("--conf novalue --master local[1]", {}),
        ("--conf 'spark.a=1", {}),  # an unclosed quote: spark-submit says what is wrong
    ],
)  # fmt: skip
def test_submitted_settings_reads_conf_pairs(args: str, expected: dict[str, str]) -> None:
    assert submitted_settings(args) == expected
