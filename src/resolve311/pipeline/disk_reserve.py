"""Space held on the warehouse's disk, freed when the disk fills so the ledger can still record why."""

from __future__ import annotations

from pathlib import Path

from resolve311.settings import Settings

RESERVE_NAME = ".disk-reserve"
RESERVE_BYTES = 2 * 1024 * 1024


def _reserve_path(settings: Settings) -> Path:
    return settings.home / RESERVE_NAME


def keep_reserve(settings: Settings) -> None:
    """Hold RESERVE_BYTES on the warehouse's disk, released when the disk is full (see release_reserve)."""
    path = _reserve_path(settings)
    if path.exists() and path.stat().st_size >= RESERVE_BYTES:
        return
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            out.write(b"\0" * RESERVE_BYTES)
    except OSError:  # no room for it: the run goes on without a reserve
        path.unlink(missing_ok=True)


def release_reserve(settings: Settings) -> None:
    """Free the reserved space: room for the ledger to record that the disk is full."""
    _reserve_path(settings).unlink(missing_ok=True)
