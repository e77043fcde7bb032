"""Which city the simulator serves: its datasets, columns and calibration tables, as data.

The generator core is one (NYC-shaped requests, see generator.py). A city other
than NYC is a *projection* of those requests, described by
``data/cities/<name>.toml``: the datasets it publishes, each published column
as a SQL expression over the generated request ``n`` and one weighted draw
from each of the city's calibration tables (CSV files next to the TOML, e.g.
types ``t`` and places ``p``, derived from the real files by
``calibrate_cities``; ``{name}`` in an expression stands for the TOML's
``[let]`` expression of that name). The lifecycle, the
clock, the faults and the dirty rates stay the generator's.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from resolve311.errors import ConfigError
from resolve311.simulator.soql import NYC_TABLE, SoqlTable, city_table

CITIES_DIR = Path(__file__).parent / "data" / "cities"
#: A draw from a calibrated table picks one of this many equal buckets.
BUCKETS = 10_000
#: NYC's datasets: id -> (name, predicate over ``rows``).
NYC_DATASETS: dict[str, tuple[str, str]] = {
    "erm2-nwe9": (
        "311 Service Requests from 2020 to Present",
        "created_date >= TIMESTAMP '2020-01-01 00:00:00'",
    ),
    "76ig-c548": ("311 Service Requests from 2010 to 2019", "created_date < TIMESTAMP '2020-01-01 00:00:00'"),
    "fhrw-4uyv": ("311 Service Requests from 2010 to Present", "TRUE"),
}
#: SQL macros a city's column expressions may use: a uniform draw in [0, 1) and a standard normal one.
MACROS = (
    "CREATE OR REPLACE MACRO sim_u(k, tag) AS (hash(CAST(k AS VARCHAR) || tag) % 1000000) / 1000000.0",
    "CREATE OR REPLACE MACRO sim_z(k, tag) AS "
    "sqrt(-2 * ln(1 - sim_u(k, tag || '#a'))) * cos(2 * pi() * sim_u(k, tag || '#b'))",
    "CREATE OR REPLACE MACRO sim_pick(items, k, tag) AS list_extract(string_split(items, '|'), "
    "1 + CAST(hash(CAST(k AS VARCHAR) || tag) % len(string_split(items, '|')) AS INTEGER))",
)


@dataclass(frozen=True)
class SimColumn:
    """One published column: its field name, SoQL kind and SQL over ``n``, ``t`` and ``p``."""

    name: str
    kind: str
    sql: str


@dataclass(frozen=True)
class SimSchema:
    """What one simulated portal publishes."""

    name: str
    datasets: dict[str, tuple[str, str]]  # id -> (display name, predicate over ``rows``)
    total_dataset: str | None  # the dataset holding every row (None: their sum)
    row_key: str  # the ``rows`` column naming a request across refreshes
    columns: tuple[SimColumn, ...] = ()  # empty: NYC's own columns, no projection
    search: tuple[str, ...] = ()
    tables: tuple[tuple[str, Path], ...] = ()  # (alias, calibration CSV) drawn once per request
    volume: float = 1.0  # the city's daily volume as a share of NYC's

    @property
    def is_projection(self) -> bool:
        return bool(self.columns)

    @property
    def soql(self) -> SoqlTable:
        if not self.is_projection:
            return NYC_TABLE
        return city_table([(c.name, c.kind) for c in self.columns], self.search)

    def total(self, counts: dict[str, int]) -> int:
        return counts[self.total_dataset] if self.total_dataset else sum(counts.values())

    def project_sql(self, nyc_sql: str) -> str:
        """The city's rows from the SELECT of NYC-shaped current rows (identity for NYC)."""
        if not self.is_projection:
            return nyc_sql
        cols = ",\n  ".join(f"{c.sql} AS {_quote(c.name)}" for c in self.columns)
        joins = "".join(
            f"\nJOIN sim_{alias} {alias} ON {alias}.bucket = "
            f"CAST(hash(n.unique_key || '#{alias}') % {BUCKETS} AS INTEGER)"
            for alias, _ in self.tables
        )
        return (
            f'SELECT n.":id", n.":created_at", n.":updated_at", n.unique_key AS {self.row_key},\n  {cols}\n'
            f"FROM ({nyc_sql}) n{joins}"
        )

    def prepare(self, con: duckdb.DuckDBPyConnection) -> None:
        """Create the lookup tables and macros the projection reads (nothing for NYC)."""
        if not self.is_projection:
            return
        for macro in MACROS:
            con.execute(macro)
        for alias, path in self.tables:
            name = f"sim_{alias}"
            con.register(f"{name}_arrow", bucket_table(read_weighted(path)))
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM {name}_arrow")
            con.unregister(f"{name}_arrow")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_weighted(path: Path) -> list[dict[str, str]]:
    """Rows of a calibration CSV (a ``weight`` column and any others)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def bucket_table(rows: list[dict[str, str]]) -> pa.Table:
    """BUCKETS rows: each calibration row repeated in proportion to its weight (largest remainder)."""
    if not rows:
        raise ConfigError("a simulator calibration table is empty")
    weights = [float(r["weight"]) for r in rows]
    total = sum(weights)
    exact = [w / total * BUCKETS for w in weights]
    counts = [int(e) for e in exact]
    by_remainder = sorted(range(len(rows)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: BUCKETS - sum(counts)]:
        counts[i] += 1
    picked = [i for i, n in enumerate(counts) for _ in range(n)]
    columns: dict[str, Any] = {"bucket": pa.array(range(BUCKETS), pa.int32())}
    for name in rows[0]:
        if name != "weight":
            columns[name] = pa.array([rows[i][name] or None for i in picked], pa.string())
    return pa.table(columns)


def _expand(sql: str, lets: dict[str, str]) -> str:
    """``{name}`` -> ``(the [let] expression)``, repeatedly (a let may use earlier lets)."""
    for _ in range(len(lets) + 1):
        for name, expr in lets.items():
            sql = sql.replace("{" + name + "}", f"({expr})")
    return sql


def _schema_from_toml(name: str, data: dict[str, Any], origin: str) -> SimSchema:
    try:
        lets = {str(k): str(v) for k, v in dict(data.get("let", {})).items()}
        datasets = {str(d["id"]): (str(d["name"]), str(d.get("where", "TRUE"))) for d in data["datasets"]}
        columns = tuple(
            SimColumn(str(c["name"]), str(c["kind"]), _expand(str(c["sql"]), lets)) for c in data["columns"]
        )
        tables = tuple((str(alias), CITIES_DIR / str(csv_name)) for alias, csv_name in data["tables"].items())
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{origin}: missing {exc} in simulated city") from None
    return SimSchema(
        name=name,
        datasets=datasets,
        total_dataset=data.get("total_dataset"),
        row_key="__key",
        columns=columns,
        search=tuple(str(s) for s in data.get("search", ())),
        tables=tables,
        volume=float(data.get("volume", 1.0)),
    )


def simulated_cities() -> list[str]:
    """Every city the simulator can serve."""
    return ["nyc", *sorted(p.stem for p in CITIES_DIR.glob("*.toml"))]


@cache
def sim_schema(name: str = "nyc") -> SimSchema:
    """The schema of city ``name`` (ConfigError listing the known ones otherwise)."""
    if name == "nyc":
        return SimSchema(name="nyc", datasets=NYC_DATASETS, total_dataset="fhrw-4uyv", row_key="unique_key")
    path = CITIES_DIR / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(simulated_cities())
        raise ConfigError(f"the simulator has no city {name!r} (known: {known})")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return _schema_from_toml(name, data, str(path))
