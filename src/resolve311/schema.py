"""The canonical 311 record: SODA field names, types and display names.

One place for the column list that the simulator generates, the loader
normalises to, the warehouse stores and the exporter writes.
"""

from __future__ import annotations

from typing import Final, Literal

ColumnKind = Literal["text", "timestamp", "number"]

#: The 44 columns of the current NYC schema, in API order, with their kind.
SODA_COLUMNS: Final[tuple[tuple[str, ColumnKind], ...]] = (
    ("unique_key", "text"),
    ("created_date", "timestamp"),
    ("closed_date", "timestamp"),
    ("agency", "text"),
    ("agency_name", "text"),
    ("complaint_type", "text"),
    ("descriptor", "text"),
    ("descriptor_2", "text"),
    ("location_type", "text"),
    ("incident_zip", "text"),
    ("incident_address", "text"),
    ("street_name", "text"),
    ("cross_street_1", "text"),
    ("cross_street_2", "text"),
    ("intersection_street_1", "text"),
    ("intersection_street_2", "text"),
    ("address_type", "text"),
    ("city", "text"),
    ("landmark", "text"),
    ("facility_type", "text"),
    ("status", "text"),
    ("due_date", "timestamp"),
    ("resolution_description", "text"),
    ("resolution_action_updated_date", "timestamp"),
    ("community_board", "text"),
    ("council_district", "text"),
    ("police_precinct", "text"),
    ("bbl", "text"),
    ("borough", "text"),
    ("x_coordinate_state_plane", "text"),
    ("y_coordinate_state_plane", "text"),
    ("open_data_channel_type", "text"),
    ("park_facility_name", "text"),
    ("park_borough", "text"),
    ("vehicle_type", "text"),
    ("taxi_company_borough", "text"),
    ("taxi_pick_up_location", "text"),
    ("bridge_highway_name", "text"),
    ("bridge_highway_direction", "text"),
    ("road_ramp", "text"),
    ("bridge_highway_segment", "text"),
    ("latitude", "number"),
    ("longitude", "number"),
    ("location", "text"),
)

SODA_FIELDS: Final[tuple[str, ...]] = tuple(name for name, _ in SODA_COLUMNS)
TIMESTAMP_FIELDS: Final[frozenset[str]] = frozenset(
    name for name, kind in SODA_COLUMNS if kind == "timestamp"
)
NUMBER_FIELDS: Final[frozenset[str]] = frozenset(name for name, kind in SODA_COLUMNS if kind == "number")

#: Socrata system fields, returned only with ``$select=:*,*``.
SYSTEM_FIELDS: Final[tuple[str, ...]] = (":id", ":created_at", ":updated_at")

#: Portal-export display names that do not follow the simple rule in
#: :func:`field_from_display_name`.
DISPLAY_NAME_OVERRIDES: Final[dict[str, str]] = {
    "x coordinate (state plane)": "x_coordinate_state_plane",
    "y coordinate (state plane)": "y_coordinate_state_plane",
    "problem (formerly complaint type)": "complaint_type",
    "problem detail (formerly descriptor)": "descriptor",
    "additional details": "descriptor_2",
    "bbl": "bbl",
}


def field_from_display_name(header: str) -> str:
    """Map a portal display name (``Created Date``) or API name to the API field name.

    >>> field_from_display_name("Created Date")
    'created_date'
    >>> field_from_display_name("X Coordinate (State Plane)")
    'x_coordinate_state_plane'
    """
    key = header.strip().lower()
    if key in DISPLAY_NAME_OVERRIDES:
        return DISPLAY_NAME_OVERRIDES[key]
    if key.startswith(":"):
        return key
    out = "".join(ch if ch.isalnum() else "_" for ch in key)
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")
