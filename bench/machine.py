"""The machine and software a benchmark ran on (for the report's header)."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

LIBRARIES = ("duckdb", "ibis-framework", "pyarrow", "pandas", "pyspark", "sodapy", "dash", "httpx", "numpy")


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def ram_gib() -> float:
    import psutil

    return psutil.virtual_memory().total / 2**30


def os_name() -> str:
    release = Path("/etc/os-release")
    if release.is_file():
        for line in release.read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"') + f" (Linux {platform.release()})"
    return platform.platform()


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def java_version() -> str:
    import subprocess

    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "not found"
    first = (done.stderr or done.stdout).strip().splitlines()
    return first[0] if first else "unknown"


def git_commit() -> str:
    """The checked-out commit (short hash), marked when the code (src/, bench/) has uncommitted changes.

    The results the benchmark itself writes (bench/results/, from an earlier section of the same run)
    do not count: the code measured is still the commit's.
    """
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=30, check=False)
        return done.stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        dirty = git(
            "status", "--porcelain", "--untracked-files=no", "--", "src", "bench", ":(exclude)bench/results"
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return f"{head}{' (with uncommitted changes in src/ or bench/)' if dirty else ''}" if head else "unknown"


def machine_lines() -> list[str]:
    """Markdown bullet lines describing this machine."""
    libs = ", ".join(f"{k} {v}" for k, v in library_versions().items())
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- Code: resolve311 at commit {git_commit()}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- RAM: {ram_gib():.1f} GiB",
        f"- OS: {os_name()}",
        f"- Python: {sys.version.split()[0]} ({platform.python_implementation()})",
        f"- Java (for Spark): {java_version()}",
        f"- Libraries: {libs}",
        f"- Load average when the run started (1/5/15 min): {load}",
    ]
