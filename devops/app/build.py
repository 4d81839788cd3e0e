"""`devops build`: build the images whose inputs have no image yet, in parallel.

An image is named by its input hash (`repo:in-<hash>`), so "already built" is a lookup, not a
build: locally, or in the registry when the build is going to be pushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from devops.domain.images.plan import ServicePlan
from devops.domain.images.results import BuildResult, BuildSpec, Revision, Status, image_tags, oci_labels
from devops.errors import BadInput, DevopsError

__all__ = ["BuildResult", "BuildSettings", "Engine", "Status", "build_services", "built_earlier", "use_buildx"]


class Engine(Protocol):
    """What a build needs of the Docker engine (devops/adapters/docker.py)."""

    def image_exists(self, reference: str) -> bool: ...
    def tag(self, source: str, target: str) -> None: ...
    def build(self, spec: BuildSpec, *, use_buildx: bool, timeout: float) -> str: ...


@dataclass(frozen=True)
class BuildSettings:
    revision: Revision
    source_url: str
    use_buildx: bool
    parallelism: int
    timeout: float
    platforms: tuple[str, ...] = ()
    registry_cache: bool = False
    # Rebuild every layer (docker build --no-cache); the input-hash skip still applies.
    no_cache: bool = False
    # Look up `repo:tag` in the registry: set when the build will be pushed.
    remote_exists: Callable[[str, str], bool] | None = None
    created: str = field(default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def use_buildx(choice: str, available: bool) -> bool:
    """build.builder (auto, buildx, classic) against what the engine has."""
    if choice == "buildx" and not available:
        raise BadInput(
            "build.builder is buildx but `docker buildx` is not installed",
            hint="install the buildx plugin or set build.builder: auto",
        )
    return available if choice == "auto" else choice == "buildx"


def build_services(
    plans: Sequence[ServicePlan],
    engine: Engine,
    settings: BuildSettings,
    *,
    on_event: Callable[[str, str], None] = lambda service, message: None,
    clock: Callable[[], float] = time.monotonic,
) -> list[BuildResult]:
    """Build every planned service whose image does not exist yet; never raise for one service."""

    def one(plan: ServicePlan) -> BuildResult:
        tags = [f"{plan.repository}:{tag}" for tag in image_tags(plan, settings.revision)]
        started = clock()
        try:
            if engine.image_exists(plan.image):
                _ensure_tags(engine, plan.image, tags)
                return BuildResult(
                    plan.service, Status.SKIPPED, plan.image, tags, reason="image with these inputs exists locally"
                )
            if settings.remote_exists and settings.remote_exists(plan.repository, plan.inputs.tag):
                return BuildResult(
                    plan.service,
                    Status.SKIPPED,
                    plan.image,
                    tags,
                    reason="image with these inputs exists in the registry",
                )
            on_event(plan.service, "building")
            cache_from: tuple[str, ...] = ()
            cache_to = None
            if settings.use_buildx and settings.registry_cache and settings.remote_exists:
                cache_ref = f"{plan.repository}:buildcache"
                cache_from = (f"type=registry,ref={cache_ref}",)
                cache_to = f"type=registry,ref={cache_ref},mode=max"
            spec = BuildSpec(
                context=Path(plan.inputs.context),
                dockerfile=Path(plan.inputs.dockerfile),
                tags=tuple(tags),
                build_args=plan.inputs.build_args,
                labels=oci_labels(plan, settings.revision, source_url=settings.source_url, created=settings.created),
                platforms=settings.platforms,
                cache_from=cache_from,
                cache_to=cache_to,
                no_cache=settings.no_cache,
            )
            engine.build(spec, use_buildx=settings.use_buildx, timeout=settings.timeout)
            return BuildResult(plan.service, Status.BUILT, plan.image, tags, clock() - started)
        except DevopsError as exc:
            return BuildResult(plan.service, Status.FAILED, plan.image, tags, clock() - started, error=str(exc))

    def tracked(plan: ServicePlan) -> BuildResult:
        result = one(plan)
        on_event(plan.service, result.status.value if not result.reason else f"{result.status.value} ({result.reason})")
        return result

    workers = max(1, min(settings.parallelism, len(plans)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
        return list(pool.map(tracked, plans))


def _ensure_tags(engine: Engine, source: str, tags: Sequence[str]) -> None:
    for tag in tags:
        if tag != source and not engine.image_exists(tag):
            engine.tag(source, tag)


def built_earlier(plans: Sequence[ServicePlan], engine: Engine, revision: Revision) -> list[BuildResult]:
    """The local images of the current inputs, for a push without a build.

    Raises `BadInput` for a service whose image is not there: the inputs (files or build
    arguments) differ from the last build, so pushing anything else would publish a stale image.
    """
    results = []
    for plan in plans:
        if not engine.image_exists(plan.image):
            raise BadInput(
                f"{plan.service}: no local image {plan.image} for the current inputs",
                hint=f"run `devops build {plan.service}` first, with the same --build-arg / $DEVOPS_BUILD_ARGS",
            )
        candidates = [f"{plan.repository}:{tag}" for tag in image_tags(plan, revision)]
        tags = [tag for tag in candidates if engine.image_exists(tag)]
        results.append(BuildResult(plan.service, Status.SKIPPED, plan.image, tags, reason="built earlier"))
    return results
