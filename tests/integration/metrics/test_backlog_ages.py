"""backlog_ages (sorted once, prefix counts) == a row per request × moment grouped by DuckDB, to the bit."""

from __future__ import annotations

import duckdb
import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pandas.testing as pdt

from resolve311.metrics import backlog, backlog_ages
from resolve311.metrics.definitions import GROUP_COLS, at_levels, median_p90, split_median_p90
from resolve311.metrics.levels import fine_groups, levels_of
from resolve311.metrics.windows import MS_PER_DAY, MS_PER_HOUR

G = list(GROUP_COLS)
FIRST = 1_700_000_000_000  # the first moment (ms)
MOMENTS = [FIRST + k * 7 * MS_PER_DAY for k in range(9)] + [FIRST + 3 * MS_PER_DAY]


def _prepared(frame: pd.DataFrame) -> backlog_ages.Sorted:
    """:func:`backlog_ages.prepare` of a frame with the group strings (numbered here as the refresh
    numbers them: fine groups, then their levels)."""
    fine = fine_groups(frame)
    gid = frame[G].merge(fine, on=G, how="left")["gid"].to_numpy(dtype=np.int64)
    columns = (frame[c].to_numpy(dtype=np.int64) for c in ("created_ms", "open_until"))
    return backlog_ages.prepare(gid, *columns, levels_of(fine))


def _open_requests(seed: int, n: int) -> pd.DataFrame:
    """Requests of a few groups (NULL borough included): old never-closed ones, closes between moments,
    requests created after some moments, equal creation times."""
    rng = np.random.default_rng(seed)
    created = FIRST - rng.integers(-70 * MS_PER_DAY, 900 * MS_PER_DAY, n)
    created[: n // 10] = created[0]  # ties
    life = rng.integers(1, 120 * MS_PER_DAY, n)
    until = np.where(rng.random(n) < 0.4, 2**62, created + life)
    return pd.DataFrame(
        {
            "agency": rng.choice(["NYPD", "DSNY", "HPD"], n),
            "complaint_type": rng.choice(["Noise", "Heat", "Graffiti", "Rodent"], n),
            "borough": rng.choice(np.array(["BRONX", "QUEENS", None], dtype=object), n),
            "created_ms": created.astype("int64"),
            "open_until": until.astype("int64"),
        }
    )


def _backlog_rows(latest: ir.Table, moments: list[int]) -> ir.Table:
    """The reference: a row per request open at each moment (group columns, ``moment_ms``, ``age_h``)."""
    m_table = ibis.memtable(pd.DataFrame({"moment_ms": pd.Series(sorted(set(moments)), dtype="int64")}))
    vm = latest.cross_join(m_table)
    vm = vm.filter((vm.created_ms <= vm.moment_ms) & (vm.moment_ms < vm.open_until))
    return vm.select(*G, "moment_ms", age_h=(vm.moment_ms - vm.created_ms) / float(MS_PER_HOUR))


def _grouped(rows: ir.Table, by: list[str], **extra: ir.Value) -> ir.Table:
    """Exact median/p90 age (DuckDB's GROUP BY quantile) per ``by`` at every level."""
    stats = rows.group_by(by).aggregate(q=median_p90(rows.age_h), **extra)
    return split_median_p90(stats, "q", "backlog_age_median_h", "backlog_age_p90_h")


def _reference(frame: pd.DataFrame, pools: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    con = duckdb.connect()
    con.register("open_requests", frame)
    backend = ibis.duckdb.from_connection(con)
    rows = at_levels(_backlog_rows(backlog.open_versions(backend.table("open_requests"), MOMENTS), MOMENTS))
    per_moment = _grouped(rows, [*G, "moment_ms"], backlog_end=rows.count()).to_pandas()
    joined = rows.inner_join(ibis.memtable(pools), "moment_ms")
    pooled = _grouped(joined, [*G, "window", "bucket"]).to_pandas()
    return per_moment, pooled


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.astype({c: object for c in G}).fillna({c: "<null>" for c in G})
    return out.sort_values(keys).reset_index(drop=True)


def test_per_moment_and_pooled_ages_equal_the_group_by() -> None:
    frame = _open_requests(11, 4_000)
    pools = pd.DataFrame(
        {
            "moment_ms": MOMENTS[1:9] + MOMENTS[:1],
            "window": ["7d"] * 8 + ["1d"],
            "bucket": ["8w"] * 8 + ["recent"],
        }
    )
    per_moment_ref, pooled_ref = _reference(frame, pools)
    opened = _prepared(backlog.open_versions(ibis.memtable(frame), MOMENTS).to_pandas())
    per_moment = backlog_ages.per_moment(opened, sorted(set(MOMENTS)))
    keys = [*G, "moment_ms"]
    assert len(per_moment) > 40 and per_moment["backlog_end"].max() > 100
    pdt.assert_frame_equal(
        _sorted(per_moment, keys), _sorted(per_moment_ref[per_moment.columns], keys), check_exact=True
    )
    parts = [
        backlog_ages.pooled(opened, sorted(part["moment_ms"].tolist())).assign(window=w, bucket=b)
        for (w, b), part in pools.groupby(["window", "bucket"])
    ]
    pooled = pd.concat(parts, ignore_index=True)
    keys = [*G, "window", "bucket"]
    pdt.assert_frame_equal(_sorted(pooled, keys), _sorted(pooled_ref[pooled.columns], keys), check_exact=True)


def test_no_open_request_gives_empty_frames() -> None:
    frame = _open_requests(3, 50).iloc[:0]
    opened = _prepared(frame)
    assert backlog_ages.per_moment(opened, MOMENTS).empty
    assert backlog_ages.pooled(opened, MOMENTS[:3]).empty
