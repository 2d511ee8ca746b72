"""The deployment files stay true to the code: the compose file sets only settings that exist
and gives the balancer every address deploy/haproxy.cfg reads, the image builds with the same
install step `./run serve` starts with, and haproxy itself accepts the configuration."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from openlive.settings import Settings

from ..servers import REPO

HAPROXY_CFG = REPO / "deploy" / "haproxy.cfg"


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def env_names_in(config: Path) -> set[str]:
    """``"${NAME}"`` and ``"${NAME-default}"``: the variables without a default."""
    return {
        name
        for name, default in re.findall(r"\$\{(\w+)(-[^}]*)?\}", config.read_text())
        if not default
    }


def test_compose_sets_only_settings_that_exist() -> None:
    nodes = [s for name, s in compose()["services"].items() if name.startswith("node-")]
    assert len(nodes) == 2
    for node in nodes:
        for variable in node["environment"]:
            assert variable.startswith("OPENLIVE_"), variable
            field = variable.removeprefix("OPENLIVE_").lower()
            assert field in Settings.model_fields, variable
        assert node["build"] == "."


def test_compose_gives_the_balancer_every_address_its_configuration_reads() -> None:
    balancer = compose()["services"]["balancer"]
    mounted = {volume.split(":")[0] for volume in balancer["volumes"]}
    assert "./deploy/haproxy.cfg" in mounted
    assert env_names_in(HAPROXY_CFG) <= set(balancer["environment"])
    for node in ("NODE_A", "NODE_B"):
        host = balancer["environment"][node].split(":")[0]
        assert host in compose()["services"]


def test_the_image_installs_and_serves_with_the_projects_own_commands() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    # The build runs the install step of `./run serve`; the image then starts what it starts.
    # (tests/e2e/test_container.py builds and runs the image itself.)
    assert re.search(r"&& \./run install \\$", dockerfile, re.MULTILINE)
    assert 'ENTRYPOINT [".venv/bin/openlive", "serve"]' in dockerfile
    run = (REPO / "run").read_text()
    install = re.search(r"^    install\)\n(.*?);;", run, re.MULTILINE | re.DOTALL)
    serve = re.search(r"^    serve\)\n(.*?);;", run, re.MULTILINE | re.DOTALL)
    assert install and serve
    # serve = install, then the server: the image's build step is what serve does first.
    assert serve.group(1).startswith(install.group(1))
    assert "exec .venv/bin/openlive serve" in serve.group(1)


def test_haproxy_accepts_the_configuration(tmp_path: Path) -> None:
    executable = shutil.which("haproxy")
    if executable is None:
        pytest.fail("haproxy is not installed (./run test installs it with apt-get)")
    pem = tmp_path / "test.pem"
    from openlive.server.tls import ensure_certificate

    files = ensure_certificate(tmp_path / "certs")
    pem.write_bytes(files.cert.read_bytes() + files.key.read_bytes())
    env = {
        **os.environ,
        "NODE_A": "127.0.0.1:1",
        "NODE_B": "127.0.0.1:2",
        "TLS_PEM": str(pem),
        "STATS_SOCKET": str(tmp_path / "haproxy.sock"),
    }
    result = subprocess.run(
        [executable, "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
