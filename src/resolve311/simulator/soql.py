"""SoQL queries ($select, $where, $order, $group, $having, $limit, $offset, $q, $query) to DuckDB SQL.

Pure: :func:`from_params` and :func:`from_query_text` build a :class:`Query`,
:meth:`Query.sql` the SQL over the simulator's ``rows`` table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resolve311.schema import SODA_COLUMNS, SYSTEM_FIELDS
from resolve311.simulator.soql_parse import (
    FIXED,
    FLOATING,
    NUMBER,
    POINT,
    TEXT,
    Expr,
    ExprParser,
    SoqlError,
    quote_ident,
    quote_text,
    tokenize,
)

DEFAULT_LIMIT = 1000
_KIND = {"text": TEXT, "timestamp": FLOATING, "number": NUMBER}
#: SoQL type of every column a query may name.
COLUMN_TYPES: dict[str, str] = {
    ":id": TEXT,
    ":created_at": FIXED,
    ":updated_at": FIXED,
    **{name: (POINT if name == "location" else _KIND[kind]) for name, kind in SODA_COLUMNS},
}
SEARCH_COLUMNS = ("complaint_type", "descriptor", "incident_address", "resolution_description")


@dataclass(frozen=True)
class OutputColumn:
    """One column of the answer: its name, SoQL type and SQL."""

    name: str
    kind: str
    sql: str


@dataclass(frozen=True)
class SoqlTable:
    """What a query may name: column types, the ``*`` columns and the ``$q`` search columns."""

    types: Mapping[str, str]
    star: tuple[OutputColumn, ...]
    search: tuple[str, ...]


_CLAUSES = ("select", "where", "group", "having", "order", "limit", "offset", "search")


@dataclass
class Query:
    """A parsed SoQL query."""

    columns: list[OutputColumn]
    where: list[str] = field(default_factory=list)
    group: list[str] = field(default_factory=list)
    having: str | None = None
    order: list[str] = field(default_factory=list)
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    aggregate: bool = False

    def sql(self, table: str, dataset_filter: str) -> str:
        """SELECT over ``table``; output columns are named c0, c1, ...

        An ordered row query picks its page by ``rowid`` first and reads the wide
        columns of that page only (much faster than sorting whole rows).
        """
        select = ", ".join(f"{c.sql} AS c{i}" for i, c in enumerate(self.columns))
        where = " AND ".join([dataset_filter, *self.where])
        if self.order and not self.group and not self.aggregate:
            order = ", ".join(self.order)
            page = f"SELECT rowid FROM {table} WHERE {where} ORDER BY {order} LIMIT {self.limit} OFFSET {self.offset}"
            return f"SELECT {select} FROM {table} WHERE rowid IN ({page}) ORDER BY {order}"
        parts = [f"SELECT {select} FROM {table} WHERE {where}"]
        if self.group:
            parts.append("GROUP BY " + ", ".join(self.group))
        if self.having:
            parts.append("HAVING " + self.having)
        if self.order:
            parts.append("ORDER BY " + ", ".join(self.order))
        parts.append(f"LIMIT {self.limit} OFFSET {self.offset}")
        return " ".join(parts)


def _nyc_star_columns() -> list[OutputColumn]:
    out = []
    for name, _ in SODA_COLUMNS:
        kind = COLUMN_TYPES[name]
        sql = "struct_pack(lat := latitude, lon := longitude)" if kind == POINT else quote_ident(name)
        if kind == POINT:
            sql = f"CASE WHEN latitude IS NOT NULL AND longitude IS NOT NULL THEN {sql} END"
        out.append(OutputColumn(name, kind, sql))
    return out


def system_columns() -> list[OutputColumn]:
    return [OutputColumn(name, COLUMN_TYPES[name], quote_ident(name)) for name in SYSTEM_FIELDS]


#: NYC's table (the SODA columns of schema.py).
NYC_TABLE = SoqlTable(types=COLUMN_TYPES, star=tuple(_nyc_star_columns()), search=SEARCH_COLUMNS)


def city_table(columns: list[tuple[str, str]], search: tuple[str, ...]) -> SoqlTable:
    """The table of a city's schema: (name, SoQL kind) pairs, every column read as stored."""
    types = {name: kind for name, kind in COLUMN_TYPES.items() if name in SYSTEM_FIELDS}
    types.update(dict(columns))
    star = tuple(OutputColumn(name, kind, quote_ident(name)) for name, kind in columns)
    return SoqlTable(types=types, star=star, search=search)


def _split_top_level(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Split on commas outside parentheses."""
    groups: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for token in tokens:
        if token == ("op", "("):
            depth += 1
        elif token == ("op", ")"):
            depth -= 1
        if token == ("op", ",") and depth == 0:
            groups.append([])
        else:
            groups[-1].append(token)
    return groups


def _parse_full(parser: ExprParser) -> Expr:
    expr = parser.expression()
    if parser.peek()[0] != "end":
        raise parser.malformed(f"unexpected {parser.peek()[1]!r}")
    return expr


def parse_select(
    text: str, aliases: dict[str, Expr], table: SoqlTable = NYC_TABLE
) -> tuple[list[OutputColumn], bool]:
    """Output columns of a $select; also whether any is an aggregate. Fills ``aliases``."""
    columns: list[OutputColumn] = []
    aggregate = False
    for group in _split_top_level(tokenize(text)):
        if group in ([("op", "*")], [("name", "*")]):
            columns.extend(table.star)
            continue
        if group == [("name", ":*")]:
            columns.extend(system_columns())
            continue
        if not group:
            raise SoqlError("query.compiler.malformed", "Could not parse SoQL query: empty select item")
        alias = None
        if len(group) >= 3 and group[-2][0] == "name" and group[-2][1].lower() == "as":
            alias, group = group[-1][1], group[:-2]
        expr = _parse_full(ExprParser(group, dict(table.types), {}))
        aggregate = aggregate or expr.aggregate
        name = alias or expr.name
        if expr.kind == POINT:
            columns.extend(c for c in table.star if c.name == expr.name)
            continue
        if alias:
            aliases[alias] = expr
        columns.append(OutputColumn(name, expr.kind, expr.sql))
    return columns, aggregate


def parse_order(text: str, aliases: dict[str, Expr], table: SoqlTable = NYC_TABLE) -> list[str]:
    """ORDER BY items; ascending puts nulls last, descending first (as PostgreSQL does)."""
    items = []
    for group in _split_top_level(tokenize(text)):
        direction = "ASC"
        if group and group[-1][0] == "name" and group[-1][1].lower() in {"asc", "desc"}:
            direction, group = group[-1][1].upper(), group[:-1]
        if not group:
            raise SoqlError("query.compiler.malformed", "Could not parse SoQL query: empty order item")
        expr = _parse_full(ExprParser(group, dict(table.types), aliases))
        nulls = "NULLS LAST" if direction == "ASC" else "NULLS FIRST"
        items.append(f"{expr.sql} {direction} {nulls}")
    return items


def _expr(text: str, aliases: dict[str, Expr], table: SoqlTable) -> Expr:
    return _parse_full(ExprParser(tokenize(text), dict(table.types), aliases))


def _count(text: str, what: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if value < 0:
        raise SoqlError("query.compiler.malformed", f"Invalid {what}: {text!r} is not a non-negative integer")
    return value


def _search(text: str, table: SoqlTable) -> str:
    needle = quote_text("%" + text.replace("%", "") + "%")
    return "(" + " OR ".join(f"{quote_ident(c)} ILIKE {needle}" for c in table.search) + ")"


def build_query(
    clauses: Mapping[str, str], filters: Mapping[str, str], table: SoqlTable = NYC_TABLE
) -> Query:
    """A Query from clause texts (keys in _CLAUSES) and simple ``field=value`` filters."""
    aliases: dict[str, Expr] = {}
    types = dict(table.types)
    columns, aggregate = parse_select(clauses.get("select", "*"), aliases, table)
    query = Query(columns=columns, aggregate=aggregate)
    if "where" in clauses:
        query.where.append(_expr(clauses["where"], {}, table).sql)
    for name, value in filters.items():
        column = ExprParser([], types, {}).column(name)
        literal = Expr(quote_text(value), TEXT, "text", literal=value)
        query.where.append(ExprParser([], types, {}).compare(column, "=", literal).sql)
    if "search" in clauses:
        query.where.append(_search(clauses["search"], table))
    if "group" in clauses:
        groups = _split_top_level(tokenize(clauses["group"]))
        query.group = [_parse_full(ExprParser(g, types, aliases)).sql for g in groups]
    elif aggregate and any(not c.sql.startswith(("count(", "min(", "max(", "sum(", "avg(")) for c in columns):
        raise SoqlError("query.soql.invalid-group", "Non-aggregated columns in $select need a $group")
    if "having" in clauses:
        query.having = _expr(clauses["having"], aliases, table).sql
    if "order" in clauses:
        query.order = parse_order(clauses["order"], aliases, table)
    if "limit" in clauses:
        query.limit = _count(clauses["limit"], "$limit")
    if "offset" in clauses:
        query.offset = _count(clauses["offset"], "$offset")
    return query


def from_params(params: Mapping[str, str], table: SoqlTable = NYC_TABLE) -> Query:
    """A Query from SODA 2.1 URL parameters (``$select``..., ``$query``, or ``field=value``)."""
    if "$query" in params:
        return from_query_text(params["$query"], table)
    clauses = {
        "search" if k == "$q" else k[1:]: v
        for k, v in params.items()
        if k.startswith("$") and not k.startswith("$$")
    }
    unknown = set(clauses) - set(_CLAUSES)
    if unknown:
        name = sorted(unknown)[0]
        raise SoqlError(
            "query.compiler.malformed", f"Unrecognized parameter ${name}", {"parameter": "$" + name}
        )
    filters = {k: v for k, v in params.items() if not k.startswith("$")}
    query = build_query(clauses, filters, table)
    if params.get("$$exclude_system_fields", "").lower() == "false" and "select" not in clauses:
        query.columns = [*system_columns(), *query.columns]
    return query


_KEYWORDS = {"select", "where", "group", "having", "order", "limit", "offset", "search"}


def from_query_text(text: str, table: SoqlTable = NYC_TABLE) -> Query:
    """A Query from a full SoQL statement: ``SELECT … WHERE … GROUP BY … ORDER BY … LIMIT … OFFSET …``."""
    tokens = tokenize(text)
    clauses: dict[str, list[tuple[str, str]]] = {}
    current = None
    index = 0
    while index < len(tokens):
        kind, value = tokens[index]
        lowered = value.lower()
        if kind == "name" and lowered in _KEYWORDS:
            current = lowered
            if lowered in {"group", "order"}:
                index += 1
                if index >= len(tokens) or tokens[index][1].lower() != "by":
                    raise SoqlError(
                        "query.compiler.malformed", f"Could not parse SoQL query: expected BY after {value}"
                    )
            clauses[current] = []
        elif current is None:
            raise SoqlError("query.compiler.malformed", f"Could not parse SoQL query: unexpected {value!r}")
        else:
            clauses[current].append(tokens[index])
        index += 1
    texts = {k: " ".join(v for _, v in toks) for k, toks in clauses.items()}
    if "search" in texts:
        texts["search"] = texts["search"].strip("'")
    return build_query(texts, {}, table)
