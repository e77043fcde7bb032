"""The serving snapshot's temporary files: named by their writer's pid, removed once it is dead.

Apart from :mod:`~resolve311.metrics.snapshot` (which imports pandas) so that a run that only
loads data (``backfill``, ``update`` without the metrics) does not import it: ~0.2 s of start-up.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)


def temp_path(target: Path, tag: str = "") -> Path:
    """``.NAME.<pid>[.tag].tmp`` beside ``target`` (removed by :func:`remove_stale_temps` once we are dead)."""
    return target.with_name(f".{target.name}.{os.getpid()}{'.' + tag if tag else ''}.tmp")


def temp_files(tmp: Path) -> list[Path]:
    """The temporary snapshot and the files DuckDB keeps beside it."""
    return [tmp, tmp.with_name(tmp.name + ".wal")]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Remove ``.NAME.<pid>.tmp(.wal)`` files beside ``target`` whose writer is dead; returns them."""
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.glob(f".{target.name}.*.tmp*"):
        pid_text = path.name.removeprefix(f".{target.name}.").split(".")[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and not _pid_alive(int(pid_text)):
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("removed %d stale temporary snapshot file(s) of dead writers", len(removed))
    return removed
