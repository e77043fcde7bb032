"""A SoQL expression parser that emits typed DuckDB SQL (pure; no I/O).

Supported: literals ('text' with '' escapes, numbers, true/false/null),
columns (``field``, ```field```, ``:id``, ``:created_at``, ``:updated_at``),
``= != <> < <= > >=``, ``[NOT] BETWEEN``, ``IS [NOT] NULL``, ``[NOT] IN``,
``[NOT] LIKE``, ``AND OR NOT``, parentheses, and the functions in FUNCTIONS.
Timestamps compare with ISO strings (``created_date >= '2024-01-01T00:00:00'``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

#: SoQL types of expressions.
TEXT, FLOATING, FIXED, NUMBER, BOOLEAN, POINT, NULL = (
    "text",
    "floating_timestamp",
    "fixed_timestamp",
    "number",
    "boolean",
    "point",
    "null",
)
TIMESTAMPS = (FLOATING, FIXED)
#: A point column published as GeoJSON (JSON) / WKT (CSV), as SF's ``point_geom``.
GEOPOINT = "geopoint"


class SoqlError(Exception):
    """A query the API rejects (HTTP 400) with a Socrata error code."""

    def __init__(self, code: str, message: str, data: dict[str, object] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data or {}


@dataclass(frozen=True)
class Expr:
    """A typed SQL expression; ``name`` is the default output column name."""

    sql: str
    kind: str
    name: str
    aggregate: bool = False
    literal: str | None = None  # the text of a string literal


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\.\d+)"
    r"|(?P<tick>`[^`]+`)|(?P<name>:\*|[A-Za-z_:@][A-Za-z0-9_:@.]*)|(?P<op><=|>=|!=|<>|[=<>(),*+\-|]))"
)
_COMPARE = {"=": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_AGGREGATES = {"count", "min", "max", "sum", "avg"}
_DATE_TRUNC = {"date_trunc_ymd": "day", "date_trunc_ym": "month", "date_trunc_y": "year"}
_DATE_EXTRACT = {
    "date_extract_y": "year",
    "date_extract_m": "month",
    "date_extract_d": "day",
    "date_extract_hh": "hour",
    "date_extract_dow": "dow",
}
FUNCTIONS = sorted({*_AGGREGATES, *_DATE_TRUNC, *_DATE_EXTRACT, "upper", "lower", "starts_with"})


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def tokenize(text: str) -> list[tuple[str, str]]:
    """(kind, text) tokens; kind is str, num, name or op. Raises SoqlError on junk."""
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise SoqlError(
                "query.compiler.malformed",
                f"Could not parse SoQL query at position {pos + 1}: {text[pos : pos + 20]!r}",
            )
        kind = match.lastgroup or "op"
        value = match.group(kind)
        if kind == "tick":
            kind, value = "name", value[1:-1]
        tokens.append((kind, value))
        pos = match.end()
    return tokens


def parse_timestamp_literal(text: str, kind: str) -> str:
    """The SQL literal for an ISO timestamp string; fixed (Z/offset) values become UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise SoqlError(
            "query.soql.type-mismatch", f"Could not parse {text!r} as a {kind}", {"value": text}
        ) from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


class ExprParser:
    """Recursive-descent parser over a token list; ``columns`` maps field name -> SoQL type."""

    def __init__(self, tokens: list[tuple[str, str]], columns: dict[str, str], aliases: dict[str, Expr]):
        self.tokens = tokens
        self.pos = 0
        self.columns = columns
        self.aliases = aliases

    # --- token helpers
    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def at_keyword(self, *words: str) -> bool:
        kind, value = self.peek()
        return kind == "name" and value.lower() in words

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.pos += 1
        return token

    def expect_op(self, op: str) -> None:
        kind, value = self.take()
        if kind != "op" or value != op:
            raise self.malformed(f"expected {op!r} but found {value or 'end of input'!r}")

    def expect_keyword(self, word: str) -> None:
        if not self.at_keyword(word):
            raise self.malformed(f"expected {word.upper()} but found {self.peek()[1] or 'end of input'!r}")
        self.pos += 1

    def malformed(self, detail: str) -> SoqlError:
        return SoqlError("query.compiler.malformed", f"Could not parse SoQL query: {detail}")

    # --- grammar
    def expression(self) -> Expr:
        left = self.conjunction()
        while self.at_keyword("or"):
            self.pos += 1
            right = self.conjunction()
            left = Expr(f"({left.sql} OR {right.sql})", BOOLEAN, "or")
        return left

    def conjunction(self) -> Expr:
        left = self.negation()
        while self.at_keyword("and"):
            self.pos += 1
            right = self.negation()
            left = Expr(f"({left.sql} AND {right.sql})", BOOLEAN, "and")
        return left

    def negation(self) -> Expr:
        if self.at_keyword("not"):
            self.pos += 1
            inner = self.negation()
            return Expr(f"(NOT {inner.sql})", BOOLEAN, "not")
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.additive()
        kind, value = self.peek()
        if kind == "op" and value in _COMPARE:
            self.pos += 1
            right = self.additive()
            return self.compare(left, _COMPARE[value], right)
        if self.at_keyword("is"):
            self.pos += 1
            negate = self.at_keyword("not")
            self.pos += negate
            self.expect_keyword("null")
            return Expr(f"({left.sql} IS {'NOT ' if negate else ''}NULL)", BOOLEAN, "is_null")
        negate = self.at_keyword("not") and self.peek(1)[1].lower() in {"between", "in", "like"}
        self.pos += negate
        prefix = "NOT " if negate else ""
        if self.at_keyword("between"):
            self.pos += 1
            low = self.additive()
            self.expect_keyword("and")
            high = self.additive()
            low_sql, high_sql = self.coerce(left, low), self.coerce(left, high)
            return Expr(f"({left.sql} {prefix}BETWEEN {low_sql} AND {high_sql})", BOOLEAN, "between")
        if self.at_keyword("in"):
            self.pos += 1
            self.expect_op("(")
            items = [self.coerce(left, self.additive())]
            while self.peek() == ("op", ","):
                self.pos += 1
                items.append(self.coerce(left, self.additive()))
            self.expect_op(")")
            return Expr(f"({left.sql} {prefix}IN ({', '.join(items)}))", BOOLEAN, "in")
        if self.at_keyword("like"):
            self.pos += 1
            pattern = self.additive()
            return Expr(f"({left.sql} {prefix}LIKE {pattern.sql})", BOOLEAN, "like")
        if negate:
            raise self.malformed("NOT must be followed by BETWEEN, IN or LIKE here")
        return left

    def additive(self) -> Expr:
        left = self.primary()
        while self.peek() in {("op", "+"), ("op", "-"), ("op", "|")}:
            op = self.take()[1]
            if op == "|":
                self.expect_op("|")
                right = self.primary()
                left = Expr(f"({left.sql} || {right.sql})", TEXT, "concat")
                continue
            right = self.primary()
            left = Expr(f"({left.sql} {op} {right.sql})", NUMBER, "arith")
        return left

    def coerce(self, target: Expr, value: Expr) -> str:
        """SQL for ``value`` compared with ``target`` (string literals become timestamps/numbers)."""
        if value.kind == NULL or target.kind == NULL:
            return value.sql
        if value.literal is not None and target.kind in TIMESTAMPS:
            return parse_timestamp_literal(value.literal, target.kind)
        if value.literal is not None and target.kind == NUMBER:
            try:
                return repr(float(value.literal))
            except ValueError:
                raise SoqlError(
                    "query.soql.type-mismatch", f"Could not parse {value.literal!r} as a number"
                ) from None
        compatible = value.kind == target.kind or {value.kind, target.kind} <= set(TIMESTAMPS)
        if not compatible:
            raise SoqlError(
                "query.soql.type-mismatch",
                f"Type mismatch: cannot compare {target.kind} with {value.kind}",
                {"left": target.kind, "right": value.kind},
            )
        return value.sql

    def compare(self, left: Expr, op: str, right: Expr) -> Expr:
        if left.literal is not None and right.literal is None:
            return Expr(f"({self.coerce(right, left)} {op} {right.sql})", BOOLEAN, "compare")
        return Expr(f"({left.sql} {op} {self.coerce(left, right)})", BOOLEAN, "compare")

    def primary(self) -> Expr:
        kind, value = self.take()
        if kind == "str":
            text = value[1:-1].replace("''", "'")
            return Expr(quote_text(text), TEXT, "text", literal=text)
        if kind == "num":
            return Expr(value, NUMBER, value)
        if kind == "op" and value == "(":
            inner = self.expression()
            self.expect_op(")")
            return inner
        if kind == "op" and value == "-":
            inner = self.primary()
            return Expr(f"(-{inner.sql})", NUMBER, inner.name)
        if kind != "name":
            raise self.malformed(f"unexpected {value or 'end of input'!r}")
        lowered = value.lower()
        if lowered in {"true", "false"}:
            return Expr(lowered.upper(), BOOLEAN, lowered)
        if lowered == "null":
            return Expr("NULL", NULL, "null")
        if self.peek() == ("op", "("):
            return self.function(lowered)
        return self.column(value)

    def column(self, name: str) -> Expr:
        if name in self.aliases:
            return self.aliases[name]
        kind = self.columns.get(name) or self.columns.get(name.lower())
        if kind is None:
            raise SoqlError(
                "query.soql.no-such-column",
                f"No such column: {name}",
                {"column": name},
            )
        field = name if name in self.columns else name.lower()
        if kind == POINT:
            return Expr("latitude", POINT, field)
        return Expr(quote_ident(field), kind, field)

    def function(self, name: str) -> Expr:
        self.expect_op("(")
        if name == "count" and self.peek() == ("op", "*"):
            self.pos += 1
            self.expect_op(")")
            return Expr("count(*)", NUMBER, "count", aggregate=True)
        args = [self.expression()]
        while self.peek() == ("op", ","):
            self.pos += 1
            args.append(self.expression())
        self.expect_op(")")
        return self.call(name, args)

    def call(self, name: str, args: list[Expr]) -> Expr:
        first = args[0]
        label = f"{name}_{first.name.lstrip(':')}"
        if name in _AGGREGATES:
            kind = NUMBER if name in {"count", "sum", "avg"} else first.kind
            return Expr(f"{name}({first.sql})", kind, label, aggregate=True)
        if name in _DATE_TRUNC:
            return Expr(f"date_trunc('{_DATE_TRUNC[name]}', {first.sql})", FLOATING, label)
        if name in _DATE_EXTRACT:
            return Expr(f"date_part('{_DATE_EXTRACT[name]}', {first.sql})", NUMBER, label)
        if name in {"upper", "lower"}:
            return Expr(f"{name}({first.sql})", TEXT, label)
        if name == "starts_with" and len(args) == 2:
            return Expr(f"starts_with({first.sql}, {args[1].sql})", BOOLEAN, label)
        raise SoqlError("query.soql.no-such-function", f"No such function: {name}", {"function": name})
