"""Run one contender in its own Python process; time it and sample its peak memory.

Each contender is a function ``module:function(**kwargs) -> dict`` run by
``python -m bench.child``. Running each one in a fresh process keeps peak-memory
figures separate (the peak resident set of the process *tree*, so Spark's JVM
counts) and keeps one contender's crash from ending the benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

RESULT_PREFIX = "BENCH-RESULT "
SAMPLE_S = 0.05
NO_CONFIG = "/nonexistent/resolve311.toml"


@dataclass
class Measured:
    """The outcome of one isolated contender."""

    seconds: float  # wall time of the function call itself (measured inside the child)
    peak_rss_mb: float  # peak resident memory of the child process and its children
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total


class _PeakSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, _tree_rss(self.proc))
            except psutil.NoSuchProcess:
                return
            self.stop.wait(SAMPLE_S)


def run_isolated(
    target: str, kwargs: dict[str, Any], *, timeout_s: float = 1800, env: dict[str, str] | None = None
) -> Measured:
    """Run ``target`` ("bench.module:function") with JSON ``kwargs`` in a child process."""
    cmd = [sys.executable, "-m", "bench.child", target, json.dumps(kwargs, default=str)]
    env = _clean_env(env)
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )  # fmt: skip
    sampler = _PeakSampler(proc.pid)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        out, err = proc.communicate()
        err = f"timed out after {timeout_s:.0f} s\n{err}"
    finally:
        sampler.stop.set()
        sampler.join()
    return _parse(out, err, proc.returncode, sampler.peak / 2**20)


def _clean_env(env: dict[str, str] | None) -> dict[str, str]:
    """The environment without a machine's config file or token: runs are reproducible and token-free."""
    clean = dict(os.environ if env is None else env)
    clean.pop("SOCRATA_APP_TOKEN", None)
    clean["RESOLVE311_CONFIG"] = NO_CONFIG
    return clean


def _kill_tree(proc: subprocess.Popen[str]) -> None:
    try:
        parent = psutil.Process(proc.pid)
        for child in parent.children(recursive=True):
            child.kill()
    except psutil.NoSuchProcess:
        pass
    proc.kill()


def _parse(out: str, err: str, code: int | None, peak_mb: float) -> Measured:
    for line in reversed(out.splitlines()):
        if line.startswith(RESULT_PREFIX):
            payload = json.loads(line[len(RESULT_PREFIX) :])
            return Measured(payload["seconds"], peak_mb, payload.get("result") or {}, payload.get("error"))
    last = (err.strip().splitlines() or [f"exit code {code}"])[-1]
    return Measured(float("nan"), peak_mb, {}, f"child process failed: {last[:300]}")
