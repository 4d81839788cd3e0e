"""The real local components the tests use: Docker engine, local registry, stand-in base
images, moto server. `.ci/run` installs and starts the engine and the registry; a developer
without them sees those tests skipped with the reason (in CI they fail instead)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from filelock import FileLock

REGISTRY = os.environ.get("DEVOPS_TEST_REGISTRY", "127.0.0.1:5000")
STANDINS_SCRIPT = Path(__file__).parent / "standins" / "build.sh"


def unavailable(reason: str) -> None:
    """Skip on a laptop that lacks a component; fail in CI, where `.ci/run` must provide it."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


def docker_engine() -> None:
    docker = shutil.which("docker")
    if not docker:
        unavailable("docker CLI not installed")
    probe = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if probe.returncode != 0:
        unavailable("no Docker daemon answers")


def registry_up(host: str = REGISTRY) -> str:
    import requests

    try:
        requests.get(f"http://{host}/v2/", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        unavailable(f"local registry {host} not reachable ({exc.__class__.__name__})")
    return host


def build_standins() -> dict[str, str]:
    """Build (once, cached) the stand-in base images; return them as build arguments."""
    docker_engine()
    with machine_lock("standins"):  # xdist workers start together: one builds, the others read
        done = subprocess.run(["bash", str(STANDINS_SCRIPT)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"stand-in base images failed to build:\n{done.stderr[-2000:]}")
    args = dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)
    return args


def machine_lock(name: str) -> FileLock:
    """A lock shared by every test process on this machine (pytest-xdist workers, two runs):
    for set-up that writes one shared place (an image tag, an npm prefix)."""
    return FileLock(Path(tempfile.gettempdir()) / f"devops-tests-{name}.lock", timeout=1800)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class MotoServer:
    """A real `moto_server` process on a free loopback port (AWS stand-in, server mode)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> MotoServer:
        exe = shutil.which("moto_server")
        if not exe:
            unavailable("moto_server not installed (pip install 'moto[server]')")
        self._proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port)
        return self

    def reset(self) -> None:
        import requests

        requests.post(f"{self.url}/moto-api/reset", timeout=10)

    def stop(self) -> None:
        if self._proc:
            self._proc.terminate()
            self._proc.wait(timeout=10)
