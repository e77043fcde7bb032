"""What the dashboard server does around every request (see docs/dashboard.md, "Serving in production").

- unknown page paths and bad ``/_dash-component-suites/`` paths answer 404;
- Dash callback requests are checked (:mod:`resolve311.web.callback_guard`): 400, never 500;
- API and callback answers carry an ETag keyed by the snapshot generation, answer 304 on
  ``If-None-Match`` and are served from a per-worker cache (:mod:`resolve311.web.caching`);
- responses are gzip-compressed when the client accepts it;
- security headers, with a Content-Security-Policy that lists the hash of each inline script
  of the page it is sent with (Dash's renderer start-up and clientside callbacks);
- request bodies are size-limited and must arrive in time (:mod:`resolve311.web.body_guard`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any, Final

from dash import Dash
from dash.exceptions import DependencyException
from flask import Response, g, jsonify, request

from resolve311.settings import Settings
from resolve311.web.body_guard import BodyGuard
from resolve311.web.caching import GZIP_LEVEL, Cached, ResponseCache, etag_for
from resolve311.web.callback_guard import CallbackRejected, check_callback
from resolve311.web.snapshot import SnapshotReader

CALLBACK_PATH: Final = "/_dash-update-component"
CATCHALL_RULE: Final = "/<path:path>"
SUITES: Final = "/_dash-component-suites/"
COMPRESSIBLE: Final = frozenset(
    {"text/html", "text/css", "text/plain", "application/json", "application/javascript",
     "text/javascript", "image/svg+xml", "image/x-icon"}
)  # fmt: skip
MIN_GZIP_BYTES: Final = 1024
SECURITY_HEADERS: Final = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
)
#: 'unsafe-inline' only for styles: Plotly and AG Grid inject <style> elements at run time.
CSP_BASE: Final = (
    "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.S | re.I)
NOT_FOUND_PAGE: Final = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Not found · resolve311</title></head>"
    "<body><h1>Not found</h1><p>No page here. <a href='/'>Open the overview</a>.</p></body></html>"
)


def content_security_policy(html: str | None = None) -> str:
    """The CSP for a response; for a page, its own inline scripts are allowed by hash."""
    hashes = sorted({_sha256(body) for body in inline_scripts(html)}) if html else []
    return f"{CSP_BASE}; script-src 'self'{''.join(' ' + h for h in hashes)}"


def inline_scripts(html: str) -> list[str]:
    """The bodies of the executable inline scripts of a page (not JSON data blocks, not comments)."""
    found = []
    for match in _SCRIPT.finditer(_COMMENT.sub("", html)):
        attrs = match.group("attrs").lower()
        if "src=" in attrs or "application/json" in attrs:
            continue
        found.append(match.group("body"))
    return found


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


class Hardening:
    """The request hooks of one app (one per worker process)."""

    def __init__(
        self,
        app: Dash,
        reader: SnapshotReader,
        page_paths: Iterable[str],
        settings: Settings,
        generation: Callable[[], str] | None = None,
    ) -> None:
        self.app = app
        self.reader = reader
        #: What answers depend on: the snapshot of every city served (several-city homes).
        self.generation = generation or reader.generation
        self.page_paths = frozenset(page_paths)
        self.settings_key = settings.recent
        self.cache = ResponseCache()
        self._suites_gz: dict[str, bytes] = {}
        self._suites_lock = threading.Lock()

    # ------------------------------------------------------------ before
    def before(self) -> Response | tuple[Response | str, int] | None:
        rule = request.url_rule
        if rule is not None and rule.rule == CATCHALL_RULE and not self._is_page(request.path):
            return Response(NOT_FOUND_PAGE, 404, mimetype="text/html")
        if request.path == CALLBACK_PATH and request.method == "POST":
            body = request.get_json(silent=True)
            try:
                check_callback(body, self.app.callback_map, self.reader)
            except CallbackRejected as exc:
                return _json_error(400, str(exc), exc.parameter)
        if self._cacheable():
            return self._from_cache()
        return None

    def _is_page(self, path: str) -> bool:
        return path in self.page_paths or (path.endswith("/") and path.rstrip("/") in self.page_paths)

    def _cacheable(self) -> bool:
        if request.method == "GET":
            return request.path.startswith("/api/")
        return request.method == "POST" and request.path == CALLBACK_PATH

    def _from_cache(self) -> Response | None:
        generation = self.generation()
        target = request.full_path if request.method == "GET" else request.path
        etag = etag_for(generation, self.settings_key, request.method, target, request.get_data())
        g.resolve311_cache = (generation, etag)
        if etag in request.headers.get("If-None-Match", ""):
            return self._tagged(Response(status=304), etag)
        hit = self.cache.get(generation, etag)
        if hit is None:
            return None
        g.resolve311_hit = hit
        return self._tagged(Response(hit.body, mimetype=hit.mimetype), etag)

    @staticmethod
    def _tagged(response: Response, etag: str) -> Response:
        response.headers["ETag"] = etag
        response.headers["Cache-Control"] = "no-cache"
        return response

    # ------------------------------------------------------------- after
    def after(self, response: Response) -> Response:
        self._remember(response)
        if response.status_code == 200 and response.mimetype == "text/html" and request.method == "GET":
            response.add_etag()
            response.make_conditional(request)
        self._secure(response)
        self._compress(response)
        return response

    def _remember(self, response: Response) -> None:
        key = g.pop("resolve311_cache", None)
        if key is None or response.status_code != 200 or response.direct_passthrough:
            return
        generation, etag = key
        if "resolve311_hit" not in g and self.generation() == generation:
            self.cache.put(generation, etag, Cached(response.get_data(), response.mimetype or ""))
            self._tagged(response, etag)

    def _compress(self, response: Response) -> None:
        if (
            response.status_code != 200
            or response.direct_passthrough
            or response.mimetype not in COMPRESSIBLE
            or "Content-Encoding" in response.headers
        ):
            return
        response.vary.add("Accept-Encoding")
        if not request.accept_encodings["gzip"]:
            return
        data = response.get_data()
        if len(data) < MIN_GZIP_BYTES:
            return
        hit: Cached | None = g.pop("resolve311_hit", None)
        response.set_data(hit.gz() if hit else self._gzip(data))
        response.headers["Content-Encoding"] = "gzip"
        etag, weak = response.get_etag()
        if etag and not weak:
            response.set_etag(etag, weak=True)

    def _gzip(self, data: bytes) -> bytes:
        if not request.path.startswith(SUITES):
            return gzip.compress(data, GZIP_LEVEL)
        with self._suites_lock:  # static bundles (plotly.js: 4.7 MB): compressed once per worker
            gz = self._suites_gz.get(request.path)
        if gz is None:
            gz = gzip.compress(data, 6)
            with self._suites_lock:
                self._suites_gz[request.path] = gz
        return gz

    @staticmethod
    def _secure(response: Response) -> None:
        for name, value in SECURITY_HEADERS:
            response.headers.setdefault(name, value)
        html = None
        if response.mimetype == "text/html" and not response.direct_passthrough:
            html = response.get_data(as_text=True)
        response.headers["Content-Security-Policy"] = content_security_policy(html)


def _json_error(status: int, message: str, parameter: str | None = None) -> tuple[Response, int]:
    body: dict[str, Any] = {"error": message}
    if parameter:
        body["parameter"] = parameter
    return jsonify(body), status


def harden(
    app: Dash,
    reader: SnapshotReader,
    page_paths: Iterable[str],
    settings: Settings,
    generation: Callable[[], str] | None = None,
) -> Hardening:
    """Install the hooks on ``app.server`` and wrap its WSGI app in the body guard."""
    hooks = Hardening(app, reader, page_paths, settings, generation)
    server = app.server
    server.before_request(hooks.before)
    server.after_request(hooks.after)
    server.register_error_handler(
        DependencyException, lambda exc: Response(NOT_FOUND_PAGE, 404, mimetype="text/html")
    )
    server.wsgi_app = BodyGuard(
        server.wsgi_app,
        max_bytes=settings.web_max_body_kb * 1024,
        timeout_s=settings.web_timeout_s,
        headers=SECURITY_HEADERS,
    )
    return hooks
