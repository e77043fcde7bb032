"""closed_stats (rows sorted once, ranked in numpy) == DuckDB's grouped quantile queries, to the bit.

Also the counts rolled up by integer level group id (Kaplan–Meier's, the created, cohort and heat
map counts) equal the roll-up by group strings (``definitions.rolled_up`` without a level map).
"""

from __future__ import annotations

import duckdb
import ibis
import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from resolve311.metrics import closed_stats, definitions, km_windows
from resolve311.metrics.definitions import GROUP_COLS, Params
from resolve311.metrics.groups import numbered_groups
from resolve311.metrics.levels import fine_groups, levels_of
from resolve311.metrics.windows import MS_PER_DAY, MS_PER_HOUR

G = list(GROUP_COLS)
AS_OF = 20_000  # the as-of day number
P = Params(AS_OF, (AS_OF + 1) * MS_PER_DAY)


def _requests(seed: int, n: int) -> pd.DataFrame:
    """Closed and open rows of a few groups, closes inside and outside the units, tied hours."""
    rng = np.random.default_rng(seed)
    created = AS_OF - rng.integers(0, 420, n)
    ttc = np.round(rng.exponential(60.0, n), 1)
    ttc[: n // 8] = 0.1  # admin closes, ties
    closed_day = np.minimum(created + (ttc // 24).astype(int) + rng.integers(0, 3, n), AS_OF + 1)
    is_open = rng.random(n) < 0.2
    return pd.DataFrame(
        {
            "agency": rng.choice(["NYPD", "DSNY", "HPD"], n),
            "complaint_type": rng.choice(["Noise", "Heat", "Graffiti", "Rodent", "Odd"], n),
            "borough": rng.choice(["BRONX", "QUEENS", "Unspecified"], n),
            "created_dnum": created.astype("int32"),
            "created_ms": (created * MS_PER_DAY + rng.integers(0, MS_PER_DAY, n)).astype("int64"),
            "closed_dnum": pd.array(np.where(is_open, None, closed_day), dtype="Int32"),
            "ttc_h": pd.array(np.where(is_open, None, ttc), dtype="Float64"),
        }
    )


def _sla() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sla_agency": ["NYPD", "*", "DSNY"],
            "sla_type": ["noise", "heat", "graffiti"],
            "target_hours": [8.0, 48.0, 120.0],
        }
    )


def _sorted(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    return frame.sort_values([*G, "window", key], kind="mergesort").reset_index(drop=True)


def test_numpy_hours_to_close_equal_the_grouped_queries_bit_for_bit() -> None:
    con = duckdb.connect()
    con.register("requests_df", _requests(3, 40_000))
    con.register("sla_df", _sla())
    backend = ibis.duckdb.from_connection(con)
    requests = backend.table("requests_df")
    fine = fine_groups(requests.select(*G).distinct().to_pandas())
    levels = levels_of(fine)
    for sla in (None, backend.table("sla_df")):
        closed = definitions.closed_in_units(requests, P, sla)
        ku = definitions.closed_unit_stats(closed).to_pandas()
        pooled = definitions.closed_unit_stats(closed.filter(closed.bucket == "8w"), by="bucket").to_pandas()
        rows = definitions.closed_rows(requests, P, sla, ibis.memtable(fine)).to_pandas()
        units, eight_weeks = closed_stats.stats(rows, levels)
        assert len(units) > 500
        assert (units["n_on_time"] > 0).any() == (sla is not None)
        pdt.assert_frame_equal(
            _sorted(units, "unit"), _sorted(ku, "unit"), check_exact=True, check_dtype=False
        )
        expected = _sorted(pooled[closed_stats.BUCKET_COLUMNS], "bucket")
        pdt.assert_frame_equal(_sorted(eight_weeks, "bucket"), expected, check_exact=True, check_dtype=False)


def test_km_counts_per_gid_summed_up_in_numpy_equal_the_roll_up_by_group_strings() -> None:
    con = duckdb.connect()
    con.register("requests_df", _requests(5, 20_000))
    requests = ibis.duckdb.from_connection(con).table("requests_df")
    fine = fine_groups(requests.select(*G).distinct().to_pandas())
    levels = levels_of(fine)
    created = definitions.with_gid(definitions.created_in_units(requests, P), ibis.memtable(fine))
    by_gid = definitions.km_counts(created, P).to_pandas()
    by_id = pd.concat(
        [
            km_windows.rolled_up(part.drop(columns="window"), levels).assign(window=window)
            for window, part in by_gid.groupby("window")
        ],
        ignore_index=True,
    )
    cutoff = ibis.literal(P.as_of_ms) - created.ushift * MS_PER_DAY
    age_h = (cutoff - created.created_ms) / float(MS_PER_HOUR)
    event = created.ttc_h.notnull() & (created.ttc_h <= age_h)
    t = created.mutate(event=event, t_hours=definitions.km_time(ibis.ifelse(event, created.ttc_h, age_h)))
    keys = ["window", "unit", "t_hours"]
    counts = {"n_event": t.event.sum(), "n_censored": (~t.event).sum()}
    expected = definitions.rolled_up(t, keys, counts).to_pandas()
    got = levels.decoded(by_id)
    order = [*G, *keys]
    pdt.assert_frame_equal(
        got.sort_values(order).reset_index(drop=True)[expected.columns],
        expected.sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )


def test_stable_order_keeps_equal_keys_in_order_beyond_16_bits() -> None:
    rng = np.random.default_rng(1)
    for size in (5, 1 << 16, (1 << 16) + 3, 1 << 20):
        key = rng.integers(0, size, 50_000).astype(np.int64)
        order = closed_stats.stable_order(key, size)
        np.testing.assert_array_equal(order, np.argsort(key, kind="stable"))


@pytest.mark.parametrize("name", ["cu", "co", "when", "where"])
def test_counts_by_level_id_equal_the_roll_up_by_group_strings(name: str) -> None:
    frame = _requests(7, 20_000)
    rng = np.random.default_rng(8)
    n = len(frame)
    placed = rng.random(n) < 0.9
    frame = frame.assign(
        is_dirty=rng.random(n) < 0.1,
        weekday=rng.integers(0, 7, n).astype("int32"),
        created_hour=rng.integers(0, 24, n).astype("int32"),
        lat=np.where(placed, 40.5 + 0.4 * rng.random(n), np.nan),
        lon=np.where(placed, -74.2 + 0.4 * rng.random(n), np.nan),
    )
    con = duckdb.connect()
    con.register("requests_df", frame)
    requests = ibis.duckdb.from_connection(con).table("requests_df")
    groups = numbered_groups(requests)
    created = definitions.created_in_units(requests, P)
    ids = definitions.with_gid(created, groups.table)
    by_strings, by_id = {
        "cu": (
            definitions.created_unit_counts(created),
            definitions.created_unit_counts(ids, groups.level_map),
        ),
        "co": (
            definitions.cohort_unit_counts(definitions.cohort_rows(requests, P), P),
            definitions.cohort_unit_counts(
                definitions.cohort_rows(definitions.with_gid(requests, groups.table), P), P, groups.level_map
            ),
        ),
        "when": (definitions.heat_when_counts(created), definitions.heat_when_counts(ids, groups.level_map)),
        "where": (
            definitions.heat_where_counts(created, 0.01),
            definitions.heat_where_counts(ids, 0.01, groups.level_map),
        ),
    }[name]
    expected = by_strings.to_pandas()
    got = groups.levels.decoded(by_id.to_pandas())
    order = list(expected.columns)
    assert len(expected) > 100
    pdt.assert_frame_equal(
        got[order].sort_values(order).reset_index(drop=True),
        expected.sort_values(order).reset_index(drop=True),
        check_dtype=False,
    )
