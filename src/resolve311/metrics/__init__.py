"""Performance metrics: portable definitions (DuckDB or Spark), incremental refresh, serving snapshot.

Entry points: :func:`resolve311.metrics.refresh.refresh_metrics` and
:func:`resolve311.metrics.snapshot.status_results` (the results publishing hands to every
sink, ``resolve311.publish``). Formulas: docs/metrics.md.
"""
