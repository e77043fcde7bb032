"""``resolve311 demo``: the whole product, offline, against the built-in simulator.

Starts ``resolve311 simulate`` as a child with a calibrated NYC history, mild
faults and one short outage a few simulated days ahead, then runs the same
supervisor as ``resolve311 up`` against it while the simulated clock advances
one day every ``advance_seconds``: a newcomer sees backfill, daily updates, the
outage banner and the catch-up within minutes.

The simulated clock starts ``lead_days`` before the real date and stops
advancing once it reaches it (then it moves with the real date), so the
simulated data never lies in the future.

``--cities nyc,chicago,sf`` runs one simulator per city and a several-city home
(``HOME/demo/cities/<name>/``); only the last city has the outage, so the demo
also shows the others carrying on meanwhile.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

import httpx

from resolve311.errors import ConfigError
from resolve311.processes import stop_process
from resolve311.settings import Settings
from resolve311.supervisor import Supervisor, child_env

log = logging.getLogger(__name__)

MILD_FAULTS = "503:0.02,429:0.01,202:0.01,reset:0.005,truncate:0.005,empty:0.005,html:0.005"


@dataclass(frozen=True)
class DemoOptions:
    """Knobs of the demo (the defaults make a populated dashboard within a minute)."""

    today: date  # the real date; the simulator starts ``lead_days`` earlier
    lead_days: int = 30
    history_days: int = 500  # long enough for every 1y unit, backlog warm-up included (test_demo_history)
    scale: float = 0.05
    seed: int = 311
    advance_seconds: float = 60.0
    outage_in_days: int = 3
    outage_days: int = 1
    faults: str = MILD_FAULTS
    cities: tuple[str, ...] = ("nyc",)  # several: one simulator and one directory per city

    @property
    def sim_start(self) -> date:
        return self.today - timedelta(days=self.lead_days)

    @property
    def outage_city(self) -> str:
        """The one city whose simulator has the outage (the last one)."""
        return self.cities[-1]


def demo_cities(text: str) -> tuple[str, ...]:
    """``nyc,chicago,sf`` as a tuple of built-in sources (ConfigError naming an unknown or repeated one)."""
    from resolve311.sources.catalog import load_catalog

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    known = sorted(load_catalog())
    for name in names:
        if name not in known:
            raise ConfigError(f"--cities: unknown city {name!r} (known: {', '.join(known)})")
    if not names or len(set(names)) != len(names):
        raise ConfigError(f"--cities: name each city once, e.g. nyc,chicago,sf (got {text!r})")
    return names


def simulator_args(options: DemoOptions, data_dir: str, city: str | None = None) -> list[str]:
    """Command-line arguments of the demo's simulator of ``city`` (default: the only one)."""
    city = city or options.cities[0]
    down_from = options.sim_start + timedelta(days=options.outage_in_days)
    down_to = down_from + timedelta(days=options.outage_days - 1)
    args = [
        "simulate",
        "--port", "0",
        "--seed", str(options.seed + options.cities.index(city)),
        "--today", options.sim_start.isoformat(),
        "--history-days", str(options.history_days),
        "--scale", str(options.scale),
        "--faults", options.faults,
        "--stall-seconds", "3",
        "--data-dir", data_dir,
    ]  # fmt: skip
    if city != "nyc":
        args += ["--source", city]
    if city == options.outage_city:
        args += ["--down", f"{down_from.isoformat()}..{down_to.isoformat()}"]
    return args


def demo_settings(base: Settings, url: str | Mapping[str, str], options: DemoOptions) -> Settings:
    """The demo's settings: its own home, the simulator(s) as source, a fast schedule.

    ``url`` is the simulator's base URL, or each city's (a several-city home).
    """
    urls = dict(url) if isinstance(url, Mapping) else {options.cities[0]: url}
    several = len(options.cities) > 1
    return base.model_copy(
        update={
            "home": base.home / "demo",
            "source": options.cities[0],
            "cities": list(options.cities) if several else [],
            "city_urls": urls if several else {},
            "socrata_url": None if several else urls[options.cities[0]],
            "schedule": f"@every {max(5, int(options.advance_seconds))}s",
            "history_days": options.history_days,
            "history_year_earlier": False,
            "request_timeout_s": 2.0,
            "retry_budget_s": 10.0,
            "retry_base_s": 0.2,
            "retry_max_s": 2.0,
            "retry_unavailable_minutes": max(0.25, options.advance_seconds / 60 / 2),
        }
    )


def start_simulator(
    settings: Settings, options: DemoOptions, city: str | None = None
) -> tuple[subprocess.Popen[str], str]:
    """Start the simulator child of ``city`` (default: the only one) and return it with its base URL."""
    data_dir = settings.home / "demo" / "simulator"
    if len(options.cities) > 1:
        data_dir = data_dir / str(city)
    data_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "resolve311", *simulator_args(options, str(data_dir), city)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=child_env(settings))
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("http"):
        proc.kill()
        raise ConfigError(f"the {city or 'demo'} simulator did not start (it printed {line!r})")
    return proc, line


def advance_clock(url: str, real_today: Callable[[], date]) -> None:
    """Move the simulator's clock one day forward, but never past the real date."""
    try:
        state = httpx.get(f"{url}/_sim/state", timeout=30).json()
        if date.fromisoformat(state["today"]) >= real_today():
            return
        httpx.post(f"{url}/_sim/advance", params={"days": 1}, timeout=120).raise_for_status()
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        log.warning("could not advance the simulator: %s", exc)


def _real_today() -> date:
    return datetime.now(UTC).date()


def run_demo(settings: Settings, options: DemoOptions) -> int:
    """Run the demo until SIGINT/SIGTERM, from a clean slate.

    The simulated history depends on the real date, so a warehouse left by a
    demo on another day would not match it: every demo starts afresh in
    ``HOME/demo`` (and touches nothing else).
    """
    shutil.rmtree(settings.home / "demo", ignore_errors=True)
    sims: dict[str, tuple[subprocess.Popen[str], str]] = {}
    try:
        for city in options.cities:
            sims[city] = start_simulator(settings, options, city)
            log.info("%s simulator on %s", city, sims[city][1])
        demo = demo_settings(settings, {city: url for city, (_, url) in sims.items()}, options)
        jobs: list[tuple[Callable[[], None], float]] = [
            (partial(advance_clock, url, _real_today), options.advance_seconds) for _, url in sims.values()
        ]
        supervisor = Supervisor(demo, extra_jobs=jobs, today=lambda: options.sim_start)
        print(f"resolve311 demo: dashboard on http://{demo.host}:{demo.port}  (Ctrl-C to stop)", flush=True)
        return supervisor.run()
    finally:
        for sim, _ in sims.values():
            stop_process(sim)
