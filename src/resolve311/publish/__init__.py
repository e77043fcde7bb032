"""Publishing: one interface, several sinks (docs/consumers.md).

The metrics stage writes the serving snapshot (a DuckDB file, ``metrics/snapshot.py``).
That file is the *release*; :func:`publish_release` then copies it to every configured
sink — the serving file itself, the open Parquet lake (``lake_url``) and PostgreSQL
(``publish_url``) — and records each sink's outcome in the warehouse ``publishes``
table. A failing sink never stops the others, nor the dashboard (which reads the
serving file); it is published again by the next run.

Adding a sink: one module with a class that has ``name`` and ``publish(release, warehouse)``
(see :class:`resolve311.publish.base.Sink`) and a ``from_settings`` factory listed in
``sinks.py``, a setting in ``settings.py`` and a section in docs/consumers.md.
"""

from __future__ import annotations

from resolve311.publish.run import Outcome, publish_release

__all__ = ["Outcome", "publish_release"]
