"""Start ``resolve311 simulate`` as a subprocess and read the oracle (exact current data)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil

from resolve311.processes import stop_process

ORACLE_HEADER = {"X-Sim-No-Faults": "1"}
DATASETS = ("erm2-nwe9", "76ig-c548")


@contextmanager
def simulator(*args: str, start_timeout_s: float = 600) -> Iterator[str]:
    """Run the simulator with ``args``; yield its base URL; terminate it on exit."""
    with simulator_process(*args, start_timeout_s=start_timeout_s) as (url, _):
        yield url


@contextmanager
def simulator_process(*args: str, start_timeout_s: float = 600) -> Iterator[tuple[str, int]]:
    """Like :func:`simulator`, yielding the base URL and the simulator's process id."""
    cmd = [sys.executable, "-m", "resolve311", "simulate", "--port", "0", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield _read_url(proc, start_timeout_s), proc.pid
    finally:
        stop_process(proc, 30)


def cpu_seconds(pid: int) -> float:
    """User + kernel CPU seconds a process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def _read_url(proc: subprocess.Popen[str], timeout_s: float) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline().strip()
        if line.startswith("http"):
            return line
        if proc.poll() is not None:
            break
    raise RuntimeError(f"the simulator did not start (exit code {proc.poll()})")


def oracle_keys(url: str, out: Path) -> int:
    """Write every unique_key the simulator serves now (all datasets) to ``out``, one a line."""
    keys: list[str] = []
    with httpx.Client(timeout=600, headers=ORACLE_HEADER) as client:
        for dataset in DATASETS:
            response = client.get(
                f"{url}/resource/{dataset}.json",
                params={"$select": "unique_key", "$order": "unique_key", "$limit": "100000000"},
            )
            response.raise_for_status()
            keys += [row["unique_key"] for row in response.json()]
    out.write_text("\n".join(keys) + "\n")
    return len(keys)


def fetch_pages(url: str, dataset: str, fmt: str, total: int, page: int, out_dir: Path) -> list[Path]:
    """Save ``total`` rows as API pages of ``page`` rows (``$order=:id``) in ``fmt`` (csv/json)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with httpx.Client(timeout=600, headers=ORACLE_HEADER) as client:
        for number, offset in enumerate(range(0, total, page)):
            params = {"$select": ":*,*", "$order": ":id", "$limit": str(min(page, total - offset))}
            params["$offset"] = str(offset)
            response = client.get(f"{url}/resource/{dataset}.{fmt}", params=params)
            response.raise_for_status()
            path = out_dir / f"page-{number:04d}.{fmt}"
            path.write_bytes(response.content)
            paths.append(path)
    return paths
