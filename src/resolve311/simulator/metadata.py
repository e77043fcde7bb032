"""Dataset metadata as ``GET /api/views/<id>.json`` answers it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from resolve311.schema import SODA_COLUMNS

NAMES = {
    "erm2-nwe9": "311 Service Requests from 2020 to Present",
    "76ig-c548": "311 Service Requests from 2010 to 2019",
    "fhrw-4uyv": "311 Service Requests from 2010 to Present",
}
_DATA_TYPES = {"text": "text", "timestamp": "calendar_date", "number": "number"}
_DISPLAY = {
    "bbl": "BBL",
    "x_coordinate_state_plane": "X Coordinate (State Plane)",
    "y_coordinate_state_plane": "Y Coordinate (State Plane)",
}


def display_name(field: str) -> str:
    """``created_date`` -> ``Created Date`` (portal display name)."""
    return _DISPLAY.get(field) or " ".join(word.capitalize() for word in field.split("_"))


def view_metadata(dataset: str, rows_updated_at: datetime | None) -> dict[str, Any]:
    """The metadata document of ``dataset`` (columns, types, ``rowsUpdatedAt`` in epoch seconds)."""
    updated = int(rows_updated_at.replace(tzinfo=UTC).timestamp()) if rows_updated_at else 0
    columns = []
    for position, (field, kind) in enumerate(SODA_COLUMNS, start=1):
        data_type = "location" if field == "location" else _DATA_TYPES[kind]
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
        "name": NAMES[dataset],
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
