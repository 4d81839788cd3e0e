"""`devops release --env E`: release to an environment, or promote into it.

An environment without `promote_from` builds: plan -> build -> Trivy -> Sonar -> push -> one
GitOps commit. One with `promote_from` (prod) promotes: the digests in the source environment's
release record, checked for evidence and existence, written through the configured mode.
Exit 0 released or nothing to do, 1 a gate or the promotion policy said no, 2 bad input,
3 something could not be checked or reached (nothing is written then).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result

if TYPE_CHECKING:
    from devops.adapters.docker import DockerEngine
    from devops.app.images import ImagesReport
    from devops.app.plan import ServicePlan
    from devops.domain.images.results import BuildResult, Revision


@json_result("devops.report.release_models:ReleaseModel")
@click.command("release")
@click.option("--env", "environment", required=True, type=params.NAME,
              help="Environment to release to (see environments:).")
@click.option("--services", "services_csv", type=params.NAMES_CSV, help="Only these services (comma-separated).")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--mode", type=click.Choice(["commit", "pull-request"]),
              help="Override environments.<env>.gitops.mode for this run.")
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG,
              help="Build argument (part of the image identity), as for `devops build`.")
@click.option("--break-glass", "break_glass", type=params.REASON,
              help="Release through a freeze; the reason is recorded (record, commit trailer, notification).")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, services_csv: str | None, services: tuple[str, ...], mode: str | None,
        build_args: tuple[str, ...], break_glass: str | None, dry_run: bool) -> int:
    """Release SERVICES (all by default) to --env; promote when the environment has promote_from."""
    from devops.app.plan import parse_build_args
    from devops.app.release_run import ReleaseRequest, run_release
    from devops.report.release import render_report, render_verification
    from devops.wiring.governance import governance
    from devops.wiring.release import CliSteps, verify_ports

    config = app.config
    config.environment(environment)
    chosen = [*services, *(s.strip() for s in (services_csv or "").split(",") if s.strip())]
    for name in chosen:
        config.service(name)
    arguments = parse_build_args(build_args, environ=app.settings.environ)
    steps = CliSteps(config, app.settings, app.reporter, build_args=arguments)
    steps.images = _Images(app, lambda: steps.revision)  # one revision lookup for the builds and the record
    click.get_current_context().call_on_close(steps.close)  # one GitOps clone for the run
    rules = governance(config, app.settings, app.reporter, environment, app.now)
    report, failed = run_release(config, ReleaseRequest(environment, tuple(chosen), dry_run, mode, break_glass), steps,
                                 verify_ports(config, app.settings, app.reporter, rules.notifier), rules)
    if report.verification is not None:
        render_verification(app.reporter, report.verification, result=False)
    render_report(app.reporter, report)
    if failed is not None:
        raise failed
    return 0


class _Images:
    """`devops build`'s building and `devops push`'s login, for the release steps."""

    def __init__(self, app: AppContext, revision: Callable[[], Revision]) -> None:
        self.app = app
        self.revision = revision

    def build(self, plans: Sequence[ServicePlan], engine: DockerEngine,
              on_built: Callable[[BuildResult], None] = lambda result: None) -> ImagesReport:
        from devops.wiring.images import run_images

        return run_images(self.app, plans, engine, None, build=True, push=False, revision=self.revision(),
                          on_built=on_built)

    def login(self, engine: DockerEngine) -> None:
        from devops.wiring.images import login

        login(self.app, engine)
