"""Injected incidents: ``AGENCY:metric:factor:FROM..TO`` (``resolve311 simulate --incident``).

``metric`` is ``ttc`` (requests created in the period take ``factor`` times
longer to close), ``volume`` (``factor`` times the agency's requests each day)
or ``backlog`` (a share ``1 − 1/factor`` of the closes due in the period are
withheld until the day after it). Dates are simulated local days, inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from resolve311.errors import ConfigError

INCIDENT_METRICS: Final[tuple[str, ...]] = ("ttc", "volume", "backlog")


@dataclass(frozen=True)
class Incident:
    agency: str
    metric: str
    factor: float
    first: date
    last: date

    def covers(self, agency: str, metric: str, day: date) -> bool:
        return self.agency == agency and self.metric == metric and self.first <= day <= self.last


def parse_incident(spec: str) -> Incident:
    """``"DSNY:ttc:2.0:2026-10-01..2026-10-14"`` -> Incident (ConfigError with the reason otherwise)."""
    parts = spec.strip().split(":")
    if len(parts) != 4:
        raise ConfigError(f"bad --incident {spec!r}: expected AGENCY:METRIC:FACTOR:FROM..TO")
    agency, metric, factor_text, period = (p.strip() for p in parts)
    if not agency:
        raise ConfigError(f"bad --incident {spec!r}: the agency is empty")
    if metric not in INCIDENT_METRICS:
        raise ConfigError(f"bad --incident {spec!r}: metric must be one of {', '.join(INCIDENT_METRICS)}")
    try:
        factor = float(factor_text)
    except ValueError:
        raise ConfigError(f"bad --incident {spec!r}: factor {factor_text!r} is not a number") from None
    if not 0 < factor <= 100:
        raise ConfigError(f"bad --incident {spec!r}: factor must be in (0, 100]")
    first_text, sep, last_text = period.partition("..")
    try:
        if not sep:
            raise ValueError
        first, last = date.fromisoformat(first_text), date.fromisoformat(last_text)
    except ValueError:
        raise ConfigError(f"bad --incident {spec!r}: expected FROM..TO with ISO dates") from None
    if first > last:
        raise ConfigError(f"bad --incident {spec!r}: FROM is after TO")
    return Incident(agency.upper(), metric, factor, first, last)


def parse_incidents(specs: tuple[str, ...] | list[str]) -> tuple[Incident, ...]:
    return tuple(parse_incident(s) for s in specs)
