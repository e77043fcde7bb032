"""A several-city home: each city in its own directory, `--city` on the commands, the city in the ledger.

Two cities of NYC's schema (``nyc`` and ``nyc2``, a catalog copy in ``HOME/sources``) are read
from two simulators with different seeds.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pytest

from helpers import free_port
from resolve311.cli.exit_codes import EXIT_OK, EXIT_USAGE
from resolve311.pipeline import run_update
from resolve311.settings import Settings

SIM_ARGS = ("--today", "2025-05-01", "--history-days", "3", "--scale", "0.01")
FAST = {"RESOLVE311_RETRY_BASE_S": "0.01", "RESOLVE311_RETRY_MAX_S": "0.05", "RESOLVE311_RETRY_BUDGET_S": "1"}


def add_nyc_copy(home: Path, name: str) -> None:
    """A custom catalog ``name`` in HOME/sources: NYC's file under another name."""
    text = (resources.files("resolve311.sources.catalogs") / "nyc.toml").read_text()
    text = text.replace('name = "nyc"', f'name = "{name}"').replace("New York City", f"Second {name}")
    (home / "sources").mkdir(parents=True, exist_ok=True)
    (home / "sources" / f"{name}.toml").write_text(text)


def query(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture
def two_cities(home: Path, simulator_factory: Any) -> dict[str, str]:
    """Env of a home keeping nyc and nyc2, each on its own simulator."""
    add_nyc_copy(home, "nyc2")
    urls = {"nyc": simulator_factory("--seed", "3", *SIM_ARGS).url}
    urls["nyc2"] = simulator_factory("--seed", "4", *SIM_ARGS).url
    return {"RESOLVE311_CITIES": '["nyc", "nyc2"]', "RESOLVE311_CITY_URLS": json.dumps(urls), **FAST}


@pytest.fixture
def two_cities_unreachable(home: Path) -> dict[str, str]:
    """The same home, its cities' URLs on a port nothing listens on: for commands refused before any request."""
    add_nyc_copy(home, "nyc2")
    urls = {city: f"http://127.0.0.1:{free_port()}" for city in ("nyc", "nyc2")}
    return {"RESOLVE311_CITIES": '["nyc", "nyc2"]', "RESOLVE311_CITY_URLS": json.dumps(urls), **FAST}


def test_update_loads_every_city_into_its_own_warehouse(
    cli: Any, home: Path, two_cities: dict[str, str], oracle: Any
) -> None:
    done = cli("update", "--json", env=two_cities)
    assert done.returncode == EXIT_OK, done.stderr
    runs = json.loads(done.stdout)["runs"]
    assert [(r["source"], r["status"]) for r in runs] == [("nyc", "success"), ("nyc2", "success")]
    urls = json.loads(two_cities["RESOLVE311_CITY_URLS"])
    for city in ("nyc", "nyc2"):
        place = home / "cities" / city
        assert query(place / "warehouse.duckdb", "SELECT DISTINCT source FROM requests") == [(city,)]
        assert query(place / "warehouse.duckdb", "SELECT source, status FROM runs") == [(city, "success")]
        stored = set(query(place / "warehouse.duckdb", "SELECT unique_key, source_updated_at FROM requests"))
        assert stored == oracle.versions(oracle.rows(urls[city]))
        meta = dict(query(place / "serving.duckdb", "SELECT key, value FROM meta"))
        assert (meta["city"], meta["city_name"]) == (
            city,
            "New York City" if city == "nyc" else "Second nyc2",
        )
    assert not (home / "warehouse.duckdb").exists()  # nothing directly in HOME
    status = json.loads(cli("status", "--json", env=two_cities).stdout)
    assert sorted(status["cities"]) == ["nyc", "nyc2"]
    assert status["cities"]["nyc2"]["runs"][0]["status"] == "success"
    one = json.loads(cli("status", "--json", "--city", "nyc2", env=two_cities).stdout)
    assert one["source"] == "nyc2" and one["warehouse"].endswith("cities/nyc2/warehouse.duckdb")


def test_update_of_one_city_leaves_the_others_alone(cli: Any, home: Path, two_cities: dict[str, str]) -> None:
    done = cli("update", "--city", "nyc2", "--json", "--skip-metrics", env=two_cities)
    assert done.returncode == EXIT_OK, done.stderr
    assert json.loads(done.stdout)["source"] == "nyc2"  # one city: the report as for a single-city home
    assert (home / "cities" / "nyc2" / "warehouse.duckdb").exists()
    assert not (home / "cities" / "nyc").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["update", "--city", "boston"], "error: unknown city 'boston': this home keeps nyc, nyc2"),
        (["status", "--city", "boston"], "error: unknown city 'boston': this home keeps nyc, nyc2"),
        (["backfill", "--since", "2025-04-01"], "error: this home keeps nyc, nyc2: name one with --city"),
        (["metrics"], "error: this home keeps nyc, nyc2: name one with --city"),
        (["export", "--table", "requests", "--format", "csv", "--out", "x.csv"], "name one with --city"),
        (["publish", "--city", "boston"], "error: unknown city 'boston'"),
        (["digest", "status", "--city", "boston"], "error: unknown city 'boston'"),
    ],
)
def test_an_unknown_or_missing_city_is_one_line(
    cli: Any, home: Path, two_cities_unreachable: dict[str, str], args: list[str], message: str
) -> None:
    result = cli(*args, env=two_cities_unreachable)
    assert result.returncode == EXIT_USAGE
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (home / "cities").exists()


def test_run_update_refreshes_the_metrics_of_the_source_it_loaded(
    home: Path, simulator_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's `run_update(settings, source="chicago")`: metrics, snapshot and status are that source's."""
    add_nyc_copy(home, "nyc2")
    sim = simulator_factory("--seed", "5", *SIM_ARGS)
    settings = Settings(home=home, source="nyc", socrata_url=sim.url, retry_budget_s=1, retry_base_s=0.01)
    report = run_update(settings, source="nyc2")
    assert (report.source, report.status, report.metrics) == ("nyc2", "success", "refreshed")
    meta = dict(query(home / "serving.duckdb", "SELECT key, value FROM meta"))
    assert (meta["source"], meta["city"]) == ("nyc2", "nyc2")
    assert query(home / "serving.duckdb", "SELECT last_run_id FROM status") == [(report.run_id,)]
    assert query(home / "serving.duckdb", "SELECT count(*) > 0 FROM scorecard") == [(True,)]
