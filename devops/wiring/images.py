"""The wiring of `devops plan`, `build` and `push` (and of the builds and pushes of releases):
adapters, settings and the progress display, made from the configuration and the run's
environment. Use cases: devops/app/plan.py, devops/app/images_run.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from devops.wiring import adapters as wiring
from devops.wiring.run import Run

if TYPE_CHECKING:
    from devops.adapters.build_inputs import FileInputs
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.app.base_images import BaseResolver
    from devops.app.images_run import ImagesPorts, ImagesSettings, RegistryLogin
    from devops.app.plan import ImageLookup
    from devops.config import Config
    from devops.domain.images.plan import Plan, ServicePlan
    from devops.domain.images.results import BuildResult, ImagesReport, Revision
    from devops.wiring.settings import RuntimeSettings


def input_reader(app: Run) -> FileInputs:
    from devops.adapters.build_inputs import FileInputs

    return FileInputs(app.config.root)


def base_resolver(config: Config, settings: RuntimeSettings, engine: Callable[[], DockerEngine] | None = None,
                  ) -> BaseResolver:
    """Resolves FROM images for one run: the configured registry with its credentials, any other
    registry anonymously (https; http only on loopback), the local engine for a base its
    registry does not have (docs/architecture.md, "Build identity")."""
    from devops.adapters.registry import BaseRegistries
    from devops.app.base_images import BaseResolver

    class _Local:
        def image_ids(self, references: Sequence[str]) -> dict[str, str]:
            from devops.adapters.docker import DockerEngine

            return (engine() if engine is not None else DockerEngine()).image_ids(references)

    return BaseResolver(BaseRegistries(wiring.registry_client(config, settings)), _Local(),
                        parallelism=max(1, min(8, wiring.parallelism(config) * 2)))


def build_args(app: Run, pairs: Sequence[str]) -> dict[str, str]:
    """`--build-arg` pairs over `$DEVOPS_BUILD_ARGS` of this run (after the configuration is
    loaded: its errors come first, as in every command)."""
    from devops.app.plan import parse_build_args

    _ = app.config
    return parse_build_args(pairs, environ=app.settings.environ)


def plan(app: Run, services: Sequence[str], overrides: Mapping[str, str], *,
         images: ImageLookup | None = None, base: str | None = None, bases: BaseResolver | None = None) -> Plan:
    from devops.app.plan import make_plan

    return make_plan(app.config, services, reader=input_reader(app), base=base, overrides=overrides, images=images,
                     bases=bases or base_resolver(app.config, app.settings))


@contextmanager
def progress(app: Run, verb: str, items: Sequence[str]) -> Iterator[Callable[[str, str], None]]:
    """The progress port of builds and pushes, rendered by devops/report/progress.py."""
    from devops.report.progress import progress as display

    with display(app.reporter, verb, items) as sink:
        yield sink


def images_settings(app: Run, *, no_cache: bool = False, revision: Revision | None = None) -> ImagesSettings:
    """`revision`: the run's, when it already has one (a release asks git once, not per step)."""
    from devops.app.images_run import ImagesSettings

    config = app.config
    return ImagesSettings(
        builder=config.build.builder,
        parallelism=wiring.parallelism(config),
        timeout=config.build.timeout_seconds,
        revision=revision if revision is not None else wiring.revision(config),
        source_url=wiring.source_url(config, app.settings),
        retry=wiring.retry_settings(config),
        registry_path=lambda service: wiring.registry_path(config, service),
        platforms=config.build.platforms,
        registry_cache=config.build.registry_cache,
        no_cache=no_cache,
    )


def credentials(app: Run) -> RegistryLogin:
    """The registry credentials of this run, masked in GitHub Actions' log before any use."""
    from devops.app.images_run import RegistryLogin

    registry = app.config.registry
    creds = registry.credentials
    token = app.settings.get(creds.token_env)
    app.reporter.github.mask(token)
    return RegistryLogin(registry.host, app.settings.get(creds.username_env), token, registry.is_docker_hub,
                         creds.username_env, creds.token_env)


def registry(app: Run) -> RegistryClient:
    return wiring.registry_client(app.config, app.settings)


def images_ports(app: Run, *, no_cache: bool = False) -> ImagesPorts:
    from devops.app.images_run import ImagesPorts

    engine = _once(wiring.docker_engine)
    return ImagesPorts(
        engine=engine,
        registry=lambda: registry(app),
        reader=input_reader(app),
        bases=lambda: base_resolver(app.config, app.settings, engine),
        settings=lambda: images_settings(app, no_cache=no_cache),
        credentials=lambda: credentials(app),
        progress=lambda verb, items: progress(app, verb, items),
    )


def run_images(app: Run, plans: Sequence[ServicePlan], engine: DockerEngine, registry: RegistryClient | None,
               *, build: bool, push: bool, no_cache: bool = False, revision: Revision | None = None,
               on_built: Callable[[BuildResult], None] = lambda result: None) -> ImagesReport:
    """Build (or find the earlier build of) and push the planned services; nothing rendered."""
    from devops.app.images_run import run_images as run

    return run(plans, engine, registry, images_settings(app, no_cache=no_cache, revision=revision),
               build=build, push=push,
               progress=lambda verb, items: progress(app, verb, items), on_built=on_built)


def login(app: Run, engine: DockerEngine) -> None:
    """`docker login` with this run's registry credentials (Docker Hub without them: exit 2)."""
    from devops.app.images_run import login as log_in

    log_in(engine, credentials(app))


def local_image_lookup(app: Run) -> DockerEngine | None:
    """The local Docker engine as the plan's image lookup; None (with a warning) when no engine answers."""
    from devops.adapters.docker import DockerEngine
    from devops.errors import DevopsError

    engine = DockerEngine()
    try:
        engine.check()
    except DevopsError:
        app.reporter.warn("no Docker engine to look up built images: every service counts as changed")
        return None
    return engine


def _once(make: Callable[[], DockerEngine]) -> Callable[[], DockerEngine]:
    """`make()` on first call, the same object after."""
    made: list[DockerEngine] = []

    def get() -> DockerEngine:
        if not made:
            made.append(make())
        return made[0]

    return get
