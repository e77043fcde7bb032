"""Processes: one way to stop a child, one way for a data command to step back for the dashboard."""

from __future__ import annotations

import os
import subprocess
from typing import Any


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> int:
    """SIGTERM ``process`` if it still runs, wait up to ``timeout`` s, then SIGKILL; its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def lower_priority(niceness: int) -> int:
    """Raise this process's CPU nice value to ``niceness`` (never lower it); the value now.

    Called by the data commands before they open anything, so every thread they start
    (DuckDB's workers, a Spark JVM) inherits it. 0, or a platform without ``os.nice``,
    changes nothing.
    """
    if niceness <= 0 or not hasattr(os, "nice"):
        return 0
    current = os.nice(0)
    return os.nice(niceness - current) if current < niceness else current
