"""Test helpers shared by every test module (importable as ``helpers``)."""

from __future__ import annotations

import io
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb

from resolve311.processes import stop_process
from resolve311.sources.catalog import load_catalog
from resolve311.warehouse.csv_split import open_maybe_gzip

FIXTURES = Path(__file__).parent / "fixtures"
REAL_DATA = FIXTURES / "real"
#: Real files of other cities, by source name (their names start with the source; big ones gzipped).
CITY_FILES = {
    city: sorted(p for p in REAL_DATA.glob(f"{city}_*") if p.name.endswith((".csv", ".csv.gz", ".json")))
    for city in sorted(load_catalog())
    if city != "nyc"
}
#: Real NYC files.
REAL_FILES = sorted(
    p
    for p in REAL_DATA.iterdir()
    if p.suffix in {".csv", ".json"}
    and "metadata" not in p.name
    and not any(p in files for files in CITY_FILES.values())
)


def open_real_text(path: Path) -> io.TextIOWrapper:
    """A real fixture file as text, gzipped or not (for reading it with the csv module)."""
    return io.TextIOWrapper(open_maybe_gzip(path), encoding="utf-8", errors="replace", newline="")


def wait_for(condition: Callable[[], object], *, timeout: float = 30.0, interval: float = 0.05) -> object:
    """Poll ``condition`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception as exc:  # the condition may raise until ready
            last_exc = exc
        else:
            if value:
                return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last error: {last_exc!r})")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SimulatorProcess:
    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        stop_process(self.process)


def start_simulator(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120.0
) -> SimulatorProcess:
    """Start ``resolve311 simulate --port 0 ARGS`` and return once it printed its URL."""
    cmd = [sys.executable, "-m", "resolve311", "simulate", "--port", "0", *args]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline().strip()
        if line.startswith("http"):
            return SimulatorProcess(url=line, process=proc)
        if proc.poll() is not None:
            break
    proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    raise RuntimeError(f"simulator did not start: {line!r} {err[-2000:]}")


def warehouse_content(warehouse: Path, extra: Mapping[str, str] | None = None) -> dict[str, object]:
    """A warehouse's content without when and by which batch each row came (plus ``extra`` queries)."""
    queries = {
        "requests": "SELECT * EXCLUDE (batch_seq, loaded_at) FROM requests ORDER BY unique_key",
        "versions": "SELECT unique_key, row_hash FROM request_versions ORDER BY ALL",
        "watermarks": "SELECT dataset, watermark FROM source_state ORDER BY 1",
        **(extra or {}),
    }
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in queries.items()}
    finally:
        con.close()


def landed_batches(home: Path) -> int:
    """Batches in the landing log of ``home`` (each page an update or a backfill pulls is one)."""
    return sum(1 for _ in (home / "landing").rglob("*.manifest.json"))


def kill_at_random_moments(
    cmd: list[str], env: dict[str, str], home: Path, rng: random.Random, runs: int, most_pages: int
) -> int:
    """Start ``cmd`` ``runs`` times (its home is ``home``), each SIGKILLed a random moment after it has
    landed 1 to ``most_pages`` new batches; return how many were killed (the others had ended).

    Random moments of progress, not of time: a kill after a random time missed more runs the faster
    the machine, as the later attempts have little left to pull.
    """
    killed = 0
    for _ in range(runs):
        target = landed_batches(home) + rng.randint(1, max(1, most_pages))
        pause = rng.uniform(0.0, 0.05)  # between two pages, or inside a load, a commit, a landing write
        killed += _killed_after(cmd, env, home, target, pause)
    return killed


def _killed_after(cmd: list[str], env: dict[str, str], home: Path, batches: int, pause: float) -> bool:
    """Run ``cmd``; SIGKILL it ``pause`` s after ``home``'s landing log holds ``batches``; True if it ran until then."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: landed_batches(home) >= batches or proc.poll() is not None, timeout=300, interval=0.005
        )
        proc.wait(timeout=pause)
        return False
    except subprocess.TimeoutExpired:
        proc.kill()  # SIGKILL: no cleanup of any kind
        return True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
