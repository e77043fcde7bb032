"""Performance metrics: portable definitions (DuckDB or Spark), incremental refresh, serving snapshot.

Entry points: :func:`resolve311.metrics.refresh.refresh_metrics` and
:func:`resolve311.metrics.snapshot.publish_status`. Formulas: docs/metrics.md.
"""
