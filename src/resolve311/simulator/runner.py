"""Run the simulator: in a background thread (tests, benchmarks) or in the foreground (CLI)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

from resolve311.simulator.config import SimConfig
from resolve311.simulator.engine import Simulation
from resolve311.simulator.server import SimServer


@contextmanager
def run_simulator(config: SimConfig) -> Iterator[str]:
    """Generate the data, serve it from a background thread, yield the base URL; stop on exit.

    Example::

        with run_simulator(SimConfig(scale=0.02, history_days=10)) as url:
            httpx.get(f"{url}/resource/erm2-nwe9.json")
    """
    simulation, server = _start(config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.base_url
    finally:
        simulation.stop_event.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        simulation.close()


def serve_forever(config: SimConfig, out: TextIO = sys.stdout) -> None:
    """Generate, print the base URL as the first line of ``out``, serve until SIGTERM/SIGINT."""
    simulation, server = _start(config)

    def stop(signum: int, frame: FrameType | None) -> None:
        simulation.stop_event.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        print(server.base_url, file=out, flush=True)
        server.serve_forever(poll_interval=0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.server_close()
        simulation.close()


def _start(config: SimConfig) -> tuple[Simulation, SimServer]:
    """Generate the data and bind the server (closing the data again if binding fails)."""
    simulation = Simulation(config)
    try:
        simulation.start()
        return simulation, SimServer((config.host, config.port), simulation)
    except BaseException:
        simulation.close()
        raise
