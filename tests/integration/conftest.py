from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.project import make_project


@pytest.fixture
def namespace() -> str:
    """A registry namespace of this test alone, so tests never see each other's images."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def built_project(tmp_path: Path, namespace: str, registry: str, standin_build_args: dict[str, str],
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    project = make_project(tmp_path / "shop", namespace=namespace, registry=registry)
    monkeypatch.setenv("DEVOPS_BUILD_ARGS", f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}")
    yield project
    import subprocess

    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    mine = [image for image in images if f"/{namespace}/" in image]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)
