"""Keyset paging over (:updated_at, :id): nothing lost or repeated, short answers verified."""

import json
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from resolve311.errors import SourceRequestError
from resolve311.extract.incremental import (
    WindowPuller,
    parse_system_time,
    watermark_floor,
)
from resolve311.extract.retry import RetryPolicy
from resolve311.extract.socrata import SocrataClient


def puller(fake: Any, page_size: int = 3) -> WindowPuller:
    client = SocrataClient("http://soda.test", transport=fake.transport())
    policy = RetryPolicy(base_s=0.0, max_s=0.0, budget_s=5.0, rng=random.Random(0))
    return WindowPuller(client, policy, page_size)


def keys(pages: list[Any]) -> list[str]:
    return [r["unique_key"] for p in pages for r in json.loads(p.body)]


def counts(fake: Any) -> list[str]:
    """The ``$where`` of each count request (empty for the whole window)."""
    return [
        r.url.params.get("$where", "") for r in fake.requests if r.url.params.get("$select") == "count(*)"
    ]


def test_every_row_arrives_once_in_order_across_tied_pages(ten_rows: Any) -> None:
    pages = list(puller(ten_rows).pull("ds", None))
    assert keys(pages) == [str(n) for n in range(10)]
    assert [p.rows for p in pages] == [3, 3, 3, 1]
    assert pages[0].first.row_id == "row-0000"
    assert pages[-1].updated_to == datetime(2024, 1, 3)


def test_only_a_short_page_is_checked_with_a_count(ten_rows: Any) -> None:
    list(puller(ten_rows).pull("ds", None))
    counts = [r for r in ten_rows.requests if r.url.params.get("$select") == "count(*)"]
    assert len(counts) == 1
    assert "row-0009" in counts[0].url.params["$where"]


def test_a_spurious_empty_page_is_not_trusted(ten_rows: Any) -> None:
    ten_rows.faults = [httpx.Response(200, json=[])]
    pages = list(puller(ten_rows).pull("ds", None))
    assert keys(pages) == [str(n) for n in range(10)]


@pytest.mark.parametrize("ahead", [False, True], ids=["in-turn", "page-ahead"])
def test_transient_faults_mid_pull_lose_nothing(ten_rows: Any, ahead: bool) -> None:
    """Faults on a page (also on the page read ahead) are retried and lose nothing."""
    answers = iter([None, httpx.Response(503), None, httpx.Response(200, content=b'[{"a":'), None])

    def flaky(fake: Any) -> None:
        fault = next(answers, None)
        if fault is not None:
            fake.faults.append(fault)

    ten_rows.before_page = flaky
    ten_rows.counts_exempt = ahead  # the window's count runs beside the first page
    pages = list(puller(ten_rows).pull("ds", None, ahead=ahead))
    assert keys(pages) == [str(n) for n in range(10)]


@pytest.mark.parametrize("ahead", [False, True], ids=["in-turn", "page-ahead"])
def test_a_row_changed_during_the_pull_is_not_lost(
    ten_rows: Any, make_row: Callable[[int, str], dict[str, str]], ahead: bool
) -> None:
    """Row 0 (already pulled) and row 8 (not yet pulled) change between pages. Reading ahead, row 0
    comes again: 11 rows against the window's 10, so the count after the short page decides."""
    state = {"pages": 0}

    def edit(fake: Any) -> None:
        state["pages"] += 1
        if state["pages"] == 2:
            fake.rows = [r for r in fake.rows if r["unique_key"] not in {"0", "8"}]
            fake.rows += [make_row(0, "2024-01-04T00:00:00.000"), make_row(8, "2024-01-04T00:00:00.000")]

    ten_rows.before_page = edit
    pulled = keys(list(puller(ten_rows).pull("ds", None, ahead=ahead)))
    assert set(pulled) == {str(n) for n in range(10)}
    assert pulled[-2:] == ["0", "8"]
    tail = ["row-0008" in where for where in counts(ten_rows)]
    assert tail == ([False, True] if ahead else [True])  # (the window's count,) the one after the page


def test_full_replace_is_detected_against_the_total(ten_rows: Any) -> None:
    check = puller(ten_rows).check_full_replace("ds", None, 0.5)
    assert check.detected
    assert (check.changed, check.total) == (10, 10)
    assert not puller(ten_rows).check_full_replace("ds", None, 2.0).detected


def test_latest_update_is_the_newest_change(ten_rows: Any) -> None:
    def newest_first(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[{":updated_at": "2024-01-03T00:00:00.000Z"}])

    client = SocrataClient("http://soda.test", transport=httpx.MockTransport(newest_first))
    p = WindowPuller(client, RetryPolicy(budget_s=1.0), 3)
    assert p.latest_update("ds", None) == datetime(2024, 1, 3)


def test_system_times_parse_to_naive_utc() -> None:
    assert parse_system_time("2024-04-16T07:03:15.123Z") == datetime(2024, 4, 16, 7, 3, 15, 123000)
    assert watermark_floor(datetime(2024, 1, 1, 0, 10), 10) == datetime(2024, 1, 1)
    assert watermark_floor(None, 10) is None


def page_requests(fake: Any) -> int:
    return sum(1 for r in fake.requests if r.url.params.get("$select") != "count(*)")


def test_pulling_ahead_gives_the_same_pages_and_requests(ten_rows: Any) -> None:
    plain = [(p.rows, p.first, p.last, p.body) for p in puller(ten_rows).pull("ds", None)]
    ten_rows.requests.clear()
    ahead = [(p.rows, p.first, p.last, p.body) for p in puller(ten_rows).pull("ds", None, ahead=True)]
    assert ahead == plain
    assert page_requests(ten_rows) == 4  # 3 + 3 + 3 + 1: no page past the end is asked for


def test_the_next_page_is_requested_while_the_caller_holds_this_one(ten_rows: Any) -> None:
    pages = puller(ten_rows).pull("ds", None, ahead=True)
    first = next(pages)  # the caller works on the first page...
    deadline = time.monotonic() + 10
    while page_requests(ten_rows) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for the helper thread's request, not a timing assumption
    assert page_requests(ten_rows) == 2  # ...while the second is already fetched, and no further
    assert [first.rows, *(p.rows for p in pages)] == [3, 3, 3, 1]


def test_a_failure_of_the_page_ahead_is_raised_after_the_pages_before_it(ten_rows: Any) -> None:
    ten_rows.faults = [httpx.Response(200, content=json.dumps(ten_rows.rows[:3]).encode())]
    ten_rows.faults += [httpx.Response(400, json={"message": "bad query"})]
    ten_rows.counts_exempt = True
    got = []
    with pytest.raises(SourceRequestError, match="bad query"):
        for page in puller(ten_rows).pull("ds", None, ahead=True):
            got.append(page.rows)
    assert got == [3]


def test_reading_ahead_counts_the_window_beside_the_first_page_instead_of_after_the_last(
    ten_rows: Any,
) -> None:
    pages = list(puller(ten_rows).pull("ds", None, ahead=True))
    assert keys(pages) == [str(n) for n in range(10)]
    assert counts(ten_rows) == [""]  # the window's count; the short last page brings the rows to it


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, json=[{"count": "12"}]),  # more than arrive
        httpx.Response(400, json={"message": "no count"}),  # no count at all
        httpx.Response(503, json={"message": "busy"}),  # a transient failure: not retried
        httpx.Response(200, json=[{"count": "4"}]),  # fewer (rows changed since)
    ],
    ids=["above", "failed", "unavailable", "below"],
)
def test_a_window_count_that_does_not_hold_leaves_the_short_page_to_the_count_after_it(
    ten_rows: Any, answer: httpx.Response
) -> None:
    ten_rows.count_faults = [answer]
    pages = list(puller(ten_rows).pull("ds", None, ahead=True))
    assert keys(pages) == [str(n) for n in range(10)]
    asked = counts(ten_rows)
    assert asked.count("") == 1  # the window's count, asked once
    assert any("row-0009" in where for where in asked)  # the count after the short page


def test_a_spurious_empty_page_is_not_trusted_when_reading_ahead(ten_rows: Any) -> None:
    ten_rows.counts_exempt = True
    ten_rows.faults = [httpx.Response(200, json=[])]  # the first page comes back empty: the count says 10
    pages = list(puller(ten_rows).pull("ds", None, ahead=True))
    assert keys(pages) == [str(n) for n in range(10)]
