"""`devops rollback --env E --to REF`: restore an earlier release's digests as a new GitOps commit."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.release_models:RollbackModel")
@click.command("rollback")
@click.option("--env", "environment", required=True, type=params.NAME, help="Environment to roll back.")
@click.option("--to", "to", type=params.GIT_REF,
              help="A GitOps commit of an earlier release, `previous`, or `~N` (N releases back).")
@click.option("--list", "list_only", is_flag=True, help="List the environment's releases and exit.")
@click.option("--mode", type=click.Choice(["commit", "pull-request"]),
              help="Override environments.<env>.gitops.mode for this run.")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, to: str | None, list_only: bool, mode: str | None,
        dry_run: bool) -> int:
    """Write the digests of an earlier release record back as a new commit (history is never rewritten)."""
    from devops.app.rollback import releases, rollback
    from devops.errors import BadInput
    from devops.report.release import render_releases, render_report
    from devops.wiring.notify import notifier
    from devops.wiring.release import CliSteps

    config = app.config
    config.environment(environment)
    steps = CliSteps(config, app.settings, app.reporter)
    click.get_current_context().call_on_close(steps.close)  # the run's GitOps clone goes with the command
    if list_only:
        render_releases(app.reporter, environment, releases(environment, steps))
        return 0
    if not to:
        raise BadInput("rollback needs --to REF (a commit, `previous` or `~N`) or --list")
    report = rollback(environment, to, list(config.services), steps, now=app.now(), dry_run=dry_run, mode=mode,
                      notifier=notifier(config, app.settings, app.reporter))
    render_report(app.reporter, report, rollback=True)
    return 0
