"""Build and push as one use case, shared by `devops build`, `devops push` and releases.

The outside world comes in as ports: the Docker engine and the registry (made on first use, so
an unknown service name is bad input before Docker is asked), the build-input reader, and a
progress port the CLI renders (a live display on a terminal, one line per event in CI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol

from devops.app.build import BuildResult, BuildSettings, Engine, build_services, built_earlier, use_buildx
from devops.app.images import push_outcomes
from devops.app.plan import Bases, InputReader, make_plan
from devops.app.push import DigestReader, Pusher, RetrySettings
from devops.config import Config
from devops.domain.images.plan import Plan, ServicePlan
from devops.domain.images.results import ImagesReport, Revision, ServiceOutcome
from devops.errors import BadInput, ExitCode

# (verb, items) -> a context giving the callback `(item, message)` that shows what each job does.
Progress = Callable[[str, Sequence[str]], AbstractContextManager[Callable[[str, str], None]]]


@contextmanager
def no_progress(_verb: str, _items: Sequence[str]) -> Iterator[Callable[[str, str], None]]:
    yield lambda _item, _message: None


class ImagesEngine(Engine, Pusher, Protocol):
    """The Docker engine as builds and pushes use it (devops/adapters/docker.py)."""

    def source_digests(self, repositories: Sequence[str]) -> dict[str, set[str]]: ...

    @property
    def has_buildx(self) -> bool: ...

    def login(self, server: str, username: str, token: str) -> None: ...


class Registry(DigestReader, Protocol):
    """The registry's HTTP API (devops/adapters/registry.py)."""

    def exists(self, repository: str, reference: str) -> bool: ...


@dataclass(frozen=True)
class ImagesSettings:
    """The build and push settings of the configuration, resolved by the wiring."""

    builder: str  # build.builder: auto, buildx, classic
    parallelism: int
    timeout: float
    revision: Revision
    source_url: str
    retry: RetrySettings
    registry_path: Callable[[str], str]  # service -> `namespace/image` inside the registry
    platforms: tuple[str, ...] = ()
    registry_cache: bool = False
    no_cache: bool = False


@dataclass(frozen=True)
class RegistryLogin:
    """Who pushes: the credentials the wiring read, and where they come from (for messages)."""

    host: str
    username: str | None
    token: str | None
    docker_hub: bool
    username_env: str = "DOCKERHUB_USERNAME"
    token_env: str = "DOCKERHUB_TOKEN"


def login(engine: ImagesEngine, credentials: RegistryLogin) -> None:
    """`docker login` when credentials are set; Docker Hub without them is bad input."""
    if credentials.username and credentials.token:
        engine.login(credentials.host, credentials.username, credentials.token)
    elif credentials.docker_hub:
        raise BadInput(
            f"pushing to {credentials.host} needs ${credentials.username_env} and ${credentials.token_env}",
            hint="set them from repository secrets (an access token, not a password)",
        )


def run_images(
    plans: Sequence[ServicePlan],
    engine: ImagesEngine,
    registry: Registry | None,
    settings: ImagesSettings,
    *,
    build: bool,
    push: bool,
    progress: Progress = no_progress,
    on_built: Callable[[BuildResult], None] = lambda result: None,
) -> ImagesReport:
    """Build (or find the earlier build of) and push the planned services; `on_built` runs as
    each build ends."""
    report = ImagesReport([ServiceOutcome(p) for p in plans])
    if build:
        build_settings = BuildSettings(
            revision=settings.revision,
            source_url=settings.source_url,
            # `docker buildx version` only when something is built.
            use_buildx=lambda: use_buildx(settings.builder, engine.has_buildx),
            parallelism=settings.parallelism,
            timeout=settings.timeout,
            platforms=settings.platforms,
            registry_cache=settings.registry_cache,
            no_cache=settings.no_cache,
            remote_exists=_remote_lookup(registry),
        )
        with progress("build", [p.service for p in plans]) as sink:
            results = build_services(plans, engine, build_settings, on_event=sink, on_built=on_built)
    else:
        results = built_earlier(plans, engine, settings.revision)
    for outcome, result in zip(report.outcomes, results, strict=True):
        outcome.build = result
    if push and registry is not None:
        with progress("push", [p.service for p in plans]) as sink:
            push_outcomes(report.outcomes, engine, registry, settings.registry_path, settings.retry, on_event=sink)
    return report


def _remote_lookup(registry: Registry | None) -> Callable[[str, str], bool] | None:
    """`(repository, tag) -> bool` against the registry, or None when not pushing."""
    if registry is None:
        return None
    client = registry

    def exists(repository: str, tag: str) -> bool:
        return client.exists(repository.split("/", 1)[1], tag)

    return exists


@dataclass(frozen=True)
class ImagesRequest:
    services: Sequence[str]
    overrides: dict[str, str]
    build: bool
    push: bool
    dry_run: bool = False


@dataclass(frozen=True)
class ImagesPorts:
    engine: Callable[[], ImagesEngine]  # made after the names are checked; checks the daemon
    registry: Callable[[], Registry]
    reader: InputReader
    bases: Callable[[], Bases]  # resolves the FROM images (asks their registries)
    settings: Callable[[], ImagesSettings]
    credentials: Callable[[], RegistryLogin]
    progress: Progress = no_progress


@dataclass(frozen=True)
class ImagesOutcome:
    """A dry run's plan, or the report of what was built and pushed."""

    plan: Plan
    report: ImagesReport | None = None

    @property
    def exit_code(self) -> int:
        return int(ExitCode.EXTERNAL) if self.report and self.report.failed else int(ExitCode.OK)


def build_and_push(config: Config, request: ImagesRequest, ports: ImagesPorts) -> ImagesOutcome:
    """Build (when `request.build`) and push (when `request.push`) the services."""
    for name in request.services:
        config.service(name)  # an unknown name is bad input (exit 2) before Docker is asked
    engine = ports.engine()
    # A dry run shows the plan's reasons; a real run asks the engine once in build_services.
    plan = make_plan(config, request.services, reader=ports.reader, bases=ports.bases(), overrides=request.overrides,
                     images=engine if request.dry_run else None)
    registry = ports.registry() if request.push else None
    if request.push:
        login(engine, ports.credentials())
    if request.dry_run:
        return ImagesOutcome(plan)
    report = run_images(plan.services, engine, registry, ports.settings(), build=request.build, push=request.push,
                        progress=ports.progress)
    return ImagesOutcome(plan, report)
