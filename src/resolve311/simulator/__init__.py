"""The SODA-compatible simulator: calibrated 311 data (NYC, Chicago, SF) behind a local Socrata-like API.

Public entry points: :class:`SimConfig`, :func:`run_simulator` (background thread,
yields the base URL), :func:`serve_forever` (the CLI), and
:func:`resolve311.simulator.batches.write_parquet` (the generator on its own).
Nothing is imported eagerly beyond these names' modules.
"""

from __future__ import annotations

from resolve311.simulator.config import SimConfig
from resolve311.simulator.runner import run_simulator, serve_forever

__all__ = ["SimConfig", "run_simulator", "serve_forever"]
