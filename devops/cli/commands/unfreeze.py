"""`devops unfreeze --env E`: lift the freeze `devops freeze` wrote (calendar freezes stay)."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.governance:FreezeResultModel")
@click.command("unfreeze")
@click.option("--env", "environment", required=True, type=params.NAME, help="Environment to unfreeze.")
@click.option("--mode", type=click.Choice(["commit", "pull-request"]), default="commit", show_default=True,
              help="How the change is written.")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, mode: str, dry_run: bool) -> int:
    """Lift the freeze of --env written by `devops freeze`; calendar freezes are configuration and stay."""
    from devops.app.freeze import unfreeze
    from devops.report.governance import render_freeze
    from devops.wiring.governance import freeze_policy
    from devops.wiring.notify import notifier
    from devops.wiring.release import CliSteps

    config = app.config
    config.environment(environment)
    result = unfreeze(environment, CliSteps(config, app.settings, app.reporter), freeze_policy(config, environment),
                      now=app.now(), mode=mode, dry_run=dry_run, notifier=notifier(config, app.settings, app.reporter))
    render_freeze(app.reporter, result)
    return 0
