"""CLI command: ``resolve311 simulate`` (the SODA-compatible simulator)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from resolve311.cli.options import parse_date
from resolve311.errors import ConfigError


def simulate(
    source: Annotated[
        str, typer.Option(help="Which city's portal to serve: nyc, chicago or sf (docs/simulator.md).")
    ] = "nyc",
    port: Annotated[int, typer.Option(help="Port; 0 picks a free one.", min=0, max=65535)] = 0,
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed: same seed, same data and faults.")] = 311,
    today: Annotated[
        str | None, typer.Option(help="Simulated today (ISO date); default the real date.")
    ] = None,
    history_days: Annotated[int, typer.Option(help="Days of data before today.", min=0)] = 60,
    scale: Annotated[
        float, typer.Option(help="Volume multiplier; 1.0 = the city's real volume (NYC ~9,500/day).", min=0.0)
    ] = 1.0,
    faults: Annotated[
        str | None, typer.Option(help='Fault probabilities, e.g. "503:0.05,429:0.02,timeout:0.01".')
    ] = None,
    down: Annotated[
        str | None, typer.Option(help="Simulated dates FROM..TO when every data request gets 503.")
    ] = None,
    incident: Annotated[
        list[str] | None,
        typer.Option(
            help='Inject an incident (repeatable): "AGENCY:METRIC:FACTOR:FROM..TO", METRIC one of ttc, volume, '
            'backlog, e.g. "DSNY:ttc:2.0:2026-10-01..2026-10-14".'
        ),
    ] = None,
    replay: Annotated[
        list[Path] | None, typer.Option(help="Serve these real files instead of generated data (repeatable).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where to keep the data; default a temporary directory.")
    ] = None,
    stall_seconds: Annotated[float, typer.Option(help="How long a 'timeout' fault stalls.", min=0.0)] = 30.0,
    retry_after: Annotated[int, typer.Option(help="Retry-After seconds sent with 429.", min=0)] = 1,
    latency: Annotated[
        float,
        typer.Option(
            help="Seconds each data request waits before it is answered, like the portal's query time.",
            min=0.0,
        ),
    ] = 0.0,
    more_files: Annotated[
        list[Path] | None,
        typer.Argument(help="More replay files: --replay A.csv B.json C.csv.", show_default=False),
    ] = None,
) -> None:
    """Serve realistic 311 data (NYC, Chicago or SF) through a SODA-compatible API on 127.0.0.1.

    Prints the base URL as the first line, then serves until SIGTERM/Ctrl-C.
    Docs: docs/simulator.md.

    Example: resolve311 simulate --port 0 --scale 0.05 --history-days 30 --faults "503:0.05,429:0.02"

    Example: resolve311 simulate --scale 0.05 --incident "DSNY:ttc:2.0:2026-10-01..2026-10-14"

    Example: resolve311 simulate --source chicago --port 8061 --scale 0.05

    Example: resolve311 simulate --scale 0.5 --latency 1.0
    """
    from resolve311.simulator.cities import sim_schema
    from resolve311.simulator.config import SimConfig, parse_down, parse_faults
    from resolve311.simulator.incidents import parse_incidents
    from resolve311.simulator.runner import serve_forever

    if more_files and not replay:
        raise ConfigError("unexpected arguments: files are only accepted after --replay")
    replay = [*(replay or []), *(more_files or [])]
    for path in replay:
        if not path.is_file():
            raise ConfigError(f"replay file not found: {path}")
    sim_schema(source)  # an unknown city is an error before anything is generated
    config = SimConfig(
        source=source,
        seed=seed,
        today=parse_date(today, "--today"),
        history_days=history_days,
        scale=scale,
        faults=parse_faults(faults),
        down=parse_down(down),
        incidents=parse_incidents(incident or []),
        replay=tuple(replay),
        data_dir=data_dir,
        stall_seconds=stall_seconds,
        retry_after_seconds=retry_after,
        latency_seconds=latency,
        host=host,
        port=port,
    )
    serve_forever(config)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command(name="simulate")(simulate)
