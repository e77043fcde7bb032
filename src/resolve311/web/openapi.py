"""The OpenAPI 3 document describing /api (served at /api/openapi.json)."""

from __future__ import annotations

from typing import Any

from resolve311 import __version__
from resolve311.web.filters import BASELINES, KINDS, PERIODS, VARIANTS, WINDOWS


def _enum(name: str, values: tuple[str, ...], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "enum": list(values)},
    }


def _text(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "maxLength": 200},
    }


WINDOW = _enum(
    "window", WINDOWS, "Recent window: the last 1, 7 or 28 days (default: the server's `recent` setting)."
)
BASELINE = _enum(
    "baseline", BASELINES, "Historical baseline: same weekdays over 8 weeks, or one year earlier."
)
SLICE = [
    _text("complaint_type", "Only this complaint type of the agency (not with borough)."),
    _text("borough", "Only this borough (not with complaint_type)."),
]
CODE = {
    "name": "code",
    "in": "path",
    "required": True,
    "description": "Agency code, e.g. NYPD.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 40},
}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or {"type": "object"}}},
    }


ERROR = {"$ref": "#/components/schemas/Error"}
ERRORS = {
    "400": _json("A bad query parameter, named in `parameter`.", ERROR),
    "404": _json("Unknown agency.", ERROR),
    "503": _json("No snapshot has been published yet.", ERROR),
}


def _get(summary: str, params: list[dict[str, Any]], ok: str, *, agency: bool = True) -> dict[str, Any]:
    responses = {"200": _json(ok), **ERRORS}
    if not agency:
        responses.pop("404")
    return {
        "get": {"summary": summary, "parameters": ([CODE] if agency else []) + params, "responses": responses}
    }


def openapi_document() -> dict[str, Any]:
    """The whole document as a dict."""
    view = [*SLICE, WINDOW, BASELINE]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "resolve311 API",
            "version": __version__,
            "description": "Read-only JSON over the serving snapshot: the daily review of NYC 311 resolution.",
        },
        "paths": {
            "/api/status": {
                "get": {
                    "summary": "Freshness: data as-of time, last run, source state.",
                    "responses": {
                        "200": _json("Status.", {"type": "object", "required": ["as_of", "source_state"]})
                    },
                }
            },
            "/api/metrics": {
                "get": {
                    "summary": "The metric registry: name, label, unit, population (what n counts), direction.",
                    "responses": {"200": _json("Metrics.", {"type": "object", "required": ["metrics"]})},
                }
            },
            "/api/agencies": _get(
                "Every agency with its headline metrics and flags, strongest calibrated evidence first.",
                [WINDOW, BASELINE],
                "Agencies.",
                agency=False,
            ),
            "/api/agencies/{code}/scorecard": _get(
                "Every metric of one agency (or slice): recent, historical, difference.", view, "Scorecard."
            ),
            "/api/agencies/{code}/heatmap": _get(
                "When (weekday × hour, per week) or where (grid cell, per day) requests were created.",
                [
                    _enum("kind", KINDS, "when or where (default when)."),
                    _enum("variant", VARIANTS, "recent, historical or difference (default recent)."),
                    *view,
                ],
                "Heat map cells.",
            ),
            "/api/agencies/{code}/series": _get(
                "Created and closed per day (400 days) or week, with the baseline band.",
                [_enum("period", PERIODS, "day or week (default day)."), *view],
                "Series points.",
            ),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}, "parameter": {"type": "string"}},
                }
            }
        },
    }
