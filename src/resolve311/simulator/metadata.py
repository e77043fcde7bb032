"""Dataset metadata as ``GET /api/views/<id>.json`` answers it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from resolve311.schema import SODA_COLUMNS
from resolve311.simulator.cities import NYC_DATASETS, SimSchema
from resolve311.simulator.render import SODA2_TYPES

NAMES = {dataset: name for dataset, (name, _) in NYC_DATASETS.items()}
_DATA_TYPES = {"text": "text", "timestamp": "calendar_date", "number": "number"}
_DISPLAY = {
    "bbl": "BBL",
    "x_coordinate_state_plane": "X Coordinate (State Plane)",
    "y_coordinate_state_plane": "Y Coordinate (State Plane)",
}


def display_name(field: str) -> str:
    """``created_date`` -> ``Created Date`` (portal display name)."""
    return _DISPLAY.get(field) or " ".join(word.capitalize() for word in field.split("_"))


def _fields(schema: SimSchema | None) -> list[tuple[str, str]]:
    """(field name, dataTypeName) of every published column."""
    if schema is None or not schema.is_projection:
        return [(f, "location" if f == "location" else _DATA_TYPES[kind]) for f, kind in SODA_COLUMNS]
    types = {"floating_timestamp": "calendar_date"}
    return [(c.name, types.get(c.kind) or SODA2_TYPES.get(c.kind, "text")) for c in schema.columns]


def view_metadata(
    dataset: str, rows_updated_at: datetime | None, schema: SimSchema | None = None
) -> dict[str, Any]:
    """The metadata document of ``dataset`` (columns, types, ``rowsUpdatedAt`` in epoch seconds)."""
    updated = int(rows_updated_at.replace(tzinfo=UTC).timestamp()) if rows_updated_at else 0
    names = schema.datasets if schema else NYC_DATASETS
    columns = []
    for position, (field, data_type) in enumerate(_fields(schema), start=1):
        columns.append(
            {
                "id": 623546764 + position,
                "name": display_name(field),
                "dataTypeName": data_type,
                "fieldName": field,
                "position": position,
                "renderTypeName": data_type,
                "format": {},
            }
        )
    return {
        "id": dataset,
        "name": names[dataset][0],
        "assetType": "dataset",
        "displayType": "table",
        "viewType": "tabular",
        "provenance": "official",
        "publicationStage": "published",
        "rowsUpdatedAt": updated,
        "viewLastModified": updated,
        "rowIdentifierColumnId": 623546765,
        "columns": columns,
    }
