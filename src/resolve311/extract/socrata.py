"""One Socrata request over httpx: a page of rows or a count, classified into success or failure.

SODA 2.1 ``GET /resource/<id>.json`` is the default; SODA 3 ``POST
/api/v3/views/<id>/query.json`` when ``soda_version == "3"``. A single call makes
one attempt: transient failures raise :class:`RetryableError` (the caller
retries), rejected queries raise :class:`SourceRequestError`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Literal, overload

import httpx
import pyarrow as pa

from resolve311 import __version__
from resolve311.errors import ParseError, SourceRequestError
from resolve311.extract import soql
from resolve311.extract.pages import read_api_page, starts_rows
from resolve311.extract.ratelimit import RateLimiter
from resolve311.extract.retry import RetryableError
from resolve311.settings import Settings
from resolve311.sources.catalog import Source

SodaVersion = Literal["2.1", "3"]
Gate = Callable[[], AbstractContextManager[object]]
NO_RESULTS_CODE = "query.soql.no-results"


@dataclass(frozen=True)
class Page:
    """One answer: the body exactly as received (after transfer decoding) and its rows."""

    body: bytes
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class TablePage:
    """One answer read as a table of text columns (see :func:`read_api_page`)."""

    body: bytes | bytearray  # a bytearray: received in place, read by Arrow without a copy
    table: pa.Table


class SocrataClient:
    """A Socrata portal at ``base_url``; the app token goes in the ``X-App-Token`` header only."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        soda_version: SodaVersion = "2.1",
        timeout_s: float = 60.0,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
    ) -> None:
        headers = {"Accept": "application/json", "User-Agent": f"resolve311/{__version__}"}
        if token:
            headers["X-App-Token"] = token
        self._token = token
        self.soda_version = soda_version
        self.limiter = limiter or RateLimiter()
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            transport=transport,
            follow_redirects=True,
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        limiter: RateLimiter | None = None,
        source: Source | None = None,
    ) -> SocrataClient:
        """A client of ``source``'s portal (default: the configured source); ``socrata_url`` overrides."""
        return cls(
            settings.portal_url(source),
            token=settings.token(),
            soda_version=settings.soda_version,
            timeout_s=settings.request_timeout_s,
            transport=transport,
            limiter=limiter or RateLimiter(settings.request_rate),
        )

    def __enter__(self) -> SocrataClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ calls
    def fetch_rows(self, dataset_id: str, params: dict[str, str]) -> Page:
        """One page of rows for SODA 2.1-style ``params`` (one attempt)."""
        body = self._request(dataset_id, params)
        return Page(body=body, rows=self._rows(body))

    def fetch_table(
        self, dataset_id: str, params: dict[str, str], gate: Gate = contextlib.nullcontext
    ) -> TablePage:
        """One page of rows read as a text table, without a Python object per value (one attempt).

        The body is read inside ``gate()`` (e.g. a :class:`~resolve311.extract.gate.PriorityGate`).
        """
        body = self._request(dataset_id, params, into=bytearray())
        if not starts_rows(body):  # empty, an object, HTML...: the general checks
            self._rows(body)
            return TablePage(body=body, table=pa.table({}))
        try:
            with gate():
                table = read_api_page(body)
            return TablePage(body=body, table=table)
        except (ParseError, ValueError):  # a cut or garbled body
            raise RetryableError(f"malformed or truncated body ({len(body)} bytes)") from None

    def count(self, dataset_id: str, where: str | None) -> int:
        """``count(*)`` of the rows matching ``where`` (one attempt)."""
        rows = self._rows(self._request(dataset_id, soql.count_params(where)))
        if len(rows) != 1 or len(rows[0]) != 1:
            raise RetryableError(f"count answered {len(rows)} rows instead of one")
        value = next(iter(rows[0].values()))
        try:
            return int(value)
        except (TypeError, ValueError):
            raise RetryableError(f"count answered a non-number: {str(value)[:40]!r}") from None

    # --------------------------------------------------------------- plumbing
    @overload
    def _request(self, dataset_id: str, params: dict[str, str]) -> bytes: ...

    @overload
    def _request(self, dataset_id: str, params: dict[str, str], into: bytearray) -> bytearray: ...

    def _request(
        self, dataset_id: str, params: dict[str, str], into: bytearray | None = None
    ) -> bytes | bytearray:
        """The body of one answer; appended to ``into`` (and returned) when given, else as bytes."""
        self.limiter.acquire()
        try:
            if self.soda_version == "3":
                url = f"/api/v3/views/{dataset_id}/query.json"
                request = self._http.build_request("POST", url, json=soql.soda3_body(params))
            else:
                request = self._http.build_request("GET", f"/resource/{dataset_id}.json", params=params)
            response = self._http.send(request, stream=True)
            try:
                body = response.read() if into is None else _read_into(response, into)
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise RetryableError(f"timeout ({type(exc).__name__})") from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise RetryableError(
                f"connection failed: {self._redact(str(exc)) or type(exc).__name__}"
            ) from None
        self._check_status(response, body)
        return body

    def _check_status(self, response: httpx.Response, body: bytes | bytearray) -> None:
        status = response.status_code
        if status == 200:
            return
        if status == 202:
            raise RetryableError("202: the source is still processing the query")
        if status == 429:
            wait = retry_after_seconds(response)
            self.limiter.hold(wait or 0.0)  # every thread waits, not only this one
            raise RetryableError("429: throttled", retry_after_s=wait)
        if status >= 500:
            raise RetryableError(f"{status}: server error")
        message, code = api_error(body)
        raise SourceRequestError(
            f"the source rejected the request ({status}): {self._redact(message)}",
            status_code=status,
            code=code,
        )

    def _rows(self, body: bytes | bytearray) -> list[dict[str, Any]]:
        head = body.lstrip()[:1]
        if head == b"<":
            raise RetryableError("an HTML page instead of data (maintenance?)")
        try:
            parsed = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RetryableError(f"malformed or truncated body ({len(body)} bytes)") from None
        if isinstance(parsed, dict):
            if parsed.get("errorCode") == NO_RESULTS_CODE:
                return []
            raise RetryableError(f"an object instead of rows: {self._redact(str(parsed))[:200]}")
        if not isinstance(parsed, list) or not all(isinstance(row, dict) for row in parsed):
            raise RetryableError("the body is not a list of rows")
        return parsed

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text


def _read_into(response: httpx.Response, body: bytearray) -> bytearray:
    """The (decoded) body appended to ``body`` chunk by chunk: one growing buffer, no joined copy."""
    for chunk in response.iter_bytes():
        body += chunk
    return body


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def api_error(body: bytes | bytearray) -> tuple[str, str | None]:
    """The message and code of a Socrata error body (either of its two shapes)."""
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace").strip() or "no message", None
    if not isinstance(parsed, dict):
        return str(parsed)[:200], None
    message = str(parsed.get("message") or parsed.get("error") or parsed)[:500]
    code = parsed.get("errorCode") or parsed.get("code")
    return message, str(code) if code else None
