"""Problem sizes of the default (full) run and of ``--quick``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sizes:
    """Every size knob of the benchmarks."""

    today: str = "2024-06-30"
    extract_days: int = 30
    extract_scale: float = 1.0
    extract_page: int = 50_000
    extract_repeats: int = 3  # pulls per client without faults, the clients taking turns (median shown)
    extract_latency: float = (
        1.0  # seconds the simulator waits before answering each data request (latency run)
    )
    fault_scale: float = 0.25
    fault_page: int = 2_000
    load_rows: int = 200_000
    load_page: int = 50_000
    metrics_days: int = 365
    metrics_scale: float = 1.0
    spark: bool = True
    web_repeats: int = 40
    web_target_requests: int = 40_000_000
    direct_repeats: int = 10
    web_load_users: int = 50
    web_load_seconds: float = 120.0
    web_load_days: int = 90
    web_load_scale: float = 0.2
    web_load_normal_priority: bool = True  # the third server run: the writer at normal CPU priority
    publish_days: int = 120
    publish_scale: float = 0.2
    pg_shape_today: str = "2025-06-30"
    pg_shape_days: int = 5479  # 15 years: 2010-06-30..2025-06-30
    pg_shape_scale: float = 0.02
    detection_days: int = 1040
    detection_scale: float = 1.0
    detection_incidents: int = 36
    bulk_rows: int = 2_000_000  # the target is 40M (env RESOLVE311_BENCH_BULK_ROWS overrides)
    scale_rows: int = 40_000_000  # the scale section's history (env RESOLVE311_BENCH_SCALE_ROWS overrides)
    scale_years: int = 15
    scale_today: str = "2024-12-31"
    scale_web_repeats: int = 10
    history_base_scale: float = 1.0  # one simulated year, repeated back in time (bench/metrics_history.py)
    history_years: tuple[float, ...] = (1.2, 4.0, 12.0)  # 12 years ≈ 40M (env RESOLVE311_BENCH_HISTORY_YEARS)
    history_repeats: int = 3  # each refresh of the history section, full and incremental alternated
    cache: Path | None = None  # where built warehouses are kept between runs (None: build every time)


FULL = Sizes()
QUICK = Sizes(
    extract_days=3,
    extract_scale=0.02,
    extract_page=200,
    extract_repeats=1,
    extract_latency=0.05,
    fault_scale=0.02,
    fault_page=100,
    load_rows=2_000,
    load_page=500,
    metrics_days=40,
    metrics_scale=0.02,
    spark=False,
    web_repeats=3,
    web_target_requests=800_000,
    direct_repeats=2,
    web_load_users=10,
    web_load_seconds=4.0,
    web_load_days=30,
    web_load_scale=0.02,
    web_load_normal_priority=False,
    publish_days=40,
    publish_scale=0.02,
    pg_shape_days=60,
    pg_shape_scale=0.01,
    detection_days=760,
    detection_scale=0.3,
    detection_incidents=6,
    bulk_rows=5_000,
    scale_rows=3_000,
    scale_years=1,
    scale_web_repeats=2,
    history_base_scale=0.003,
    history_years=(1.0, 2.0),
    history_repeats=2,
)
