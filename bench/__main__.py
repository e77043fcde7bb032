"""``python -m bench [--quick] [--only NAME ...] [--out BENCHMARKS.md] [--work DIR]``.

Runs the benchmarks side by side with their alternatives. Each benchmark's
section is kept in ``bench/results/<name>.md`` with the date, commit, machine
and load of the run that measured it, so ``--only NAME`` re-measures one
section and keeps the others; BENCHMARKS.md is assembled from those files.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.machine import machine_lines
from bench.report import RESULTS, Section, assemble, section_file
from bench.sizes import FULL, QUICK, Sizes

BENCHMARKS = (
    "extract",
    "load",
    "metrics",
    "web",
    "web_load",
    "publish",
    "publish_pg",
    "detection",
    "bulk_import",
)
#: Long sections run only when named with --only (their kept results are still assembled).
OPT_IN = ("scale", "metrics_history")
DEFAULT_CACHE = Path.home() / ".cache" / "resolve311-bench"
Runner = Callable[[Sizes, Path], Section]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test, not a measurement)")
    parser.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS + OPT_IN,
        help="run only this benchmark (repeatable); opt-in ones (scale) run only when named",
    )
    parser.add_argument("--out", type=Path, default=Path("BENCHMARKS.md"), help="report file to write")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="folder of per-benchmark sections (kept between runs)"
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help="scratch directory (default: a temporary one); each run empties its section folders",
    )
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE,
        help="keep the generated metrics warehouse here between runs (building it is not measured)",
    )  # fmt: skip
    parser.add_argument(
        "--no-cache", dest="cache", action="store_const", const=None, help="build every warehouse afresh"
    )
    return parser.parse_args(argv)


def provenance(args: argparse.Namespace, started: datetime) -> str:
    """How one section was measured: date, command, mode, commit, machine and load."""
    command = "python -m bench " + " ".join(sys.argv[1:])
    mode = "QUICK (tiny sizes: a smoke test, the numbers mean nothing)" if args.quick else "full"
    return "\n".join(
        [
            f"- Measured: {started:%Y-%m-%d %H:%M} UTC; mode: {mode}; command: `{command.strip()}`",
            *machine_lines(),
        ]
    )


def run_one(name: str, sizes: Sizes, work: Path) -> Section:
    module = importlib.import_module(f"bench.{name}")
    runner: Runner = module.run
    started = time.monotonic()
    try:
        section = runner(sizes, work / name)
    except Exception as exc:  # report the failure in the document instead of losing the other sections
        section = Section(
            name, f"{name}: FAILED", notes=[f"The benchmark failed: {type(exc).__name__}: {exc}"]
        )
    section.seconds = time.monotonic() - started
    print(f"bench: {name} done in {section.seconds:.0f} s", file=sys.stderr, flush=True)
    return section


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sizes = dataclasses.replace(QUICK if args.quick else FULL, cache=args.cache)
    names = [n for n in BENCHMARKS + OPT_IN if n in (args.only or BENCHMARKS)]
    started = datetime.now(UTC)
    work = args.work or Path(tempfile.mkdtemp(prefix="resolve311-bench-"))
    t0 = time.monotonic()
    try:
        for name in BENCHMARKS + OPT_IN:  # a section may reuse a sibling's output: only this run's
            shutil.rmtree(work / name, ignore_errors=True)
        for name in names:
            (work / name).mkdir(parents=True)
        measured = provenance(args, started)  # the commit and load as the run starts, not as it ends
        for name in names:
            measured = provenance(args, started)  # the load average before this section runs, not after
            section = run_one(name, sizes, work)
            section.provenance = measured
            args.results.mkdir(parents=True, exist_ok=True)
            section_file(args.results, name).write_text(section.markdown())
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(assemble(args.results, BENCHMARKS + OPT_IN))
    print(
        f"bench: {len(names)} section(s) in {time.monotonic() - t0:.0f} s; wrote {args.out}", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
