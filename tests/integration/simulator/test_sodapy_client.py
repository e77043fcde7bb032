"""An independent client, sodapy, works against the simulator unchanged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import requests
from sodapy import Socrata


def plain_paging(url: str, page_size: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        while True:
            params = {"$order": ":id", "$limit": str(page_size), "$offset": str(len(rows))}
            batch = client.get("/resource/erm2-nwe9.json", params=params).json()
            rows.extend(batch)
            if len(batch) < page_size:
                return rows


@pytest.fixture
def soda(sim_url: str) -> Socrata:
    """sodapy speaking plain http through its session_adapter hook."""
    domain = sim_url.removeprefix("http://")
    adapter = {"prefix": "http://", "adapter": requests.adapters.HTTPAdapter()}
    client = Socrata(domain, "test-token", session_adapter=adapter, timeout=60)
    yield client
    client.close()


def test_sodapy_get_all_equals_plain_ordered_paging(soda: Socrata, sim_url: str) -> None:
    via_sodapy = list(soda.get_all("erm2-nwe9", order=":id", limit=1500))
    assert len(via_sodapy) > 5000
    assert via_sodapy == plain_paging(sim_url, 1000)


def test_sodapy_get_with_where_select_and_system_fields(soda: Socrata) -> None:
    rows = soda.get(
        "erm2-nwe9", where="agency = 'HPD'", order=":updated_at, :id", limit=50, exclude_system_fields=False
    )
    assert len(rows) == 50
    assert all(r["agency"] == "HPD" and r[":id"].startswith("row-") for r in rows)
    counted = soda.get("erm2-nwe9", select="count(*)", where="agency = 'HPD'")
    assert int(counted[0]["count"]) >= 50


def test_sodapy_metadata_and_csv(soda: Socrata) -> None:
    meta = soda.get_metadata("erm2-nwe9")
    assert meta["id"] == "erm2-nwe9" and any(c["fieldName"] == "unique_key" for c in meta["columns"])
    table = soda.get("erm2-nwe9", content_type="csv", limit=10, order="unique_key")
    assert table[0][0] == "unique_key" and len(table) == 11
