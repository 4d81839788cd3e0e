"""Shared by `devops build` and `devops push`: wire the adapters, run the steps, render."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from devops.app.images import ImagesReport, ServiceOutcome
from devops.cli.context import AppContext
from devops.cli.wiring import adapters as wiring
from devops.errors import BadInput, ExitCode

if TYPE_CHECKING:
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.app.plan import ServicePlan


def build_and_push(
    app: AppContext,
    services: Sequence[str],
    build_args: Sequence[str],
    *,
    build: bool,
    push: bool,
    dry_run: bool = False,
    no_cache: bool = False,
) -> int:
    """Build (when `build`) and push (when `push`) the services; return the exit code."""
    from devops.app.plan import make_plan, parse_build_args

    config = app.config
    reporter = app.reporter
    overrides = parse_build_args(build_args)
    for name in services:
        config.service(name)  # an unknown name is bad input (exit 2) before Docker is asked
    engine = wiring.docker_engine()
    plan = make_plan(config, services, overrides=overrides, image_exists=engine.image_exists)
    registry = wiring.registry_client(config) if push else None
    if push:
        login(app, engine)

    if dry_run:
        rows = [(s.service, "build" if s.changed else "skip", s.image, s.reason) for s in plan.services]
        reporter.table("Dry run: nothing built or pushed", ["service", "action", "image", "reason"], rows)
        reporter.result({"dry_run": True, "services": [s.to_dict() for s in plan.services]})
        return int(ExitCode.OK)

    report = run_images(app, plan.services, engine, registry, build=build, push=push, no_cache=no_cache)
    render(app, report, push)
    return int(ExitCode.EXTERNAL) if report.failed else int(ExitCode.OK)


def run_images(
    app: AppContext,
    plans: Sequence[ServicePlan],
    engine: DockerEngine,
    registry: RegistryClient | None,
    *,
    build: bool,
    push: bool,
    no_cache: bool = False,
) -> ImagesReport:
    """Build (or find the earlier build of) and push the planned services; nothing rendered."""
    from devops.app.build import BuildSettings, build_services, built_earlier
    from devops.app.images import push_outcomes
    from devops.report.progress import progress

    config = app.config
    reporter = app.reporter
    report = ImagesReport([ServiceOutcome(p) for p in plans])
    revision = wiring.revision(config)
    if build:
        settings = BuildSettings(
            revision=revision,
            source_url=wiring.source_url(config),
            use_buildx=_use_buildx(config.build.builder, engine.has_buildx),
            parallelism=wiring.parallelism(config),
            timeout=config.build.timeout_seconds,
            platforms=config.build.platforms,
            registry_cache=config.build.registry_cache,
            no_cache=no_cache,
            remote_exists=_remote_lookup(registry),
        )
        with progress(reporter, "build", [p.service for p in plans]) as sink:
            results = build_services(plans, engine, settings, on_event=sink)
        for outcome, result in zip(report.outcomes, results, strict=True):
            outcome.build = result
    else:
        for outcome, result in zip(report.outcomes, built_earlier(plans, engine, revision), strict=True):
            outcome.build = result
    if push and registry is not None:
        with progress(reporter, "push", [p.service for p in plans]) as sink:
            push_outcomes(
                report.outcomes,
                engine,
                registry,
                lambda service: wiring.registry_path(config, service),
                wiring.retry_settings(config),
                on_event=sink,
            )
    return report


def _remote_lookup(registry: RegistryClient | None) -> Callable[[str, str], bool] | None:
    """`(repository, tag) -> bool` against the registry, or None when not pushing."""
    if registry is None:
        return None
    client = registry

    def exists(repository: str, tag: str) -> bool:
        return client.exists(repository.split("/", 1)[1], tag)

    return exists


def _use_buildx(choice: str, available: bool) -> bool:
    if choice == "buildx" and not available:
        raise BadInput(
            "build.builder is buildx but `docker buildx` is not installed",
            hint="install the buildx plugin or set build.builder: auto",
        )
    return available if choice == "auto" else choice == "buildx"


def login(app: AppContext, engine: object) -> None:
    config = app.config
    creds = config.registry.credentials
    username, token = creds.username(app.settings), creds.token(app.settings)
    app.reporter.github.mask(token)
    if username and token:
        engine.login(config.registry.host, username, token)  # type: ignore[attr-defined]
    elif config.registry.is_docker_hub:
        raise BadInput(
            f"pushing to {config.registry.host} needs ${creds.username_env} and ${creds.token_env}",
            hint="set them from repository secrets (an access token, not a password)",
        )


def render(app: AppContext, report: ImagesReport, pushed: bool) -> None:
    from devops.report.github import markdown_table

    reporter = app.reporter
    headers = ["service", "build", "tag", "time", "note"] + (["digest"] if pushed else [])
    rows = []
    for o in report.outcomes:
        b = o.build
        note = ""
        if b is not None:
            note = b.reason or (b.error.splitlines()[0] if b.error else "")
        if o.push and o.push.error:
            note = o.push.error.splitlines()[0]
        row = [
            o.plan.service,
            b.status.value if b else "-",
            o.plan.inputs.tag,
            f"{b.seconds:.1f}s" if b and b.seconds else "-",
            note,
        ]
        if pushed:
            row.append(o.push.digest if o.push and o.push.digest else "-")
        rows.append(row)
    reporter.table("Images", headers, rows)
    for o in report.failed:
        message = o.push.error if o.push and o.push.error else o.build.error if o.build else ""
        reporter.errors.print(f"{o.plan.service}: {message}", markup=False)
        reporter.github.annotate(
            "error", message.splitlines()[0] if message else "failed", title=f"{o.plan.service} image"
        )
    reporter.github.summary("### Images\n\n" + markdown_table(headers, rows))
    if pushed:
        import json

        digests = {o.plan.service: o.push.reference for o in report.outcomes if o.push and o.push.digest}
        reporter.github.output("digests", json.dumps(digests, separators=(",", ":")))
    reporter.result(report.to_dict())
