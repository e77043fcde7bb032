"""`resolve311 up` keeping NYC, Chicago and SF current at once, Chicago through an outage.

Each city reads its own simulator (``simulate --source chicago|sf``: that portal's schema). The down city's source answers every data request
with 503 and the retry budget is long, so its first run stays in flight (holding its own
lock) for the whole outage: meanwhile the other cities must complete scheduled updates,
which a supervisor running cities one after the other could not do. Then the source
comes back, and every warehouse ends equal to its simulator.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import httpx
import pytest

from helpers import SimulatorProcess, free_port, start_simulator, wait_for
from resolve311.sources.catalog import Source, get_source
from resolve311.warehouse.lock import is_held

pytestmark = pytest.mark.slow

ORACLE = {"X-Sim-No-Faults": "1"}
SIM_ARGS = ("--history-days", "10", "--scale", "0.01")
#: city -> extra simulator arguments.
CITIES: dict[str, tuple[str, ...]] = {
    "nyc": ("--seed", "6"),
    "chicago": ("--source", "chicago", "--seed", "7"),
    "sf": ("--source", "sf", "--seed", "8"),
}
DOWN = "chicago"


def oracle_versions(url: str, source: Source) -> set[tuple[str, datetime]]:
    """(key, :updated_at) of every row the simulator holds now, read past faults and outages."""
    out: set[tuple[str, datetime]] = set()
    for dataset in source.datasets:
        rows = httpx.get(
            f"{url}/resource/{dataset.id}.json",
            params={"$select": f"{source.key_field},:updated_at", "$order": ":id", "$limit": "10000000"},
            headers=ORACLE,
            timeout=120,
        ).json()
        for row in rows:
            stamp = datetime.fromisoformat(row[":updated_at"].replace("Z", "+00:00")).replace(tzinfo=None)
            out.add((str(row[source.key_field]), stamp))
    return out


def query(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def successful_updates(city_home: Path, after: datetime) -> int:
    """Successful update runs started after ``after``, as the city's published snapshot shows them."""
    rows = query(
        city_home / "serving.duckdb",
        "SELECT count(*) FROM runs WHERE kind = 'update' AND status = 'success' AND started_at > ?",
        [after],
    )
    return int(str(rows[0][0]))


def advance(sim: SimulatorProcess) -> None:
    httpx.post(f"{sim.url}/_sim/advance", params={"days": 1}, headers=ORACLE, timeout=120).raise_for_status()


def start_up(home: Path, sims: dict[str, SimulatorProcess], port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RESOLVE311_HOME": str(home),
        "RESOLVE311_CONFIG": str(home / "none.toml"),
        "RESOLVE311_CITIES": json.dumps(list(sims)),
        "RESOLVE311_CITY_URLS": json.dumps({city: sim.url for city, sim in sims.items()}),
        "RESOLVE311_SCHEDULE": "@every 2s",
        "RESOLVE311_HISTORY_DAYS": "10",
        "RESOLVE311_HISTORY_YEAR_EARLIER": "false",
        "RESOLVE311_PORT": str(port),
        "RESOLVE311_WEB_WORKERS": "1",
        "RESOLVE311_REQUEST_TIMEOUT_S": "5",
        "RESOLVE311_RETRY_BUDGET_S": "3600",  # the down city's run waits for its source all along
        "RESOLVE311_RETRY_BASE_S": "0.1",
        "RESOLVE311_RETRY_MAX_S": "0.5",
    }
    env.pop("SOCRATA_APP_TOKEN", None)
    log = (home.parent / "up.log").open("ab")
    return subprocess.Popen([sys.executable, "-m", "resolve311", "up"], env=env, stdout=log, stderr=log)


def test_up_keeps_every_city_current_and_an_outage_delays_no_other(tmp_path: Path) -> None:
    today = date.today().isoformat()
    home = tmp_path / "home"
    sims: dict[str, SimulatorProcess] = {}
    up = None
    try:
        for city, args in CITIES.items():
            down = ("--down", f"{today}..{today}") if city == DOWN else ()
            sims[city] = start_simulator(*args, *SIM_ARGS, *down)
        up = start_up(home, sims, free_port())
        places = {city: home / "cities" / city for city in CITIES}
        wait_for(lambda: is_held(places[DOWN] / "update.lock"), timeout=120)
        held_since = datetime.now(UTC).replace(tzinfo=None)
        others = [city for city in CITIES if city != DOWN]
        # The other cities go on updating on schedule (two runs each, started after the down city took
        # its lock) while the down city's first run is in flight ...
        for city in others:
            wait_for(lambda city=city: successful_updates(places[city], held_since) >= 2, timeout=300)
        # ... which never ended: it holds its lock, and a finished run (even a failed one) publishes.
        assert is_held(places[DOWN] / "update.lock")
        assert not (places[DOWN] / "serving.duckdb").exists()
        # The source comes back (and every city gets a new day): everyone catches up.
        back = datetime.now(UTC).replace(tzinfo=None)
        for sim in sims.values():
            advance(sim)
        for city in CITIES:
            wait_for(lambda city=city: successful_updates(places[city], back) >= 1, timeout=300)
        expected = {city: oracle_versions(sim.url, get_source(city)) for city, sim in sims.items()}
    finally:
        if up is not None and up.poll() is None:
            up.send_signal(signal.SIGTERM)
            assert up.wait(timeout=120) == 0
        for sim in sims.values():
            sim.stop()
    for city in CITIES:
        warehouse = places[city] / "warehouse.duckdb"
        assert query(warehouse, "SELECT DISTINCT source FROM runs") == [(city,)]
        assert set(query(warehouse, "SELECT unique_key, source_updated_at FROM requests")) == expected[city]
        assert query(warehouse, "SELECT count(*) - count(DISTINCT unique_key) FROM requests") == [(0,)]
