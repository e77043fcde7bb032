"""Shared fixtures: a temporary home, running simulators."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from helpers import SimulatorProcess, start_simulator


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty RESOLVE311_HOME, and no config file or token leaking in from the machine."""
    h = tmp_path / "home"
    monkeypatch.setenv("RESOLVE311_HOME", str(h))
    monkeypatch.setenv("RESOLVE311_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("SOCRATA_APP_TOKEN", raising=False)
    return h


@dataclass
class SimulatorProcess:
    url: str
    process: subprocess.Popen[str]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


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


@pytest.fixture
def simulator_factory() -> Iterator[Callable[..., SimulatorProcess]]:
    """Start simulators with custom arguments; all are stopped at the end of the test."""
    started: list[SimulatorProcess] = []

    def factory(*args: str, env: dict[str, str] | None = None) -> SimulatorProcess:
        sim = start_simulator(*args, env=env)
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()
