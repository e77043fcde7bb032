"""The serving-file sink: the DuckDB snapshot the dashboard reads.

Publishing links the release's file to a temporary sibling of the serving file and
renames that onto it (``os.replace``: atomic, the dashboard sees the old file or the new
one, never half of one). A release that *is* the serving file (``resolve311 publish``
republishing it) is only checked. It is the one required sink: it runs first, and a run
succeeds only if it does.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from resolve311.metrics.snapshot_temps import temp_path
from resolve311.publish.base import Release
from resolve311.settings import Settings


class ServingFile:
    """The dashboard's DuckDB file (``snapshot_path``)."""

    name = "serving"
    required = True

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def from_settings(cls, settings: Settings) -> ServingFile:
        """Always configured: the dashboard reads it."""
        return cls(settings.snapshot_path)

    def publish(self, release: Release, warehouse: duckdb.DuckDBPyConnection) -> str:
        if release.snapshot_path.resolve() != self.path.resolve():
            place(release.snapshot_path, self.path)
        # the file in place is the release's (its mtime is part of the generation); read by
        # the release's path: DuckDB would answer from a database this process has open by path
        if not release.generation.endswith(f"+{self.path.stat().st_mtime_ns}"):
            raise RuntimeError(f"{self.path} changed while publishing")
        return f"{len(release.tables())} tables in {self.path.name}"


def place(source: Path, target: Path) -> None:
    """Make ``target`` the file ``source`` is, atomically: a hard link (a copy across devices), then a rename."""
    tmp = temp_path(target, "place")
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(source, tmp)
        except OSError:  # no hard links here: copy (keeps the mtime, hence the generation)
            shutil.copy2(source, tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
