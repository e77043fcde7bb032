"""WSGI middleware: request bodies are size-limited and must arrive within a deadline.

A body announced bigger than the limit is refused at once with 413 (nothing is
read, the connection is closed). Otherwise the body is read in full before the
app runs, within ``timeout_s`` (413 when a chunked body outgrows the limit, 408
when the client is too slow), so a slow or endless upload holds a worker thread
for at most ``timeout_s``. Under gunicorn the deadline is enforced on the client
socket itself (``gunicorn.socket``); bodies are small (Dash callbacks, a few KB).
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]
CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    """The body outgrew the limit while being read."""


class BodyGuard:
    """Wrap ``app`` so that no request body is bigger than ``max_bytes`` or slower than ``timeout_s``."""

    def __init__(
        self, app: WSGIApp, *, max_bytes: int, timeout_s: float, headers: Iterable[tuple[str, str]] = ()
    ) -> None:
        self.app = app
        self.headers = list(headers)
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        announced = _content_length(environ)
        if announced is not None and announced > self.max_bytes:
            return self._refuse(start_response, 413, f"request body too large (limit {self.max_bytes} bytes)")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if announced or chunked:
            try:
                body = self._read(environ, announced)
            except BodyTooLarge:
                return self._refuse(
                    start_response, 413, f"request body too large (limit {self.max_bytes} bytes)"
                )
            except (TimeoutError, OSError):
                return self._refuse(
                    start_response, 408, f"request body not received within {self.timeout_s:g} s"
                )
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)

    def _read(self, environ: Environ, announced: int | None) -> bytes:
        stream = environ["wsgi.input"]
        sock = environ.get("gunicorn.socket")
        deadline = time.monotonic() + self.timeout_s
        want = announced if announced is not None else self.max_bytes + 1
        parts: list[bytes] = []
        size = 0
        try:
            while size < want:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                if isinstance(sock, socket.socket):
                    sock.settimeout(left)
                data = stream.read(min(CHUNK, want - size))
                if not data:
                    break
                parts.append(data)
                size += len(data)
                if size > self.max_bytes:
                    raise BodyTooLarge
        finally:
            if isinstance(sock, socket.socket):
                sock.settimeout(None)
        return b"".join(parts)

    def _refuse(self, start_response: StartResponse, status: int, message: str) -> list[bytes]:
        body = json.dumps({"error": message}).encode()
        reason = {408: "Request Timeout", 413: "Content Too Large"}[status]
        headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
            *self.headers,
        ]
        start_response(f"{status} {reason}", headers)
        return [body]


def _content_length(environ: Environ) -> int | None:
    raw = environ.get("CONTENT_LENGTH") or ""
    try:
        return int(raw) if raw else None
    except ValueError:
        return None
