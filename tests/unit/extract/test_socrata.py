"""One Socrata request, classified: rows, transient failure or terminal rejection."""

import json
from collections.abc import Callable

import httpx
import pytest

from resolve311.errors import SourceRequestError
from resolve311.extract.retry import RetryableError
from resolve311.extract.socrata import SocrataClient

ROWS = [{":id": "row-1", ":updated_at": "2024-01-01T00:00:00.000Z", "unique_key": "1"}]
TOKEN = "tok-SECRET-0123456789"


def client_for(handler: Callable[[httpx.Request], httpx.Response], **kwargs: object) -> SocrataClient:
    return SocrataClient("http://soda.test", transport=httpx.MockTransport(handler), **kwargs)  # type: ignore[arg-type]


def answer(status: int, body: object = None, **kwargs: object) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, bytes | str):
            return httpx.Response(status, content=body, **kwargs)  # type: ignore[arg-type]
        return httpx.Response(status, json=body, **kwargs)  # type: ignore[arg-type]

    return handler


def test_a_page_keeps_the_exact_body_and_its_rows() -> None:
    page = client_for(answer(200, ROWS)).fetch_rows("erm2-nwe9", {"$limit": "1"})
    assert page.rows == ROWS
    assert json.loads(page.body) == ROWS


def test_soda21_is_a_get_with_the_token_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=ROWS)

    client_for(handler, token=TOKEN).fetch_rows("erm2-nwe9", {"$where": "a = 1"})
    assert seen[0].method == "GET"
    assert seen[0].url.path == "/resource/erm2-nwe9.json"
    assert seen[0].url.params["$where"] == "a = 1"
    assert seen[0].headers["X-App-Token"] == TOKEN
    assert TOKEN not in str(seen[0].url)


def test_soda3_is_a_post_with_the_query_in_the_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"count": "7"}])

    assert client_for(handler, token=TOKEN, soda_version="3").count("erm2-nwe9", "a = 1") == 7
    assert seen[0].method == "POST"
    assert seen[0].url.path == "/api/v3/views/erm2-nwe9/query.json"
    assert json.loads(seen[0].content)["query"] == "SELECT count(*) WHERE a = 1"


@pytest.mark.parametrize(
    ("handler", "reason"),
    [
        (answer(202, {"message": "processing"}), "202"),
        (answer(429, {}, headers={"Retry-After": "7"}), "429"),
        (answer(500, {}), "500"),
        (answer(503, b"Service Unavailable"), "503"),
        (answer(200, b"<html><body>Down for maintenance</body></html>"), "HTML"),
        (answer(200, b'[{"a": "1"}, {"b":'), "truncated"),
        (answer(200, {"unexpected": "object"}), "object"),
    ],
)
def test_transient_answers_are_retryable(
    handler: Callable[[httpx.Request], httpx.Response], reason: str
) -> None:
    with pytest.raises(RetryableError, match=reason):
        client_for(handler).fetch_rows("x", {})


def test_retry_after_is_read_from_a_429() -> None:
    with pytest.raises(RetryableError) as caught:
        client_for(answer(429, {}, headers={"Retry-After": "7"})).fetch_rows("x", {})
    assert caught.value.retry_after_s == 7.0


@pytest.mark.parametrize(
    "error",
    [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.RemoteProtocolError("cut short")],
)
def test_network_failures_are_retryable(error: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(RetryableError):
        client_for(handler).fetch_rows("x", {})


@pytest.mark.parametrize(
    "body",
    [
        {"code": "query.compiler.malformed", "error": True, "message": "Could not parse SoQL", "data": {}},
        {"message": "Could not parse SoQL", "errorCode": "query.soql.no-such-column", "data": {}},
    ],
)
def test_other_4xx_fail_at_once_with_the_api_message(body: dict[str, object]) -> None:
    with pytest.raises(SourceRequestError, match="Could not parse SoQL") as caught:
        client_for(answer(400, body)).fetch_rows("x", {})
    assert caught.value.status_code == 400


def test_a_rejection_never_repeats_the_token() -> None:
    with pytest.raises(SourceRequestError) as caught:
        client_for(answer(403, {"message": f"bad token {TOKEN}"}), token=TOKEN).fetch_rows("x", {})
    assert TOKEN not in str(caught.value)


def test_no_results_error_code_means_an_empty_page() -> None:
    page = client_for(answer(200, {"errorCode": "query.soql.no-results"})).fetch_rows("x", {})
    assert page.rows == []


@pytest.mark.parametrize("body", [[], [{"count": "x"}], [{"count": "1"}, {"count": "2"}]])
def test_a_count_must_be_one_number(body: list[dict[str, str]]) -> None:
    with pytest.raises(RetryableError):
        client_for(answer(200, body)).count("x", None)


def test_retry_after_may_be_an_http_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    with pytest.raises(RetryableError) as caught:
        client_for(answer(429, {}, headers={"Retry-After": when})).fetch_rows("x", {})
    assert caught.value.retry_after_s is not None
    assert 100 < caught.value.retry_after_s <= 120
