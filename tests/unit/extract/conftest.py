"""A tiny in-memory Socrata dataset behind httpx.MockTransport, for the puller's unit tests.

It understands exactly the queries the puller sends (a window predicate decided by
the test, the keyset continuation, count(*)) and can be told to misbehave.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
import pytest

AFTER = re.compile(r":updated_at > '([^']+)' OR \(:updated_at = '([^']+)' AND :id > '([^']+)'\)")


def row(n: int, updated: str) -> dict[str, str]:
    return {":id": f"row-{n:04d}", ":updated_at": f"{updated}Z", "unique_key": str(n)}


@dataclass
class FakeDataset:
    rows: list[dict[str, str]]
    faults: list[httpx.Response] = field(default_factory=list)  # served first, one per request
    requests: list[httpx.Request] = field(default_factory=list)
    before_page: Callable[[FakeDataset], None] | None = None
    count_faults: list[httpx.Response] = field(default_factory=list)  # served first to count requests
    counts_exempt: bool = False  # ``faults`` go to page requests only (a pull ahead counts concurrently)

    def matching(self, where: str) -> list[dict[str, str]]:
        ordered = sorted(self.rows, key=lambda r: (r[":updated_at"], r[":id"]))
        match = AFTER.search(where)
        if not match:
            return ordered
        stamp, row_id = match.group(1) + "Z", match.group(3)
        return [r for r in ordered if (r[":updated_at"], r[":id"]) > (stamp, row_id)]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        params = request.url.params
        is_count = params.get("$select") == "count(*)"
        if is_count and self.count_faults:
            return self.count_faults.pop(0)
        if self.faults and not (is_count and self.counts_exempt):
            return self.faults.pop(0)
        rows = self.matching(params.get("$where", ""))
        if is_count:
            return httpx.Response(200, json=[{"count": str(len(rows))}])
        if self.before_page:
            self.before_page(self)
            rows = self.matching(params.get("$where", ""))
        limit = int(params.get("$limit", "1000"))
        return httpx.Response(200, content=json.dumps(rows[:limit]).encode())

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def ten_rows() -> FakeDataset:
    """Ten rows, several tied on :updated_at."""
    stamps = (
        ["2024-01-01T00:00:00.000"] * 4 + ["2024-01-02T00:00:00.000"] * 3 + ["2024-01-03T00:00:00.000"] * 3
    )
    return FakeDataset(rows=[row(n, s) for n, s in enumerate(stamps)])


@pytest.fixture
def make_row() -> Callable[[int, str], dict[str, str]]:
    """Build a row with :id, :updated_at and unique_key."""
    return row
