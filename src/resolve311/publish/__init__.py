"""Publishing: one interface, several sinks (docs/consumers.md).

The metrics stage produces results (``metrics.snapshot.Results``); :func:`publish_results`
builds them once into a release (a complete serving snapshot in a temporary DuckDB file)
and hands that same release to every configured sink, in order — the serving file the
dashboard reads (``serving.py``, the one required sink), the open Parquet lake
(``lake_url``) and PostgreSQL (``publish_url``) — recording each sink's outcome in the
warehouse ``publishes`` table. A failing optional sink never stops the others, nor the
dashboard; it is published again by the next run. :func:`publish_release` republishes
the serving file in place (``resolve311 publish``).

Adding a sink: one module with a class that has ``name``, ``required``, a
``from_settings`` classmethod and ``publish(release, warehouse)`` (see
:class:`resolve311.publish.base.Sink`), one line in ``SINKS`` (``sinks.py``), a setting in
``settings.py`` and a section in docs/consumers.md.
"""

from __future__ import annotations

from resolve311.publish.run import Outcome, publish_release, publish_results, refresh_and_publish

__all__ = ["Outcome", "publish_release", "publish_results", "refresh_and_publish"]
