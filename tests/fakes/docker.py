"""An in-memory Docker engine and build-input reader: the ports of builds, pushes and scans.

Honest to devops/adapters/docker.py and devops/adapters/build_inputs.py where it matters (the
contract tests in tests/contract/test_docker.py run the same assertions against both): an image
exists once built or tagged, a tag points at the image it was made from, a push returns the
image's digest, refusals and throttling are `PushFailed` with `retryable` set as Docker's output
would make it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devops.domain.images.identity import ContextFile, InputSnapshot, MissingAt, SourceSpec, blob_id
from devops.domain.images.reference import BaseSource, ResolvedBase
from devops.domain.images.results import SOURCE_LABEL, BuildSpec, PushFailed
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

    pulls: list[str] = field(default_factory=list)
    repo_digests: dict[str, list[str]] = field(default_factory=dict)  # image ID -> repo@digest it was pulled as
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # image ID -> labels
    inspections: int = 0  # `docker image inspect` processes the real engine would run

    def image_exists(self, reference: str) -> bool:
        return reference in self.images

    def image_id(self, reference: str) -> str | None:
        return self.images.get(reference)

    def inspect(self, references: Iterable[str]) -> dict[str, tuple[str, list[str]]]:
        self.inspections += 1
        return {ref: (self.images[ref], list(self.repo_digests.get(self.images[ref], [])))
                for ref in dict.fromkeys(references) if ref in self.images}

    def existing(self, references: Iterable[str]) -> set[str]:
        return set(self.inspect(references))

    def image_ids(self, references: Iterable[str]) -> dict[str, str]:
        return {ref: found[0] for ref, found in self.inspect(references).items()}

    def source_digests(self, repositories: Iterable[str]) -> dict[str, set[str]]:
        wanted = set(repositories)
        found: dict[str, set[str]] = {}
        for ref, image in self.images.items():
            repository = ref.rsplit(":", 1)[0] if "@" not in ref else ref.split("@", 1)[0]
            source = self.labels.get(image, {}).get(SOURCE_LABEL)
            if repository in wanted and source:
                found.setdefault(repository, set()).add(source)
        return found

    def pull(self, reference: str, *, timeout: float = 900) -> str:
        """Pull `name@digest`: the image with that digest (its ID derived from the digest)."""
        self.pulls.append(reference)
        image = "sha256:" + hashlib.sha256(f"pulled {reference}".encode()).hexdigest()
        self.images[reference] = image
        self.repo_digests.setdefault(image, []).append(reference)
        return image

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
        image = _digest(f"{spec.context}|{sorted(spec.build_args.items())}|{spec.no_cache}|{spec.tags[0]}")
        for tag in spec.tags:
            self.images[tag] = image
        self.labels[image] = dict(spec.labels)
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
    the inputs of git refs ({ref: {relative folder: snapshot or MissingAt}}). Like the real
    reader, one call reads every service asked for (`calls` counts them)."""

    trees: dict[Path, InputSnapshot] = field(default_factory=dict)
    at: dict[str, dict[str, InputSnapshot | MissingAt]] = field(default_factory=dict)
    reads: list[Path] = field(default_factory=list)
    calls: int = 0

    def put(self, context: Path, *files: tuple[str, str], dockerfile: str = "FROM debian\n",
            bases: tuple[str, ...] = ("debian",)) -> InputSnapshot:
        snapshot = InputSnapshot(
            tuple(ContextFile(name, False, blob_id(body.encode())) for name, body in sorted(files)),
            dockerfile.encode(), bases)
        self.trees[context] = snapshot
        return snapshot

    def read(self, sources: Sequence[SourceSpec]) -> list[InputSnapshot]:
        self.calls += 1
        result = []
        for source in sources:
            self.reads.append(source.context)
            if source.context not in self.trees:
                raise BadInput(f"{source.context}: service folder does not exist; fix services.<name>.path")
            result.append(self.trees[source.context])
        return result

    def read_at(self, ref: str, sources: Sequence[SourceSpec]) -> list[InputSnapshot | MissingAt]:
        self.calls += 1
        if ref not in self.at:
            raise BadInput(f"--base {ref}: not a commit; fetch it first (actions/checkout fetch-depth: 0)")
        return [self.at[ref].get(source.relative, MissingAt.FOLDER) for source in sources]


@dataclass
class FakeBases:
    """Base images by reference -> digest, as their registries would answer (`moved` changes one)."""

    digests: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def digest(self, reference: str) -> str:
        return self.digests.setdefault(reference, "sha256:" + hashlib.sha256(f"base {reference}".encode()).hexdigest())

    def move(self, reference: str, content: str) -> None:
        self.digests[reference] = "sha256:" + hashlib.sha256(content.encode()).hexdigest()

    def resolve(self, references: Sequence[str], where: Mapping[str, str] | None = None) -> dict[str, ResolvedBase]:
        self.asked.extend(references)
        return {ref: ResolvedBase(ref, self.digest(ref), BaseSource.REGISTRY) for ref in references}
