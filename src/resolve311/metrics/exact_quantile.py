"""The exact continuous quantile of DuckDB's ``quantile_cont``, from two order statistics (numpy).

For ``n`` values and quantile ``q`` DuckDB takes the sorted values at ``floor(RN)`` and
``ceil(RN)`` with ``RN = (n - 1) * q`` and interpolates ``lo * (1 - d) + hi * d`` with
``d = RN - floor(RN)``, the product ``lo * (1 - d)`` fused with the sum (one rounding: a fused
multiply-add). This module computes the same positions and the same rounding, so a quantile built
from order statistics found without sorting every value is bit-for-bit the engine's
(tests/unit/metrics/test_exact_quantile.py checks it against DuckDB).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

_SPLIT: Final[float] = 134_217_729.0  # 2**27 + 1 (Veltkamp's splitter for doubles)


def positions(n: Ints, q: float) -> tuple[Ints, Ints, Floats]:
    """0-based ``floor(RN)``, ``ceil(RN)`` and ``d = RN - floor(RN)`` for counts ``n`` (each >= 1)."""
    rn = (n - 1).astype(np.float64) * q
    low = np.floor(rn)
    return low.astype(np.int64), np.ceil(rn).astype(np.int64), rn - low


def interpolate(lo: Floats, hi: Floats, d: Floats, same: npt.NDArray[np.bool_]) -> Floats:
    """``lo`` where ``same`` (floor == ceil), else DuckDB's ``fma(lo, 1 - d, hi * d)``."""
    out: Floats = np.where(same, lo, fma(lo, 1.0 - d, hi * d))
    return out


def fma(a: Floats, b: Floats, c: Floats) -> Floats:
    """``a * b + c`` rounded once (correctly rounded), from error-free transformations."""
    p, e = _two_product(a, b)
    s, t = _two_sum(p, c)
    u, v = _two_sum(t, e)
    r, w = _two_sum(s, u)
    # s + u fell exactly halfway between two doubles (ties to even) while the exact sum is off the
    # midpoint by v: round towards the side v lies on.
    beyond = np.nextafter(r, np.copysign(np.inf, w))
    tie = (w != 0) & (beyond - r == 2 * w) & (np.sign(v) == np.sign(w))
    out: Floats = np.where(tie, beyond, r)
    return out


def _two_product(a: Floats, b: Floats) -> tuple[Floats, Floats]:
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _split(x: Floats) -> tuple[Floats, Floats]:
    c = _SPLIT * x
    hi = c - (c - x)
    return hi, x - hi


def _two_sum(a: Floats, b: Floats) -> tuple[Floats, Floats]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)
