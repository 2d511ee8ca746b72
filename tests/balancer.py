"""A real load balancer for the multi-node tests: Debian's haproxy in front of openlive nodes,
WebSockets passed through, nodes health-checked on ``/healthz``, running the configuration that
ships in deploy/ (and that docker-compose.yml runs) with loopback addresses."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from openlive.server.tls import CertificateFiles, ensure_certificate

from .servers import REPO, ServerProcess, free_port

CONFIG = REPO / "deploy" / "haproxy.cfg"  # the production file, its addresses from the env


@dataclass
class Balancer:
    port: int
    process: subprocess.Popen[bytes]
    stats_socket: Path
    log_file: Path

    certificate: CertificateFiles

    @property
    def http_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def server_states(self) -> dict[str, str]:
        """Each node's state as haproxy sees it: ``UP``, ``DOWN``, ..."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.stats_socket))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        lines = data.decode().splitlines()
        header = lines[0].lstrip("# ").split(",")
        states = {}
        for line in lines[1:]:
            row = dict(zip(header, line.split(","), strict=False))
            if row.get("pxname") == "openlive" and row.get("svname") not in ("BACKEND", None):
                states[row["svname"]] = row["status"].split(" ")[0]
        return states

    def wait_for(self, states: dict[str, str], timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while (now := self.server_states()) != states:
            if time.monotonic() > deadline:
                raise TimeoutError(f"haproxy sees {now}, not {states}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start_balancer(workdir: Path, nodes: dict[str, ServerProcess]) -> Balancer:
    executable = shutil.which("haproxy")
    if executable is None:
        pytest.fail("haproxy is not installed (./run test installs it with apt-get)")
    assert set(nodes) == {"a", "b"}, "deploy/haproxy.cfg names two nodes, a and b"
    port = free_port()
    stats = workdir / "haproxy.sock"
    certificate = ensure_certificate(workdir / "balancer-certs")
    pem = workdir / "balancer.pem"
    pem.write_bytes(certificate.cert.read_bytes() + certificate.key.read_bytes())
    env = {
        **os.environ,
        "LISTEN": f"127.0.0.1:{port}",
        "STATS_SOCKET": str(stats),
        "CHECK_INTERVAL": "200ms",
        "TLS_PEM": str(pem),
        **{f"NODE_{name.upper()}": f"127.0.0.1:{node.port}" for name, node in nodes.items()},
    }
    log_file = workdir / "haproxy.log"
    process = subprocess.Popen(
        [executable, "-db", "-f", str(CONFIG)],
        stdout=log_file.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    balancer = Balancer(port, process, stats, log_file, certificate)
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"haproxy exited:\n{log_file.read_text()}")
        try:
            health = httpx.get(f"{balancer.http_url}/healthz", timeout=1, verify=False)
            if stats.exists() and health.is_success:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"haproxy not ready:\n{log_file.read_text()}")
        time.sleep(0.1)
    balancer.wait_for({name: "UP" for name in nodes})
    return balancer
