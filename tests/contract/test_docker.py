"""The Docker engine port: the same assertions against tests/fakes/docker.py and the real engine
(devops/adapters/docker.py), so the fake of the build and push use cases stays honest.

The real side builds `FROM scratch` images (nothing to pull) and pushes to the local registry at
127.0.0.1:5000 under a namespace of its own."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devops.adapters.docker import BuildFailed
from devops.domain.images.results import BuildSpec, PushFailed
from tests.fakes.docker import FakeEngine

REAL = pytest.param("real", marks=[pytest.mark.docker, pytest.mark.slow])


@dataclass
class Side:
    engine: Any
    good: Path
    broken: Path
    repository: str  # where pushes go


@pytest.fixture(params=["fake", REAL])
def side(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Side]:
    good, broken = tmp_path / "good", tmp_path / "broken"
    for folder in (good, broken):
        folder.mkdir()
    (good / "hello.txt").write_text(f"hello {uuid.uuid4()}\n")  # a fresh image every run
    (good / "Dockerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    (broken / "Dockerfile").write_text("FROM scratch\nCOPY missing.txt /missing.txt\n")
    repository = f"127.0.0.1:5000/contract-{uuid.uuid4().hex[:10]}/hello"
    if request.param == "fake":
        yield Side(FakeEngine(fail_builds={"broken": "COPY failed: file not found"}), good, broken, repository)
        return
    request.getfixturevalue("registry")
    from devops.adapters.docker import DockerEngine

    engine = DockerEngine()
    engine.check()
    yield Side(engine, good, broken, repository)
    listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", repository],
                            capture_output=True, text=True).stdout.split()
    if listed:
        subprocess.run(["docker", "image", "rm", "-f", *listed], capture_output=True)


def spec(folder: Path, *tags: str) -> BuildSpec:
    return BuildSpec(folder, folder / "Dockerfile", tags, {}, {"org.opencontainers.image.title": "hello"})


def test_a_built_image_exists_under_every_tag(side: Side) -> None:
    first, second = f"{side.repository}:in-1", f"{side.repository}:sha-1"
    assert not side.engine.image_exists(first) and side.engine.image_id(first) is None
    image = side.engine.build(spec(side.good, first, second), use_buildx=False, timeout=120)
    assert image.startswith("sha256:")
    assert side.engine.image_exists(first) and side.engine.image_id(second) == image


def test_a_tag_names_the_same_image(side: Side) -> None:
    source, target = f"{side.repository}:in-1", f"{side.repository}:1.0.0"
    image = side.engine.build(spec(side.good, source), use_buildx=False, timeout=120)
    side.engine.tag(source, target)
    assert side.engine.image_id(target) == image


def test_a_failed_build_says_why(side: Side) -> None:
    with pytest.raises(BuildFailed, match="docker build of .*broken failed") as caught:
        side.engine.build(spec(side.broken, f"{side.repository}:broken"), use_buildx=False, timeout=120)
    assert caught.value.exit_code == 3
    assert not side.engine.image_exists(f"{side.repository}:broken")


def test_a_push_returns_the_digest_and_an_absent_image_is_a_refusal(side: Side) -> None:
    tag = f"{side.repository}:in-1"
    side.engine.build(spec(side.good, tag), use_buildx=False, timeout=120)
    digest = side.engine.push(tag, timeout=120)
    assert digest.startswith("sha256:") and len(digest) == 71
    assert side.engine.push(tag, timeout=120) == digest  # pushing again changes nothing
    with pytest.raises(PushFailed) as caught:
        side.engine.push(f"{side.repository}:never-built", timeout=120)
    assert not caught.value.retryable
