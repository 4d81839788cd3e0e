"""`devops build`: build the images whose inputs have no image yet, in parallel.

An image is named by its input hash (`repo:in-<hash>`), so "already built" is a lookup, not a
build: locally, or in the registry when the build is going to be pushed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from devops.domain.images.plan import ServicePlan
from devops.domain.images.reference import BaseSource, parse_reference
from devops.domain.images.results import BuildResult, BuildSpec, Revision, Status, image_tags, oci_labels
from devops.errors import BadInput, DevopsError

__all__ = ["BuildResult", "BuildSettings", "Engine", "Status", "build_services", "built_earlier", "use_buildx"]


class Engine(Protocol):
    """What a build needs of the Docker engine (devops/adapters/docker.py)."""

    def existing(self, references: Iterable[str]) -> set[str]: ...  # one inspection for all
    def inspect(self, references: Iterable[str]) -> dict[str, tuple[str, list[str]]]: ...  # id, repo digests
    def pull(self, reference: str, *, timeout: float = 900) -> str: ...
    def tag(self, source: str, target: str) -> None: ...
    def build(self, spec: BuildSpec, *, use_buildx: bool, timeout: float) -> str: ...


@dataclass(frozen=True)
class BuildSettings:
    revision: Revision
    source_url: str
    use_buildx: bool | Callable[[], bool]  # a callable is asked only when something is built
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
    on_built: Callable[[BuildResult], None] = lambda result: None,
) -> list[BuildResult]:
    """Build every planned service whose image does not exist yet; never raise for one service.

    The engine is asked once for every image and tag; `on_built(result)` runs as each build
    ends (a release starts that image's scan then, while the other builds go on).
    """
    tags_of = {p.service: [f"{p.repository}:{tag}" for tag in image_tags(p, settings.revision)] for p in plans}
    present = engine.existing([p.image for p in plans] + [t for tags in tags_of.values() for t in tags])
    results: dict[str, BuildResult] = {}
    to_build = []
    for plan in plans:
        tags = tags_of[plan.service]
        try:
            if plan.image in present:
                for tag in tags:
                    if tag != plan.image and tag not in present:
                        engine.tag(plan.image, tag)
                results[plan.service] = BuildResult(plan.service, Status.SKIPPED, plan.image, tags,
                                                    reason="image with these inputs exists locally")
            elif settings.remote_exists and settings.remote_exists(plan.repository, plan.inputs.tag):
                results[plan.service] = BuildResult(plan.service, Status.SKIPPED, plan.image, tags,
                                                    reason="image with these inputs exists in the registry")
            else:
                to_build.append(plan)
        except DevopsError as exc:
            results[plan.service] = BuildResult(plan.service, Status.FAILED, plan.image, tags, error=str(exc))
    for plan in plans:
        if plan.service in results:
            result = results[plan.service]
            on_event(plan.service, result.status.value if not result.reason
                     else f"{result.status.value} ({result.reason})")
    if to_build:
        buildx = settings.use_buildx() if callable(settings.use_buildx) else settings.use_buildx
        problems = _prepare_bases(to_build, engine, on_event)

        def one(plan: ServicePlan) -> BuildResult:
            tags = tags_of[plan.service]
            started = clock()
            if plan.service in problems:
                return BuildResult(plan.service, Status.FAILED, plan.image, tags, error=problems[plan.service])
            try:
                on_event(plan.service, "building")
                cache_from: tuple[str, ...] = ()
                cache_to = None
                if buildx and settings.registry_cache and settings.remote_exists:
                    cache_ref = f"{plan.repository}:buildcache"
                    cache_from = (f"type=registry,ref={cache_ref}",)
                    cache_to = f"type=registry,ref={cache_ref},mode=max"
                spec = BuildSpec(
                    context=Path(plan.inputs.context),
                    dockerfile=Path(plan.inputs.dockerfile),
                    tags=tuple(tags),
                    build_args=plan.inputs.build_args,
                    labels=oci_labels(plan, settings.revision, source_url=settings.source_url,
                                      created=settings.created),
                    platforms=settings.platforms,
                    cache_from=cache_from,
                    cache_to=cache_to,
                    no_cache=settings.no_cache,
                )
                engine.build(spec, use_buildx=buildx, timeout=settings.timeout)
                return BuildResult(plan.service, Status.BUILT, plan.image, tags, clock() - started)
            except DevopsError as exc:
                return BuildResult(plan.service, Status.FAILED, plan.image, tags, clock() - started, error=str(exc))

        def tracked(plan: ServicePlan) -> BuildResult:
            result = one(plan)
            on_event(plan.service, result.status.value)
            on_built(result)
            return result

        workers = max(1, min(settings.parallelism, len(to_build)))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="build") as pool:
            for plan, result in zip(to_build, pool.map(tracked, to_build), strict=True):
                results[plan.service] = result
    return [results[p.service] for p in plans]


def _prepare_bases(plans: Sequence[ServicePlan], engine: Engine,
                   on_event: Callable[[str, str], None]) -> dict[str, str]:
    """Make the engine's copy of every registry base the digest the identity names, so the build
    uses exactly that base: `docker pull name@digest` and tag it as the reference, only where
    the local copy is another (a base re-pushed under the same tag). Returns service -> error."""
    wanted = {b.reference: b.digest for p in plans for b in p.inputs.bases if b.source is BaseSource.REGISTRY}
    if not wanted:
        return {}
    local = engine.inspect(wanted)
    failed: dict[str, str] = {}
    for reference, digest in wanted.items():
        if reference in local and any(d.endswith(f"@{digest}") for d in local[reference][1]):
            continue
        image = parse_reference(reference)
        name = reference.rsplit("@", 1)[0]
        name = name[:len(name) - len(image.tag) - 1] if name.endswith(f":{image.tag}") else name
        try:
            for plan in plans:
                if any(b.reference == reference for b in plan.inputs.bases):
                    on_event(plan.service, f"pulling base {reference} ({digest[:19]})")
            engine.pull(f"{name}@{digest}")
            engine.tag(f"{name}@{digest}", reference)
        except DevopsError as exc:
            failed[reference] = f"base image {reference}@{digest[:19]}: {exc}"
    return {p.service: failed[b.reference] for p in plans for b in p.inputs.bases if b.reference in failed}


def built_earlier(plans: Sequence[ServicePlan], engine: Engine, revision: Revision) -> list[BuildResult]:
    """The local images of the current inputs, for a push without a build.

    Raises `BadInput` for a service whose image is not there: the inputs (files or build
    arguments) differ from the last build, so pushing anything else would publish a stale image.
    """
    results = []
    candidates = {p.service: [f"{p.repository}:{tag}" for tag in image_tags(p, revision)] for p in plans}
    present = engine.existing([p.image for p in plans] + [t for tags in candidates.values() for t in tags])
    for plan in plans:
        if plan.image not in present:
            raise BadInput(
                f"{plan.service}: no local image {plan.image} for the current inputs",
                hint=f"run `devops build {plan.service}` first, with the same --build-arg / $DEVOPS_BUILD_ARGS",
            )
        tags = [tag for tag in candidates[plan.service] if tag in present]
        results.append(BuildResult(plan.service, Status.SKIPPED, plan.image, tags, reason="built earlier"))
    return results
