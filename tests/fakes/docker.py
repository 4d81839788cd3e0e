"""An in-memory Docker engine and build-input reader: the ports of builds, pushes and scans.

Honest to devops/adapters/docker.py and devops/adapters/build_inputs.py where it matters (the
contract tests in tests/contract/test_docker.py run the same assertions against both): an image
exists once built or tagged, a tag points at the image it was made from, a push returns the
image's digest, refusals and throttling are `PushFailed` with `retryable` set as Docker's output
would make it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devops.domain.images.identity import ContextFile, InputSnapshot, MissingAt
from devops.domain.images.results import BuildSpec, PushFailed
from devops.errors import BadInput, ExternalError


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class FakeEngine:
    """Images by reference -> image ID; `fail_builds` and `push_failures` script faults."""

    images: dict[str, str] = field(default_factory=dict)
    has_buildx: bool = False
    fail_builds: dict[str, str] = field(default_factory=dict)  # context name -> error message
    push_failures: list[PushFailed] = field(default_factory=list)
    builds: list[tuple[BuildSpec, bool]] = field(default_factory=list)
    pushes: list[str] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)  # reference -> digest

    def image_exists(self, reference: str) -> bool:
        return reference in self.images

    def image_id(self, reference: str) -> str | None:
        return self.images.get(reference)

    def tag(self, source: str, target: str) -> None:
        if source not in self.images:
            raise ExternalError(f"docker tag {source} {target}: No such image: {source}")
        self.images[target] = self.images[source]

    def build(self, spec: BuildSpec, *, use_buildx: bool, timeout: float) -> str:
        self.builds.append((spec, use_buildx))
        message = self.fail_builds.get(spec.context.name)
        if message is not None:
            from devops.adapters.docker import BuildFailed

            raise BuildFailed(f"docker build of {spec.context} failed: {message}")
        image = _digest(f"{spec.context}|{sorted(spec.build_args.items())}|{spec.no_cache}")
        for tag in spec.tags:
            self.images[tag] = image
        return image

    def push(self, reference: str, *, timeout: float) -> str:
        self.pushes.append(reference)
        if self.push_failures:
            raise self.push_failures.pop(0)
        if reference not in self.images:
            raise PushFailed(f"docker push {reference}: An image does not exist locally with the tag",
                             retryable=False)
        digest = "sha256:" + self.images[reference].removeprefix("sha256:")
        self.pushed[reference] = digest
        return digest

    def login(self, server: str, username: str, token: str) -> None:
        self.logins.append((server, username, token))


@dataclass
class FakeInputs:
    """Build inputs by context folder: files, Dockerfile and base images, in memory; `at` holds
    the inputs of git refs ({ref: {relative folder: snapshot or MissingAt}})."""

    trees: dict[Path, InputSnapshot] = field(default_factory=dict)
    at: dict[str, dict[str, InputSnapshot | MissingAt]] = field(default_factory=dict)
    reads: list[Path] = field(default_factory=list)

    def put(self, context: Path, *files: tuple[str, str], dockerfile: str = "FROM debian\n",
            bases: tuple[str, ...] = ("debian",)) -> InputSnapshot:
        snapshot = InputSnapshot(
            tuple(ContextFile(name, False, hashlib.sha256(body.encode()).digest()) for name, body in sorted(files)),
            dockerfile.encode(), bases)
        self.trees[context] = snapshot
        return snapshot

    def read(self, context: Path, dockerfile: Path, build_args: Mapping[str, str]) -> InputSnapshot:
        self.reads.append(context)
        if context not in self.trees:
            raise BadInput(f"{context}: service folder does not exist; fix services.<name>.path")
        return self.trees[context]

    def read_at(self, ref: str, relative: str, dockerfile: str,
                build_args: Mapping[str, str]) -> InputSnapshot | MissingAt:
        if ref not in self.at:
            raise BadInput(f"--base {ref}: not a commit; fetch it first (actions/checkout fetch-depth: 0)")
        return self.at[ref].get(relative, MissingAt.FOLDER)
