"""The copy-paste snippets of docs/consumers.md run as written (paths and URLs swapped in)."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from pg_server import pg_bin
from resolve311.publish import publish_release

DOC = (Path(__file__).parents[3] / "docs" / "consumers.md").read_text()
EXAMPLE_LAKE = "/srv/resolve311/lake"


def snippet(name: str) -> str:
    match = re.search(rf"<!-- snippet: {name} -->\n```\w+\n(.*?)```", DOC, re.S)
    assert match, name
    return match.group(1)


def run_python(code: str, timeout: float = 300) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture
def lake_env(publish_env, tmp_path):
    url = str(tmp_path / "lake")
    env = publish_env(lake_url=url)
    env.add_requests(10, datetime(2024, 5, 29), 1, batch_seq=2)
    publish_release(env.settings)
    return url, env


@pytest.fixture
def lake(lake_env) -> str:
    return lake_env[0]


def test_duckdb_snippet(lake) -> None:
    out = run_python(snippet("duckdb").replace(EXAMPLE_LAKE, lake))
    assert re.search(r"NYPD\s+\d+", out) and "HPD" in out


def test_pandas_snippet(lake) -> None:
    out = run_python(snippet("pandas").replace(EXAMPLE_LAKE, lake))
    assert "ttc_median_h" in out


@pytest.mark.spark
@pytest.mark.slow
def test_spark_snippet(lake_env) -> None:
    pytest.importorskip("pyspark")
    lake, env = lake_env
    out = run_python(snippet("spark").replace(EXAMPLE_LAKE, lake))
    counts = {m: int(n) for m, n in re.findall(r"\|\s*(\d{4}-\d{2})\|\s*(\d+)\|", out)}
    expected = env.warehouse.con.execute(
        "SELECT strftime(created_date, '%Y-%m'), count(*) FROM requests GROUP BY 1"
    ).fetchall()
    assert counts == dict(expected)


def test_psql_snippet(publish_env, postgres) -> None:
    env = publish_env(publish_url=postgres.url)
    assert [o.status for o in publish_release(env.settings)] == ["skipped", "success"]
    command = snippet("psql").replace('"$RESOLVE311_PUBLISH_URL"', postgres.url)
    psql = pg_bin() / "psql"  # type: ignore[operator]
    done = subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=60,
        env={"PATH": f"{psql.parent}:/usr/bin:/bin"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Time to close, median" in done.stdout and "NYPD" in done.stdout
