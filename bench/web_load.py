"""Benchmark 5 — web_load: simulated users browsing while ``update`` and ``metrics --full`` run.

Side by side: today's server (Flask/Werkzeug's threaded development server, the app
without the hardening layer, as ``serve`` ran it before) and ``resolve311 serve``
(gunicorn, workers x threads, ETag/304, per-generation cache, gzip). Every request goes
to 127.0.0.1 only; the loop is bounded by time and by a request count per user.
"""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import duckdb
import httpx

from bench.dash_client import payload
from bench.report import Section
from bench.simproc import simulator
from bench.sizes import Sizes
from bench.web import _free_port
from bench.web_direct import _percentile
from resolve311.processes import stop_process

API_P95_MS, PAGE_P95_MS = 300.0, 1000.0
MAX_REQUESTS_PER_USER = 5_000
THINK_S = (0.2, 1.0)
#: The load generator shares the 2 cores with the servers: aiohttp (C HTTP parser) costs ~0.3 ms of CPU
#: per request where httpx's AsyncClient costs ~1.9 ms (measured on this machine, same requests).
CLIENT_HEADERS = {"Accept-Encoding": "gzip"}
COLUMNS = (
    "server", "users", "requests", "failed", "304", "API p50 ms", "API p95 ms",
    "page/callback p50 ms", "page/callback p95 ms", "max ms", "req/s", "writer runs ok", "meets target",
)  # fmt: skip
#: (row, server, the writer's background_nice: None = the product's default). The last row is the
#: same server with the writer at normal priority: what lowering the refresh's priority buys.
RUNS: tuple[tuple[str, str, int | None], ...] = (
    ("today: Werkzeug dev server (threaded)", "dev", None),
    ("resolve311 serve: gunicorn", "prod", None),
    ("gunicorn, writer at normal priority (background_nice = 0)", "prod", 0),
)
DEV_SERVER = (
    "import os; from resolve311.settings import load_settings; from resolve311.web.app import create_app; "
    "create_app(load_settings(), hardened=False).run(host='127.0.0.1', port=int(os.environ['PORT']), "
    "threaded=True, debug=False)"
)


@dataclass
class Stats:
    """Latencies (ms) per kind of request, failures and conditional hits."""

    times: dict[str, list[float]] = field(default_factory=lambda: {"api": [], "page": []})
    failed: int = 0
    not_modified: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def record(self, kind: str, ms: float, status: int | None, what: str) -> None:
        self.times[kind].append(ms)
        if status == 304:
            self.not_modified += 1
        if status not in (200, 204, 304):
            self.failed += 1
            key = f"{what}: {status or 'no answer'}"
            self.errors[key] = self.errors.get(key, 0) + 1


@dataclass
class Targets:
    agencies: list[str]
    types: dict[str, list[str]]


def _env(home: Path, url: str = "") -> dict[str, str]:
    env = {**os.environ, "RESOLVE311_HOME": str(home), "RESOLVE311_CONFIG": str(home / "none.toml")}
    env.pop("SOCRATA_APP_TOKEN", None)
    if url:
        env["RESOLVE311_SOCRATA_URL"] = url
    return env


def _resolve311(home: Path, url: str, *args: str, nice: int | None = None) -> int:
    """Run a resolve311 command as a user would; ``nice`` sets its ``background_nice`` (None: the default)."""
    cmd = [sys.executable, "-m", "resolve311", *args]
    env = _env(home, url)
    if nice is not None:
        env["RESOLVE311_BACKGROUND_NICE"] = str(nice)
    done = subprocess.run(cmd, env=env, capture_output=True, timeout=1800)
    return done.returncode


@contextmanager
def _server(kind: str, home: Path) -> Iterator[str]:
    port = _free_port()
    env = {**_env(home), "PORT": str(port)}
    if kind == "dev":
        cmd = [sys.executable, "-c", DEV_SERVER]
    else:
        cmd = [sys.executable, "-m", "resolve311", "serve", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"{kind} server exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/api/status", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{kind} server did not answer within 180 s")
        yield url
    finally:
        stop_process(proc, 20)


@contextmanager
def _writer(home: Path, url: str, seconds: float, nice: int | None = None) -> Iterator[list[int]]:
    """``update`` then ``metrics --full``, again and again, until the users stop (bounded).

    The commands are started as the product starts them (``up``, cron): each lowers its own CPU
    priority to ``background_nice`` (default 10); ``nice`` overrides that setting, as a user would.
    """
    codes: list[int] = []
    stop = threading.Event()

    def loop() -> None:
        deadline = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < deadline and len(codes) < 40:
            codes.append(_resolve311(home, url, "update", nice=nice))
            if not stop.is_set():
                codes.append(_resolve311(home, url, "metrics", "--full", nice=nice))

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield codes
    finally:
        stop.set()
        thread.join(timeout=1800)


def _targets(home: Path) -> Targets:
    con = duckdb.connect(str(home / "serving.duckdb"), read_only=True)
    try:
        agencies = [r[0] for r in con.execute("SELECT agency FROM agencies ORDER BY agency").fetchall()]
        rows = con.execute(
            "SELECT DISTINCT agency, complaint_type FROM scorecard WHERE complaint_type <> '*' AND borough = '*'"
        ).fetchall()
    finally:
        con.close()
    types: dict[str, list[str]] = {}
    for agency, ctype in rows:
        types.setdefault(agency, []).append(ctype)
    return Targets(agencies, types)


class User:
    """One simulated browser: overview, agency views (Dash callbacks) and API calls, with think time."""

    def __init__(
        self, client: aiohttp.ClientSession, deps: list[dict[str, Any]], targets: Targets, seed: int
    ) -> None:
        self.client, self.targets, self.rng = client, targets, random.Random(seed)
        self.deps = {d["inputs"][0]["id"]: d for d in deps if not d.get("clientside_function")}
        self.etags: dict[str, str] = {}

    async def _send(
        self, stats: Stats, kind: str, what: str, method: str, path: str, body: Any = None
    ) -> None:
        headers = dict(CLIENT_HEADERS)
        if method == "GET" and path in self.etags:
            headers["If-None-Match"] = self.etags[path]
        started = time.perf_counter()
        status = None
        try:
            async with self.client.request(method, path, json=body, headers=headers) as response:
                await response.read()
                status = response.status
                if method == "GET" and "ETag" in response.headers:
                    self.etags[path] = response.headers["ETag"]
        except (aiohttp.ClientError, TimeoutError):
            pass
        stats.record(kind, (time.perf_counter() - started) * 1000, status, what)

    def _call(self, first_input: str, values: dict[tuple[str, str], Any]) -> dict[str, Any]:
        dep = self.deps[first_input]
        return payload(dep, values, [f"{first_input}.{dep['inputs'][0]['property']}"])

    async def overview(self, stats: Stats) -> None:
        window, baseline = self.rng.choice(("1d", "7d", "28d")), self.rng.choice(("8w", "1y"))
        await self._send(stats, "page", "page", "GET", "/")
        page = {("_pages_location", "pathname"): "/", ("_pages_location", "search"): f"?window={window}"}
        await self._send(
            stats,
            "page",
            "page callback",
            "POST",
            "/_dash-update-component",
            self._call("_pages_location", page),
        )
        values = {("overview-window", "value"): window, ("overview-baseline", "value"): baseline}
        await self._send(
            stats,
            "page",
            "overview callback",
            "POST",
            "/_dash-update-component",
            self._call("overview-window", values),
        )

    async def agency(self, stats: Stats) -> None:
        code = self.rng.choice(self.targets.agencies)
        ctype = self.rng.choice([None, *self.targets.types.get(code, [])[:5]])
        await self._send(stats, "page", "page", "GET", "/agency")
        page = {("_pages_location", "pathname"): "/agency", ("_pages_location", "search"): f"?agency={code}"}
        await self._send(
            stats,
            "page",
            "page callback",
            "POST",
            "/_dash-update-component",
            self._call("_pages_location", page),
        )
        values = {
            ("agency-select", "value"): code, ("complaint-type-select", "value"): ctype,
            ("borough-select", "value"): None, ("window-select", "value"): self.rng.choice(("1d", "7d", "28d")),
            ("baseline-select", "value"): self.rng.choice(("8w", "1y")),
            ("period-select", "value"): self.rng.choice(("day", "week")),
        }  # fmt: skip
        await self._send(
            stats,
            "page",
            "agency callback",
            "POST",
            "/_dash-update-component",
            self._call("agency-select", values),
        )

    async def api(self, stats: Stats) -> None:
        code = self.rng.choice(self.targets.agencies)
        for path in ("/api/status", "/api/agencies", f"/api/agencies/{code}/scorecard",
                     self.rng.choice((f"/api/agencies/{code}/heatmap", f"/api/agencies/{code}/series"))):  # fmt: skip
            await self._send(stats, "api", path.split("/")[-1], "GET", path)

    async def browse(self, stats: Stats, until: float) -> None:
        actions = (self.overview, self.agency, self.agency, self.api)
        for _ in range(MAX_REQUESTS_PER_USER // 4):
            if time.monotonic() >= until:
                return
            await self.rng.choice(actions)(stats)
            await asyncio.sleep(self.rng.uniform(*THINK_S))


async def _users(url: str, targets: Targets, users: int, seconds: float) -> tuple[Stats, float]:
    stats = Stats()
    connector = aiohttp.TCPConnector(limit=users)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        async with client.get("/_dash-dependencies") as response:
            deps = await response.json()
        started = time.monotonic()
        crowd = [User(client, deps, targets, seed) for seed in range(users)]
        await asyncio.gather(*(u.browse(stats, started + seconds) for u in crowd))
        return stats, time.monotonic() - started


def _prepare(home: Path, url: str) -> None:
    home.mkdir(parents=True, exist_ok=True)
    code = _resolve311(home, url, "update")
    if code != 0 or not (home / "serving.duckdb").exists():
        raise RuntimeError(f"the first update failed ({code})")


def run(sizes: Sizes, work: Path) -> Section:
    """Serve one warehouse with each server while users browse and the pipeline writes."""
    section = Section("web_load", "5. Web under load: users browsing during update + metrics --full")
    table = section.table(
        *COLUMNS, caption=f"{sizes.web_load_seconds:.0f} s per server, {sizes.web_load_users} users"
    )
    sim_args = [
        "--today",
        sizes.today,
        "--history-days",
        str(sizes.web_load_days),
        "--scale",
        str(sizes.web_load_scale),
    ]
    loads: list[str] = []
    peak = 0.0
    errors: list[str] = []
    with simulator(*sim_args) as url:
        home = work / "home"
        _prepare(home, url)
        targets = _targets(home)
        for name, kind, nice in RUNS if sizes.web_load_normal_priority else RUNS[:2]:
            with _server(kind, home) as base, _writer(home, url, sizes.web_load_seconds, nice) as codes:
                stats, took = asyncio.run(_users(base, targets, sizes.web_load_users, sizes.web_load_seconds))
            loads.append(f"{name}: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
            peak = max(peak, os.getloadavg()[0])
            errors += [f"{name}: {k} ×{v}" for k, v in sorted(stats.errors.items())]
            _row(table, name, sizes.web_load_users, stats, took, codes)
    section.setup = _setup(sizes)
    section.notes = [
        *_notes(table),
        "Load average (1/5/15 min) right after each server's run: " + "; ".join(loads) + ". "
        f"The targets are for this 2-core machine otherwise idle; at a load of {peak:.0f} each runnable "
        f"process gets about {min(2 / max(peak, 1e-9), 1):.0%} of a core.",
    ]
    if errors:
        section.notes.append("Failed requests: " + "; ".join(errors[:12]) + ".")
    return section


def _row(table: Any, name: str, users: int, stats: Stats, took: float, codes: list[int]) -> None:
    api, page = stats.times["api"], stats.times["page"]
    every = api + page
    api95, page95 = _percentile(api, 0.95), _percentile(page, 0.95)
    ok = stats.failed == 0 and api95 <= API_P95_MS and page95 <= PAGE_P95_MS
    table.add(
        name, users, len(every), stats.failed, stats.not_modified, _percentile(api, 0.5), api95,
        _percentile(page, 0.5), page95, max(every) if every else None, len(every) / took if took else None,
        f"{sum(c == 0 for c in codes)} of {len(codes)}", ok,
    )  # fmt: skip


def _setup(sizes: Sizes) -> str:
    return (
        f"The simulator serves {sizes.web_load_days} days of NYC-shaped data at scale {sizes.web_load_scale}; one "
        "`resolve311 update` builds the warehouse and publishes the snapshot. Then, for each server in turn "
        f"(same home, same snapshot), {sizes.web_load_users} simulated users browse for "
        f"{sizes.web_load_seconds:.0f} s while a writer runs `resolve311 update` and `resolve311 metrics --full` "
        "back to back (each `metrics` publishes a new snapshot, so the servers swap files under load), started as "
        "the product starts them (`up`, cron): each command lowers its own CPU priority to `background_nice` "
        "(default 10), as it does for every user; the last row sets `background_nice = 0` instead. A user "
        f"picks an action, then thinks {THINK_S[0]}–{THINK_S[1]} s: the overview (page GET, the page callback, "
        "the window/baseline callback with a random choice), an agency view (page GET, page callback, the view "
        "callback with a random agency, complaint type, window, baseline and period; twice as likely) or four "
        "API calls. Users behave like browsers: a GET repeats with `If-None-Match` when it got an ETag; callback "
        "POSTs never do (browsers don't). Requests are the browser's own Dash callback bodies (built from "
        "`/_dash-dependencies`), sent with `Accept-Encoding: gzip` by aiohttp from one asyncio process on the same "
        "machine (aiohttp costs ~0.3 ms of CPU per request; httpx's AsyncClient, used before, ~1.9 ms, which the "
        "2 cores lost to the measurement itself). *Failed* = no answer or a status other than 200/204/304. Targets: 0 failed, API p95 ≤ "
        f"{API_P95_MS:.0f} ms, page/callback p95 ≤ {PAGE_P95_MS:.0f} ms."
    )


def _notes(table: Any) -> list[str]:
    rows = {str(r[0]).split(":")[0]: r for r in table.rows}
    dev, prod, normal = rows.get("today"), rows.get("resolve311 serve"), rows.get(RUNS[2][0])
    out = []
    if dev and prod and isinstance(dev[8], float) and isinstance(prod[8], float) and prod[8] > 0:
        out.append(
            f"Page/callback p95: {dev[8]:,.0f} ms today vs {prod[8]:,.0f} ms with gunicorn "
            f"({dev[8] / prod[8]:.1f}×); API p95: {dev[6]:,.0f} vs {prod[6]:,.0f} ms; "
            f"failed requests: {dev[3]} vs {prod[3]}."
        )
    if prod and normal and isinstance(normal[8], float) and isinstance(normal[6], float):
        out.append(
            f"The writer at normal priority (`background_nice = 0`) instead of 10: page/callback p95 "
            f"{normal[8]:,.0f} vs {prod[8]:,.0f} ms, API p95 {normal[6]:,.0f} vs {prod[6]:,.0f} ms, writer runs "
            f"{normal[11]} vs {prod[11]} in the same time."
        )
    out.append(
        "gunicorn runs the default `web_workers` × `web_threads` (2 × 8). Each answer is cached per worker "
        "and snapshot generation, so repeated views cost little until the writer publishes a new snapshot "
        "(every `metrics --full`), which empties the caches: the measured window includes those cold periods. "
        "The client shares the 2 cores with the servers, the writer and the other engineers' jobs."
    )
    return out
