"""A throwaway PostgreSQL server for tests: initdb + pg_ctl into a temp dir, on a free port.

initdb refuses to run as root: as root the server runs as the ``postgres`` user that
Debian's ``postgresql`` package creates (``runuser``); otherwise as the current user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from helpers import free_port


def pg_bin() -> Path | None:
    """The directory with initdb and pg_ctl (Debian's versioned one, or PATH), if installed."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@dataclass
class PostgresServer:
    data: Path
    port: int
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, text=True, timeout=120)

    @classmethod
    def start(cls) -> PostgresServer:
        binary = pg_bin()
        if binary is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        root = Path(tempfile.mkdtemp(prefix="resolve311-pg-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        server = cls(root / "data", free_port(), binary)
        server._run(
            str(binary / "initdb"), "-D", str(server.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"
        )
        opts = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        server._run(
            str(binary / "pg_ctl"), "-D", str(server.data), "-o", opts, "-l", str(root / "log"), "-w", "start"
        )
        return server

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.data.parent, ignore_errors=True)
