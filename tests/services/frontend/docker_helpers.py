"""Small Docker helpers for the frontend and end-to-end tests: build (cached), run, wait, clean.

Everything these tests create is named with the `e2e-` prefix and removed by the fixture that
created it. Builds never pass --no-cache: Docker's layer cache makes a rerun take seconds.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

BUILD_TIMEOUT = 900


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; on failure raise with the command and the end of its stderr."""
    done = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])} ... failed ({done.returncode}): {done.stderr[-3000:]}")
    return done


def build_image(tag: str, context: Path, build_args: dict[str, str], dockerfile: Path | None = None) -> str:
    """`docker build` CONTEXT as TAG with the given build arguments (only those it declares)."""
    dockerfile = dockerfile or context / "Dockerfile"
    declared = dockerfile.read_text()
    args: list[str] = []
    for key, value in build_args.items():
        # The classic builder warns about unused build args; pass only the declared ones.
        if f"ARG {key}" in declared:
            args += ["--build-arg", f"{key}={value}"]
    docker("build", "-q", "-t", tag, "-f", str(dockerfile), *args, str(context), timeout=BUILD_TIMEOUT)
    return tag


def suffix() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class Container:
    name: str
    ports: dict[int, int] = field(default_factory=dict)  # container port -> 127.0.0.1 port

    def url(self, port: int, path: str = "") -> str:
        return f"http://127.0.0.1:{self.ports[port]}{path}"

    def logs(self) -> str:
        done = docker("logs", "--tail", "200", self.name, check=False)
        return done.stdout + done.stderr

    def state(self) -> dict[str, object]:
        out = docker("inspect", "--format", "{{json .State}}", self.name).stdout
        return dict(json.loads(out))


def run_container(
    image: str,
    name: str,
    *,
    network: str | None = None,
    aliases: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    publish: tuple[int, ...] = (),
    command: tuple[str, ...] = (),
    extra: tuple[str, ...] = (),
) -> Container:
    """Start a detached container; published ports are bound to 127.0.0.1 on free host ports."""
    args = ["run", "-d", "--name", name, "--label", "devops-test=e2e"]
    if network:
        args += ["--network", network]
        for alias in aliases:
            args += ["--network-alias", alias]
    for key, value in (env or {}).items():
        args += ["-e", f"{key}={value}"]
    for port in publish:
        args += ["-p", f"127.0.0.1::{port}"]
    args += [*extra, image, *command]
    docker(*args)
    container = Container(name)
    for port in publish:
        out = docker("port", name, f"{port}/tcp").stdout.strip().splitlines()[0]
        container.ports[port] = int(out.rsplit(":", 1)[1])
    return container


def remove(*names: str) -> None:
    for name in names:
        docker("rm", "-f", "-v", name, check=False)


def wait_http(
    url: str, *, status: int = 200, timeout: float = 60, container: Container | None = None
) -> requests.Response:
    """Poll URL until it answers STATUS; fail with the container's logs when it never does."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            # Generous: an API may take its DB timeout (seconds) to say 503.
            answer = requests.get(url, timeout=10)
            if answer.status_code == status:
                return answer
            last = f"HTTP {answer.status_code}: {answer.text[:200]}"
        except requests.RequestException as exc:
            last = exc.__class__.__name__
        if container is not None and container.state().get("Running") is False:
            break
        time.sleep(0.5)
    logs = container.logs()[-3000:] if container else ""
    raise AssertionError(f"{url} did not answer {status} within {timeout} s (last: {last})\n{logs}")
