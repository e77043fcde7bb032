"""One writer at a time: an exclusive lock file, released by the OS when the process dies.

Every command that writes the warehouse (update, backfill, import, rebuild, metrics,
import-sla) holds it. The file records who holds it (pid, command, since when, as one
JSON line) so a refused command can say so. The lock is re-entrant within a thread:
a run that holds it can refresh the metrics, which take it too.
"""

from __future__ import annotations

import fcntl
import json
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from resolve311.errors import LockBusy

_held: dict[tuple[Path, int], int] = {}
_held_guard = threading.Lock()


def holder_text(raw: str) -> str:
    """``pid N, `command`, since T`` from the lock file's content (older files hold just a pid)."""
    raw = raw.strip()
    try:
        info = json.loads(raw)
    except ValueError:
        return f"pid {raw or 'unknown'}"
    if not isinstance(info, dict):
        return f"pid {raw}"
    return f"pid {info.get('pid', '?')}, `{info.get('command', '?')}`, since {info.get('since', '?')}"


def read_holder(path: Path) -> str:
    """Who holds (or last held) the lock at ``path``."""
    try:
        return holder_text(path.read_text(errors="replace"))
    except OSError:
        return "pid unknown"


def is_held(path: Path) -> bool:
    """True when some process holds the lock at ``path`` right now."""
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases a shared lock we may have taken
    return False


@contextmanager
def update_lock(path: Path, command: str = "update") -> Iterator[None]:
    """Hold the lock at ``path`` for the block; raise :class:`LockBusy` at once if it is taken."""
    key = (path.resolve(), threading.get_ident())
    with _held_guard:
        if key in _held:
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    with _exclusive(path, command):
        with _held_guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_guard:
                _held.pop(key, None)


@contextmanager
def _exclusive(path: Path, command: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = holder_text(os.read(fd, 4096).decode(errors="replace"))
        os.close(fd)
        raise LockBusy(
            f"another writer holds the warehouse ({holder}; lock {path}); try again when it has finished"
        ) from None
    try:
        os.ftruncate(fd, 0)
        info = {
            "pid": os.getpid(),
            "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "argv": " ".join(sys.argv[1:])[:200],
        }
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
