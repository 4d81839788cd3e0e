"""What building and pushing images did: tags and labels of an image, the result of each step,
and the errors a port raises for them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from devops.domain.images.plan import ServicePlan
from devops.errors import ExternalError


@dataclass(frozen=True)
class Revision:
    """The source the images are built from (devops/adapters/git.py reads it)."""

    commit: str  # full sha, or "" outside a git repository
    dirty: bool
    version_tag: str | None  # vX.Y.Z when HEAD is exactly at such a tag
    committed_at: str = ""  # the commit's committer date (ISO 8601), "" outside git: DORA's lead time starts here

    @property
    def short(self) -> str:
        return self.commit[:7] if self.commit else "nogit"


def image_tags(plan: ServicePlan, revision: Revision) -> list[str]:
    """Input-hash tag first (the identity), then `sha-<7>` and semver tags of a release tag."""
    tags = [plan.inputs.tag]
    if revision.commit:
        tags.append(f"sha-{revision.short}")
    if revision.version_tag:
        major, minor, patch = revision.version_tag.removeprefix("v").split(".")
        tags += [f"{major}.{minor}.{patch}", f"{major}.{minor}", major]
    return tags


INPUTS_LABEL = "dev.techitfactory.devops.inputs"
# The input hash without the base images' digests: an image with this label and another input
# hash was built from the same sources on other base images ("base image changed").
SOURCE_LABEL = "dev.techitfactory.devops.source"


def oci_labels(plan: ServicePlan, revision: Revision, *, source_url: str, created: str) -> dict[str, str]:
    """The OCI annotations of the image, plus the input hashes it was built from."""
    return {
        "org.opencontainers.image.title": plan.service,
        "org.opencontainers.image.source": source_url,
        "org.opencontainers.image.revision": revision.commit or "unknown",
        "org.opencontainers.image.created": created,
        "org.opencontainers.image.version": revision.version_tag.removeprefix("v")
        if revision.version_tag
        else f"sha-{revision.short}",
        INPUTS_LABEL: plan.inputs.digest,
        SOURCE_LABEL: plan.inputs.source_digest,
    }


@dataclass(frozen=True)
class BuildSpec:
    """One `docker build`: what to build, with which tags, arguments, labels and caches."""

    context: Path
    dockerfile: Path
    tags: tuple[str, ...]
    build_args: Mapping[str, str]
    labels: Mapping[str, str]
    platforms: tuple[str, ...] = ()
    cache_from: tuple[str, ...] = ()
    cache_to: str | None = None
    no_cache: bool = False


class PushFailed(ExternalError):
    """A push failed; `retryable` tells throttling/5xx/resets from refusals."""

    def __init__(self, message: str, *, retryable: bool, output: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retryable = retryable
        self.output = output


class Status(StrEnum):
    BUILT = "built"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class BuildResult:
    service: str
    status: Status
    image: str
    tags: list[str]
    seconds: float = 0.0
    reason: str = ""
    error: str = ""


@dataclass
class PushResult:
    service: str
    repository: str
    tags: list[str]
    digest: str = ""
    attempts: int = 0
    skipped_reason: str = ""
    error: str = ""
    retries: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """`repo@sha256:...`: what GitOps and promotion use, never a tag."""
        return f"{self.repository}@{self.digest}" if self.digest else ""

    @property
    def ok(self) -> bool:
        return bool(self.digest) and not self.error


@dataclass
class ServiceOutcome:
    plan: ServicePlan
    build: BuildResult | None = None
    push: PushResult | None = None

    @property
    def failed(self) -> bool:
        return bool((self.build and self.build.status is Status.FAILED) or (self.push and self.push.error))

    @property
    def error(self) -> str:
        """What went wrong: the push's error, else the build's."""
        if self.push and self.push.error:
            return self.push.error
        return self.build.error if self.build else ""


@dataclass
class ImagesReport:
    outcomes: list[ServiceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ServiceOutcome]:
        return [o for o in self.outcomes if o.failed]

    def counts(self) -> dict[str, int]:
        """Services per build status, in the order first seen."""
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.build:
                counts[outcome.build.status.value] = counts.get(outcome.build.status.value, 0) + 1
        return counts

    def digests(self) -> dict[str, str]:
        """service -> `repo@sha256:...` of every pushed (or already present) image."""
        return {o.plan.service: o.push.reference for o in self.outcomes if o.push and o.push.digest}
