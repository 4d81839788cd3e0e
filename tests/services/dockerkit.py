"""Docker helpers for the services' image tests (and the end-to-end shop test).

Images are built with the stand-in base images (Docker Hub cannot be pulled here). Those
already trust the machine's extra TLS roots (tests/support/standins/build.sh), so `npm ci` and
`pip install` work inside builds behind an intercepting proxy, and the Dockerfiles stay
exactly what a user ships.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PREFIX = "svc-test"  # every image, container and network these tests create starts with it

def docker(*args: str, check: bool = True, timeout: float = 600, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; on failure raise with its stderr (tests show it)."""
    done = subprocess.run(["docker", *args], capture_output=capture, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:4])} ... failed ({done.returncode}):\n{(done.stderr or '')[-3000:]}")
    return done


def build(context: Path, tag: str, build_args: dict[str, str], timeout: float = 900) -> None:
    """docker build with retries for registry hiccups (npm/pip downloads inside the build)."""
    args = ["build", "-q", "-t", tag]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    last: Exception | None = None
    for _ in range(2):
        try:
            docker(*args, str(context), timeout=timeout)
            return
        except RuntimeError as exc:
            last = exc
    assert last is not None
    raise last


def image_size(tag: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())


def inspect(name: str) -> dict[str, Any]:
    return json.loads(docker("inspect", name).stdout)[0]


def host_port(container: str, port: int) -> int:
    out = docker("port", container, f"{port}/tcp").stdout.split()
    for entry in out:
        if entry.startswith("127.0.0.1:"):
            return int(entry.rsplit(":", 1)[1])
    raise RuntimeError(f"{container}: port {port} is not published on 127.0.0.1 ({out})")


def wait_http(url: str, status: int = 200, timeout: float = 60) -> None:
    """Poll until `url` answers `status` (bounded)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                if r.status == status:
                    return
                last = str(r.status)
        except urllib.error.HTTPError as exc:
            if exc.code == status:
                return
            last = str(exc.code)
        except OSError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer {status} within {timeout} s (last: {last})")


@dataclass
class Images:
    """Tags of the images built from this repository for the tests."""

    product: str
    cart: str
    order: str
    mongo: str


def have_docker() -> bool:
    return shutil.which("docker") is not None
