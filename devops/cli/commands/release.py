"""`devops release --env E`: release to an environment, or promote into it.

An environment without `promote_from` builds: plan -> build -> Trivy -> Sonar -> push -> one
GitOps commit. One with `promote_from` (prod) promotes: the digests in the source environment's
release record, checked for evidence and existence, written through the configured mode.
Exit 0 released or nothing to do, 1 a gate or the promotion policy said no, 2 bad input,
3 something could not be checked or reached (nothing is written then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app

if TYPE_CHECKING:
    from devops.app.release import ReleaseReport


@click.command("release")
@click.option("--env", "environment", required=True, type=params.NAME,
              help="Environment to release to (see environments:).")
@click.option("--services", "services_csv", type=params.NAMES_CSV, help="Only these services (comma-separated).")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--mode", type=click.Choice(["commit", "pull-request"]),
              help="Override environments.<env>.gitops.mode for this run.")
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG,
              help="Build argument (part of the image identity), as for `devops build`.")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, services_csv: str | None, services: tuple[str, ...], mode: str | None,
        build_args: tuple[str, ...], dry_run: bool) -> int:
    """Release SERVICES (all by default) to --env; promote when the environment has promote_from."""
    from devops.app.plan import parse_build_args
    from devops.cli.wiring.release import CliSteps
    from devops.domain.release.evidence import utc_now
    from devops.report.release import render_report

    config = app.config
    target = config.environment(environment)
    chosen = [*services, *(s.strip() for s in (services_csv or "").split(",") if s.strip())]
    for name in chosen:
        config.service(name)
    order = list(config.services)
    steps = CliSteps(app, parse_build_args(build_args, environ=app.settings.environ))
    if target.promote_from:
        from devops.app.promote import promote

        policy = target.evidence
        if policy.require_verification is None:  # required exactly when the source verifies
            source_verifies = config.environment(target.promote_from).verify is not None
            policy = policy.model_copy(update={"require_verification": source_verifies})
        report = promote(environment, target.promote_from, chosen, order, steps, policy,
                         now=utc_now(), dry_run=dry_run, mode=mode)
    else:
        from devops.app.release import release

        report = release(environment, chosen or order, order, steps, now=utc_now(), dry_run=dry_run, mode=mode)
    failed = _verify_after(app, environment, report, chosen or order)
    render_report(app, report)
    if failed is not None:
        raise failed
    return 0


def _verify_after(app: AppContext, environment: str, report: ReleaseReport, services: list[str]) -> Exception | None:
    """Run `devops verify` after a release that committed, when the environment configures it.

    Only a commit deploys anything (a pull request waits for review; a no-op changed nothing,
    and re-verifying it would write new evidence on every idle run). The verdict is recorded in
    the release record and shown with the release; a failure is returned to raise after
    rendering, so the release's own output is never lost. When Prometheus cannot be asked, the
    release still stands (committed) and says it is not verified (exit 3).
    """
    from devops.app import verify_run
    from devops.errors import DevopsError

    publish = report.publish
    if app.config.environment(environment).verify is None or report.dry_run or publish is None \
            or publish.outcome != "committed":
        return None
    try:
        result, error = verify_run.verify_and_record(app, environment, services, settle=True)
    except DevopsError as exc:
        report.verification = {"verdict": "UNAVAILABLE", "error": exc.message}
        return exc.retold(f"{environment}: released (commit {(publish.commit or '')[:12]}) but not verified: "
                          f"{exc.message}", hint=f"run `devops verify --env {environment}` once it can be reached")
    report.verification = result
    return error
