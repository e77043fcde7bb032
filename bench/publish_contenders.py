"""What the publish benchmark times, each call in its own process.

A lake publish (full into an empty lake, or incremental), a PostgreSQL publish of
the serving snapshot, and a full metrics refresh on a chosen Spark master.
"""

from __future__ import annotations

from typing import Any


def _release(home: str, **settings: Any) -> Any:
    from resolve311.publish.run import current_release
    from resolve311.settings import load_settings

    release = current_release(load_settings(home=home, **settings))
    if release is None:
        raise RuntimeError(f"no serving snapshot in {home}")
    return release


def lake(home: str, lake_url: str) -> dict[str, Any]:
    """Publish the warehouse and the snapshot to the lake at ``lake_url``."""
    from resolve311.publish.lake import LakeSink
    from resolve311.warehouse.connection import open_warehouse

    release = _release(home, lake_url=lake_url)
    with open_warehouse(release.settings.warehouse_path) as con:
        detail = LakeSink(lake_url).publish(release, con)
    return {"detail": detail}


def postgres(home: str, url: str, schema: str = "resolve311") -> dict[str, Any]:
    """Publish the serving snapshot to PostgreSQL (staging load + swap) into ``schema``."""
    from resolve311.publish.postgres import PostgresSink
    from resolve311.warehouse.connection import open_warehouse

    release = _release(home)
    with open_warehouse(release.settings.warehouse_path) as con:
        detail = PostgresSink(url, schema).publish(release, con)
    return {"detail": detail, "pg_mb": _schema_mb(url, schema)}


def _schema_mb(url: str, schema: str) -> float:
    """MB of the tables (with their indexes) of ``schema``."""
    import psycopg

    with psycopg.connect(url) as pg:
        row = pg.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind = 'r'",
            [schema],
        ).fetchone()
    return float(row[0]) / 2**20 if row else 0.0


def refresh(home: str, engine: str, master: str, lake_url: str | None) -> dict[str, Any]:
    """A full metrics refresh on ``engine`` (Spark: on ``master``, inputs through the lake for a cluster)."""
    from resolve311.publish import refresh_and_publish
    from resolve311.settings import load_settings

    settings = load_settings(home=home, engine=engine, spark_master=master, lake_url=lake_url)
    report = refresh_and_publish(settings, full=True, engine=engine)
    return {"scorecard_rows": report.rows.get("scorecard", 0)}
