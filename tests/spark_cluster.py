"""A real Spark standalone cluster on localhost: a master and workers as separate JVM processes.

Started from the classes the pyspark package ships (``$SPARK_HOME/bin/spark-class``, with
SPARK_HOME = the pyspark package directory), each worker with 1 core and 1 GB.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from helpers import free_port, wait_for
from resolve311.processes import stop_process


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@dataclass
class SparkCluster:
    master_url: str
    ui_url: str
    work: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls, workers: int = 2, memory: str = "1g") -> SparkCluster:
        home = spark_home()
        work = Path(tempfile.mkdtemp(prefix="resolve311-spark-"))
        env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable,
               "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_NO_DAEMONIZE": "1"}  # fmt: skip
        port, ui = free_port(), free_port()
        cluster = cls(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}", work)
        spark_class = str(home / "bin" / "spark-class")

        def launch(name: str, *args: str) -> None:
            log = (work / f"{name}.log").open("wb")
            cluster.processes.append(
                subprocess.Popen([spark_class, *args], env=env, stdout=log, stderr=subprocess.STDOUT)
            )

        launch("master", "org.apache.spark.deploy.master.Master",
               "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui))  # fmt: skip
        wait_for(lambda: cluster.state() is not None, timeout=120, interval=0.5)
        for i in range(workers):
            launch(f"worker{i}", "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                   "--cores", "1", "--memory", memory, "--webui-port", str(free_port()),
                   "--work-dir", str(work / f"worker{i}"), cluster.master_url)  # fmt: skip
        wait_for(lambda: len(cluster.alive_workers()) == workers, timeout=180, interval=0.5)
        return cluster

    def state(self) -> dict[str, Any] | None:
        """The master's JSON status page (None until it answers)."""
        response = httpx.get(f"{self.ui_url}/json/", timeout=5)
        return response.json() if response.status_code == 200 else None

    def alive_workers(self) -> list[dict[str, Any]]:
        state = self.state() or {}
        return [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]

    def stop(self) -> None:
        for process in reversed(self.processes):
            stop_process(process)
        import shutil

        shutil.rmtree(self.work, ignore_errors=True)
