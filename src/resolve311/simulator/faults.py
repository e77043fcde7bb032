"""Deterministic fault injection: one draw per data request from a seeded generator."""

from __future__ import annotations

import random
import threading
from datetime import date

from resolve311.simulator.config import SimConfig


class FaultPlan:
    """Decides, request by request, which fault (if any) to inject.

    The n-th data request (oracle requests excluded) always gets the same
    decision for a given seed and spec.
    """

    def __init__(self, config: SimConfig):
        self.faults = config.faults
        self.down = config.down
        self._random = random.Random(f"faults-{config.seed}")
        self._lock = threading.Lock()
        self.injected: dict[str, int] = {}

    def is_down(self, today: date) -> bool:
        return self.down is not None and self.down[0] <= today <= self.down[1]

    def draw(self, today: date) -> str | None:
        """The fault for the next data request: a kind from the spec, ``"down"``, or None."""
        with self._lock:
            roll = self._random.random()
            kind = "down" if self.is_down(today) else self._pick(roll)
            if kind:
                self.injected[kind] = self.injected.get(kind, 0) + 1
            return kind

    def _pick(self, roll: float) -> str | None:
        edge = 0.0
        for kind, probability in self.faults:
            edge += probability
            if roll < edge:
                return kind
        return None
