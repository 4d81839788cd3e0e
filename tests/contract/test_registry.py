"""The registry port: the same assertions against tests/fakes/registry.py and the real registry
at 127.0.0.1:5000 through devops/adapters/registry.py (what docker pushed is read back by digest,
and tags are added by pointing them at an existing manifest)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devops.errors import HttpError
from tests.fakes.registry import FakeRegistry

REAL = pytest.param("real", marks=[pytest.mark.docker, pytest.mark.slow])


@dataclass
class Side:
    registry: Any
    repository: str  # inside the registry: namespace/name
    publish: Callable[[str], str]  # push an image under this tag; its digest


@pytest.fixture(params=["fake", REAL])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Side]:
    repository = f"contract-{uuid.uuid4().hex[:10]}/hello"
    if request.param == "fake":
        fake = FakeRegistry()

        def put(tag: str) -> str:
            digest = "sha256:" + uuid.uuid4().hex * 2
            fake.put(repository, tag, digest)
            return digest

        yield Side(fake, repository, put)
        return
    host = request.getfixturevalue("registry")
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.domain.images.results import BuildSpec

    engine = DockerEngine()
    (tmp_path / "hello.txt").write_text(f"{uuid.uuid4()}\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    pushed: list[str] = []

    def push(tag: str) -> str:
        reference = f"{host}/{repository}:{tag}"
        engine.build(BuildSpec(tmp_path, tmp_path / "Dockerfile", (reference,), {}, {}), use_buildx=False,
                     timeout=120)
        pushed.append(reference)
        return engine.push(reference, timeout=120)

    yield Side(RegistryClient(host, insecure=True), repository, push)
    if pushed:
        subprocess.run(["docker", "image", "rm", "-f", *pushed], capture_output=True)


def test_what_is_not_there_has_no_digest(side: Side) -> None:
    assert side.registry.manifest_digest(side.repository, "in-1") is None
    assert not side.registry.exists(side.repository, "in-1")


def test_a_pushed_tag_is_read_back_by_tag_and_by_digest(side: Side) -> None:
    digest = side.publish("in-1")
    assert side.registry.manifest_digest(side.repository, "in-1") == digest
    assert side.registry.exists(side.repository, digest)
    assert side.registry.manifest_digest(side.repository, "in-2") is None


def test_a_tag_is_added_by_digest_once(side: Side) -> None:
    digest = side.publish("in-1")
    assert side.registry.tag(side.repository, digest, "1.0.0") is True
    assert side.registry.manifest_digest(side.repository, "1.0.0") == digest
    assert side.registry.tag(side.repository, digest, "1.0.0") is False  # already there: nothing written


def test_a_tag_for_a_manifest_the_repository_lacks_is_refused(side: Side) -> None:
    side.publish("in-1")
    with pytest.raises(HttpError):
        side.registry.tag(side.repository, "sha256:" + "0" * 64, "1.0.0")
    assert side.registry.manifest_digest(side.repository, "1.0.0") is None
