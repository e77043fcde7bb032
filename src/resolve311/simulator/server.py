"""The HTTP face of the simulator: SODA 2.1 and 3 endpoints, /_sim control, injected faults."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import struct
import uuid
from collections.abc import Iterator
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import duckdb

from resolve311.errors import Resolve311Error
from resolve311.simulator.engine import Simulation
from resolve311.simulator.metadata import view_metadata
from resolve311.simulator.render import csv_header, csv_lines_sql, json_lines_sql, soda2_headers
from resolve311.simulator.soql import Query, SoqlTable, from_params, from_query_text, system_columns
from resolve311.simulator.soql_parse import SoqlError

log = logging.getLogger(__name__)
ORACLE_HEADER = "X-Sim-No-Faults"
BODY_FAULTS = frozenset({"empty", "reset", "truncate"})
FETCH_ROWS = 5000
MAINTENANCE_HTML = (
    "<!DOCTYPE html><html><head><title>Scheduled Maintenance</title></head><body>"
    "<h1>We'll be back soon</h1><p>NYC Open Data is undergoing scheduled maintenance.</p></body></html>"
)
_RESOURCE = re.compile(r"^/resource/(?P<id>[^/.]+)\.(?P<fmt>json|csv)$")
_VIEW = re.compile(r"^/api/views/(?P<id>[^/.]+)\.json$")
_V3 = re.compile(r"^/api/v3/views/(?P<id>[^/.]+)/query\.json$")


class Abort(Exception):
    """Stop handling the request; the connection is already dealt with."""


class SimHandler(BaseHTTPRequestHandler):
    """One request. ``server.simulation`` is the shared Simulation."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # small header+body writes must not wait for delayed ACKs
    server: SimServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: the simulator does not log each request."""

    # --- routing
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        with self.server.simulation.handling():
            self._route(method)

    def _route(self, method: str) -> None:
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        sim = self.server.simulation
        try:
            if url.path.startswith("/_sim/"):
                self._control(method, url.path, params)
                return
            sim.count_request()
            if method == "GET" and (match := _RESOURCE.match(url.path)):
                table = sim.store.schema.soql
                self._query_time()
                self._data_request(match["id"], lambda: from_params(params, table), match["fmt"])
            elif method == "GET" and (match := _VIEW.match(url.path)):
                self._metadata(match["id"])
            elif method == "POST" and (match := _V3.match(url.path)):
                self._query_time()
                self._soda3(match["id"])
            else:
                self.close_connection = True  # an unread request body must not be taken for the next request
                self._send_json(
                    404, {"code": "not_found", "error": True, "message": f"Not found: {url.path}"}
                )
        except _Done:
            return
        except Abort:
            self.close_connection = True
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception as exc:  # a bug must not kill the server: answer 500 if still possible
            log.exception("simulator failed on %s %s", method, url.path)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self._send_json(500, {"code": "internal_error", "error": True, "message": type(exc).__name__})

    def _control(self, method: str, path: str, params: dict[str, str]) -> None:
        sim = self.server.simulation
        if path == "/_sim/state" and method == "GET":
            self._send_json(200, sim.state())
        elif path == "/_sim/advance" and method == "POST":
            try:
                days = int(params.get("days", "1"))
                self._send_json(200, sim.advance(days))
            except (ValueError, Resolve311Error) as exc:
                self._send_json(400, {"error": True, "message": str(exc)})
        elif path == "/_sim/replace" and method == "POST":
            self._send_json(200, sim.replace_all())
        else:
            self._send_json(404, {"error": True, "message": f"no such control endpoint: {method} {path}"})

    def _query_time(self) -> None:
        """Wait ``--latency`` seconds before a data request is answered, as the portal takes its time to
        run a query (this thread only: other requests are served meanwhile; cut short at shutdown)."""
        sim = self.server.simulation
        if sim.config.latency_seconds > 0:
            sim.stop_event.wait(sim.config.latency_seconds)

    # --- faults
    def _fault(self) -> str | None:
        """Inject the drawn fault.

        Status faults (5xx, 429, 202, html, --down) are answered here and raise _Done; a
        timeout stalls then drops the connection; body faults (empty, reset, truncate) are
        returned for the body writer to apply.
        """
        if self.headers.get(ORACLE_HEADER, "").strip().lower() in {"1", "true", "yes"}:
            return None
        sim = self.server.simulation
        kind = sim.faults.draw(sim.today)
        if kind is None or kind in BODY_FAULTS:
            return kind
        if kind == "timeout":
            sim.stop_event.wait(sim.config.stall_seconds)
            raise Abort
        if kind == "html":
            self._send_bytes(200, MAINTENANCE_HTML.encode(), "text/html; charset=utf-8")
        elif kind == "429":
            body = {"code": "too_many_requests", "error": True, "message": "Too many requests"}
            self._send_json(429, body, {"Retry-After": str(sim.config.retry_after_seconds)})
        elif kind == "202":
            self._send_json(202, {"code": "processing", "error": False, "message": "Still processing, retry"})
        else:
            code = 503 if kind == "down" else int(kind)
            self._send_json(code, {"code": "internal_error", "error": True, "message": "Service Unavailable"})
        raise _Done

    # --- data
    def _dataset(self, dataset: str) -> str:
        datasets = self.server.simulation.store.schema.datasets
        if dataset not in datasets:
            self._send_json(
                404,
                {
                    "code": "not_found",
                    "error": True,
                    "message": f"Cannot find view with id {dataset}",
                    "data": {"id": dataset},
                },
            )
            raise _Done
        return datasets[dataset][1]

    def _data_request(self, dataset: str, make_query: Any, fmt: str, v3: bool = False) -> None:
        try:
            fault = self._fault()
            predicate = self._dataset(dataset)
            query: Query = make_query()
        except _Done:
            return
        except SoqlError as exc:
            self._send_error_body(exc, v3)
            return
        inner = query.sql("rows", predicate)
        lines_sql = json_lines_sql(query, inner) if fmt == "json" else csv_lines_sql(query, inner)
        with self.server.simulation.store.cursor() as cursor:
            try:
                result = cursor.execute(lines_sql)
            except duckdb.Error as exc:
                message = f"Invalid SoQL query: {exc}".splitlines()[0]
                self._send_error_body(SoqlError("query.soql.invalid", message), v3)
                return
            headers = soda2_headers(query)
            if fmt == "json":
                body = _json_body(result, fault == "empty")
                self._stream(body, "application/json;charset=utf-8", headers, fault)
            else:
                body = _csv_body(result, csv_header(query), fault == "empty")
                self._stream(body, "text/csv;charset=utf-8", headers, fault)

    def _soda3(self, dataset: str) -> None:
        if not self.headers.get("X-App-Token", "").strip():
            self._read_body()
            self._send_json(
                403,
                {
                    "message": "An app token is required for this endpoint",
                    "errorCode": "authentication.required",
                    "data": {},
                },
            )
            return
        try:
            body = json.loads(self._read_body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
        except ValueError as exc:
            self._send_json(
                400,
                {"message": f"Bad request body: {exc}", "errorCode": "query.compiler.malformed", "data": {}},
            )
            return
        table = self.server.simulation.store.schema.soql
        self._data_request(dataset, lambda: _v3_query(body, table), "json", v3=True)

    def _metadata(self, dataset: str) -> None:
        try:
            fault = self._fault()
            self._dataset(dataset)
        except _Done:
            return
        store = self.server.simulation.store
        document = view_metadata(dataset, store.rows_updated_at(), store.schema)
        body = b"{}" if fault == "empty" else json.dumps(document).encode()
        self._stream(iter([body]), "application/json;charset=utf-8", {}, fault)

    # --- responses
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_error_body(self, exc: SoqlError, v3: bool) -> None:
        if v3:
            body: dict[str, Any] = {"message": exc.message, "errorCode": exc.code, "data": exc.data}
        else:
            body = {"code": exc.code, "error": True, "message": exc.message, "data": exc.data}
        self._send_json(400, body)

    def _send_json(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
        self._send_bytes(status, json.dumps(body).encode(), "application/json;charset=utf-8", headers)

    def _send_bytes(
        self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Socrata-RequestId", uuid.uuid4().hex[:24])
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(
        self, body: Iterator[bytes], content_type: str, headers: dict[str, str], fault: str | None
    ) -> None:
        """Send a chunked 200; ``reset``/``truncate`` cut the body after part of its first chunk."""
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Socrata-RequestId", uuid.uuid4().hex[:24])
        updated = self.server.simulation.store.rows_updated_at()
        if updated is not None:
            self.send_header("Last-Modified", format_datetime(updated.replace(tzinfo=UTC), usegmt=True))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in body:
            if fault in {"reset", "truncate"}:
                self._write_chunk(chunk[: max(1, len(chunk) // 2)])
                self._cut(fault)
            self._write_chunk(chunk)
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _cut(self, fault: str) -> None:
        self.wfile.flush()
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            self.connection.shutdown(socket.SHUT_RDWR)
        raise Abort


class _Done(Exception):
    """The response has been sent."""


def _v3_query(body: dict[str, Any], table: SoqlTable) -> Query:
    query = from_query_text(str(body.get("query") or "SELECT *"), table)
    page = body.get("page")
    if isinstance(page, dict):
        try:
            size, number = int(page.get("pageSize", 1000)), int(page.get("pageNumber", 1))
        except (TypeError, ValueError):
            raise SoqlError(
                "query.compiler.malformed", "page.pageSize and page.pageNumber must be integers"
            ) from None
        if size < 0 or number < 1:
            raise SoqlError("query.compiler.malformed", "page.pageSize must be >= 0 and page.pageNumber >= 1")
        query.offset, query.limit = query.offset + (number - 1) * size, size
    if body.get("includeSynthetic") and not any(c.name == ":id" for c in query.columns):
        query.columns = [*system_columns(), *query.columns]
    return query


def _batches(result: duckdb.DuckDBPyConnection) -> Iterator[list[str]]:
    while batch := result.fetchmany(FETCH_ROWS):
        yield [row[0] for row in batch]


def _json_body(result: duckdb.DuckDBPyConnection, empty: bool) -> Iterator[bytes]:
    if empty:
        yield b"[]\n"
        return
    first = True
    for lines in _batches(result):
        yield (("[" if first else "\n,") + "\n,".join(lines)).encode()
        first = False
    yield b"[]\n" if first else b"]\n"


def _csv_body(result: duckdb.DuckDBPyConnection, header: str, empty: bool) -> Iterator[bytes]:
    yield (header + "\n").encode()
    if empty:
        return
    for lines in _batches(result):
        yield ("\n".join(lines) + "\n").encode()


class SimServer(ThreadingHTTPServer):
    """A threading HTTP server bound to one Simulation."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], simulation: Simulation):
        super().__init__(address, SimHandler)
        self.simulation = simulation

    @property
    def base_url(self) -> str:
        host, port = self.server_address[0], self.server_address[1]
        return f"http://{host!s}:{port}"
