"""Docker helpers for the services' image tests (and the end-to-end shop test).

Images are built with the stand-in base images (Docker Hub cannot be pulled here). On a
machine whose egress goes through a TLS-inspecting proxy, `npm ci` and `pip install` inside a
build fail with "self-signed certificate in certificate chain": the machine trusts the
proxy's CA, the stand-in images do not. `with_host_ca()` therefore derives a test-only base
image that adds the machine's CA bundle (and points npm, pip and Node at it), so the
Dockerfiles themselves stay exactly what a user ships.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PREFIX = "svc-test"  # every image, container and network these tests create starts with it

_CA_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY host-ca-bundle.crt /etc/ssl/certs/host-ca-bundle.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-bundle.crt \\
    NPM_CONFIG_CAFILE=/etc/ssl/certs/host-ca-bundle.crt \\
    PIP_CERT=/etc/ssl/certs/host-ca-bundle.crt \\
    SSL_CERT_FILE=/etc/ssl/certs/host-ca-bundle.crt \\
    REQUESTS_CA_BUNDLE=/etc/ssl/certs/host-ca-bundle.crt
"""


def docker(*args: str, check: bool = True, timeout: float = 600, capture: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the docker CLI; on failure raise with its stderr (tests show it)."""
    done = subprocess.run(["docker", *args], capture_output=capture, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:4])} ... failed ({done.returncode}):\n{(done.stderr or '')[-3000:]}")
    return done


def host_ca_bundle() -> Path | None:
    """The CA bundle this machine trusts (the one its TLS clients are configured with)."""
    for name in ("NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        value = os.environ.get(name)
        if value and Path(value).is_file():
            return Path(value)
    default = Path("/etc/ssl/certs/ca-certificates.crt")
    return default if default.is_file() else None


def with_host_ca(base_image: str) -> str:
    """`base_image` plus the machine's CA bundle, as a test-only image (cached by content)."""
    bundle = host_ca_bundle()
    if bundle is None:
        return base_image
    data = bundle.read_bytes()
    digest = hashlib.sha256(data + base_image.encode()).hexdigest()[:12]
    name = base_image.rsplit("/", 1)[-1].replace(":", "-")
    tag = f"{PREFIX}/hostca-{name}:{digest}"
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    with tempfile.TemporaryDirectory(prefix="svc-ca-") as tmp:
        (Path(tmp) / "host-ca-bundle.crt").write_bytes(data)
        (Path(tmp) / "Dockerfile").write_text(_CA_DOCKERFILE)
        docker("build", "-q", "--build-arg", f"BASE_IMAGE={base_image}", "-t", tag, tmp)
    return tag


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


def build_images(standin_args: dict[str, str], tag: str = "ci") -> Images:
    """Build the three API images and the MongoDB stand-in with the stand-in bases."""
    node = with_host_ca(standin_args["NODE_IMAGE"])
    python = with_host_ca(standin_args["PYTHON_IMAGE"])
    images = Images(
        product=f"{PREFIX}/product:{tag}",
        cart=f"{PREFIX}/cart:{tag}",
        order=f"{PREFIX}/order:{tag}",
        mongo=f"{PREFIX}/mongo-standin:{tag}",
    )
    build(REPO / "services" / "product", images.product, {"NODE_IMAGE": node})
    build(REPO / "services" / "cart", images.cart, {"NODE_IMAGE": node})
    build(REPO / "services" / "order", images.order, {"PYTHON_IMAGE": python})
    build(REPO / "tests" / "services" / "mongo-standin", images.mongo, {"NODE_IMAGE": node})
    return images


def have_docker() -> bool:
    return shutil.which("docker") is not None
