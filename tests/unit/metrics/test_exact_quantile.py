"""exact_quantile reproduces DuckDB's quantile_cont bit for bit, and its fma rounds once."""

from __future__ import annotations

from fractions import Fraction

import duckdb
import numpy as np

from resolve311.metrics.exact_quantile import fma, interpolate, positions


def _ours(values: np.ndarray, q: float) -> float:
    ordered = np.sort(values)
    n = np.array([len(values)], dtype=np.int64)
    low, high, d = positions(n, q)
    return float(interpolate(ordered[low], ordered[high], d, low == high)[0])


def test_quantile_cont_bit_for_bit_against_duckdb() -> None:
    rng = np.random.default_rng(7)
    con = duckdb.connect()
    groups = []
    for _ in range(600):
        n = int(rng.integers(1, 300))
        groups.append(rng.integers(0, 10**12, n) / 3_600_000.0)
    frame = {
        "g": np.concatenate([np.full(len(v), i) for i, v in enumerate(groups)]),
        "a": np.concatenate(groups),
    }
    con.register("t", frame)
    got = dict(con.execute("SELECT g, quantile_cont(a, [0.5, 0.9]) FROM t GROUP BY g").fetchall())
    differ = [
        (g, q)
        for g, values in enumerate(groups)
        for i, q in enumerate((0.5, 0.9))
        if _ours(values, q) != got[g][i]
    ]
    assert differ == []


def test_fma_is_correctly_rounded() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 10**12, 20_000) / 3_600_000.0
    b = 1.0 - rng.random(20_000)
    c = rng.random(20_000) * 1e5
    ours = fma(a, b, c)
    exact = [float(Fraction(x) * Fraction(y) + Fraction(z)) for x, y, z in zip(a, b, c, strict=True)]
    assert ours.tolist() == exact
    plain = (a * b + c).tolist()
    assert plain != exact  # the two roundings differ somewhere: the test can tell them apart


def test_fma_rounds_a_hidden_tie_towards_the_exact_value() -> None:
    # a * b rounds to 2**-53, and 1 + 2**-53 is halfway between 1 and its successor (ties to
    # even: 1); the exact product is a little more than 2**-53, so the exact sum is past halfway
    a = np.array([1.0 + 2.0**-52])
    b = np.array([2.0**-53 - 2.0**-106])
    c = np.array([1.0])
    exact = float(Fraction(a[0]) * Fraction(b[0]) + Fraction(c[0]))
    assert exact == 1.0 + 2.0**-52
    assert fma(a, b, c).tolist() == [exact]
    assert (a * b + c).tolist() == [1.0]
