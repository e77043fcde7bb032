"""Simulator configuration and the parsers of its command-line specs (--faults, --down)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from resolve311.errors import ConfigError
from resolve311.simulator.incidents import Incident

FAULT_KINDS = ("429", "202", "timeout", "reset", "truncate", "empty", "html")


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulator run needs. ``today=None`` means the real date."""

    seed: int = 311
    source: str = "nyc"  # which city's portal to serve (simulator/cities.py)
    today: date | None = None
    history_days: int = 60
    scale: float = 1.0
    faults: tuple[tuple[str, float], ...] = ()
    down: tuple[date, date] | None = None
    replay: tuple[Path, ...] = ()
    data_dir: Path | None = None
    stall_seconds: float = 30.0
    #: how long each data request waits before it is answered (the portal's query time)
    latency_seconds: float = 0.0
    retry_after_seconds: int = 1
    host: str = "127.0.0.1"
    port: int = 0
    memory_limit: str = "1GB"
    incidents: tuple[Incident, ...] = ()  # injected incidents (simulator/incidents.py)

    def today_or_now(self) -> date:
        return self.today or date.today()


def parse_faults(spec: str | None) -> tuple[tuple[str, float], ...]:
    """``"503:0.05,429:0.02,timeout:0.01"`` -> ((kind, probability), ...).

    Kinds: any 5xx status code, 429, 202, timeout, reset, truncate, empty, html.
    The probabilities are per data request and must add up to at most 1.
    """
    if not spec:
        return ()
    out = []
    for part in spec.split(","):
        kind, sep, prob = part.strip().partition(":")
        kind = kind.strip().lower()
        if not sep:
            raise ConfigError(f"bad --faults item {part.strip()!r}: expected KIND:PROBABILITY")
        if kind not in FAULT_KINDS and not (kind.isdigit() and len(kind) == 3 and kind.startswith("5")):
            raise ConfigError(f"unknown fault kind {kind!r} (see docs/simulator.md)")
        try:
            probability = float(prob)
        except ValueError:
            raise ConfigError(f"bad fault probability {prob!r} for {kind}") from None
        if not 0 <= probability <= 1:
            raise ConfigError(f"fault probability for {kind} must be in [0, 1], got {probability}")
        out.append((kind, probability))
    if sum(p for _, p in out) > 1 + 1e-9:
        raise ConfigError("fault probabilities add up to more than 1")
    return tuple(out)


def parse_down(spec: str | None) -> tuple[date, date] | None:
    """``"2024-05-01..2024-05-03"`` -> (first, last) simulated dates, inclusive."""
    if not spec:
        return None
    first, sep, last = spec.partition("..")
    try:
        if not sep:
            raise ValueError
        window = (date.fromisoformat(first.strip()), date.fromisoformat(last.strip()))
    except ValueError:
        raise ConfigError(f"bad --down {spec!r}: expected FROM..TO with ISO dates") from None
    if window[0] > window[1]:
        raise ConfigError(f"bad --down {spec!r}: FROM is after TO")
    return window
