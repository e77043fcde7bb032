"""Turn snapshot values into JSON-safe values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pandas as pd


def value(v: Any) -> Any:
    """One value: NaN/NaT → None, dates → ISO text, numpy/Decimal → Python numbers."""
    if v is None or v is pd.NaT:
        return None
    if isinstance(v, bool | str | int):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, datetime | date | time):
        return v.isoformat()
    if isinstance(v, Decimal):
        return value(float(v))
    item = getattr(v, "item", None)
    if callable(item):
        return value(item())
    return str(v)


def row(r: Mapping[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: value(v) for k, v in r.items() if k not in drop}


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): value(v) for k, v in r.items()} for r in frame.to_dict(orient="records")]
