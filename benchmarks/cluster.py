"""deploy/run_public_cluster.sh on free loopback ports, for the load benchmark and the cluster test."""
from __future__ import annotations

import os
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def cluster(snapshot: Path, replicas: int, workdir: Path):
    """N replicas + nginx until the block ends: yields (replica URLs, nginx's https URL, replica pids)."""
    base, https, http = free_ports(replicas), free_port(), free_port()
    env = {**os.environ, "KECK_PUBLIC_WAREHOUSE": str(snapshot), "KECK_BASE_PORT": str(base),
           "KECK_HTTPS_PORT": str(https), "KECK_HTTP_PORT": str(http), "KECK_CLUSTER_DIR": str(workdir)}
    proc = subprocess.Popen(["bash", str(ROOT / "deploy" / "run_public_cluster.sh"), str(replicas)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("ready"):
                break
        else:
            raise RuntimeError("the cluster did not start; see " + str(workdir))
        pids = [int((workdir / f"replica-{base + i}.pid").read_text()) for i in range(1, replicas + 1)]
        yield [f"http://127.0.0.1:{base + i}" for i in range(1, replicas + 1)], f"https://127.0.0.1:{https}", pids
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(count: int) -> int:
    """A base port B with B+1 … B+count free (the replicas' ports)."""
    while True:
        base = free_port()
        try:
            for i in range(1, count + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", base + i))
            return base
        except OSError:
            continue
