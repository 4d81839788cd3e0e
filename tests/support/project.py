"""A throw-away project on disk: `pipelines/devops.yaml`, small services, a git repository."""

from __future__ import annotations

import hashlib
import subprocess
import textwrap
from pathlib import Path

# The default base is the Debian stand-in the local stack builds and pushes (scripts/local-stack.sh):
# the build identity resolves every FROM image to a digest, and Docker Hub cannot be asked here.
# Each project's images are its own (the label): two tests building the same small service at
# once on the classic builder shared its cached intermediate images, and one test removing its
# tags deleted the chain the other was still tagging ("failed to get digest").
DOCKERFILE = """\
ARG DEBIAN_IMAGE=localhost:5000/standin/debian:bookworm
FROM ${{DEBIAN_IMAGE}}
LABEL dev.test.project={project}
COPY app.txt /srv/app.txt
CMD ["cat", "/srv/app.txt"]
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


DEV_ENVIRONMENT = """\
environments:
  dev:
    url: http://localhost:8080
    cluster: {name: test-dev}
    gitops: {path: gitops/environments/dev}
"""


def config_text(*, namespace: str = "test", services: tuple[str, ...] = ("alpha", "beta"),
                registry: str = "127.0.0.1:5000", environments: str = DEV_ENVIRONMENT, extra: str = "") -> str:
    """pipelines/devops.yaml of a throw-away project: the registry, small services, environments."""
    service_lines = "\n".join(
        f"  {name}:\n    path: services/{name}\n    port: {8000 + i}\n    language: other"
        for i, name in enumerate(services)
    )
    return textwrap.dedent(f"""\
        project: testshop
        registry:
          host: "{registry}"
          namespace: {namespace}
          insecure: true
          push: {{attempts: 3, backoff_seconds: 0.2, max_backoff_seconds: 0.5, deadline_seconds: 120, timeout_seconds: 60}}
        build:
          parallelism: 2
        services:
        """) + service_lines + "\n" + environments + extra


def make_project(root: Path, *, namespace: str = "test", services: tuple[str, ...] = ("alpha", "beta"),
                 registry: str = "127.0.0.1:5000", extra: str = "", commit: bool = True) -> Path:
    (root / "pipelines").mkdir(parents=True, exist_ok=True)
    (root / "pipelines" / "devops.yaml").write_text(
        config_text(namespace=namespace, services=services, registry=registry, extra=extra))
    for name in services:
        folder = root / "services" / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "Dockerfile").write_text(DOCKERFILE.format(project=hashlib.sha256(str(root).encode()).hexdigest()[:12]))
        (folder / "app.txt").write_text(f"{name} v1\n")
        (folder / ".dockerignore").write_text("*.log\nnode_modules\n")
    if commit:
        git(root, "init", "-q", "-b", "main")
        git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
        git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "initial")
    return root


def commit_all(root: Path, message: str) -> None:
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")
    git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", message)
