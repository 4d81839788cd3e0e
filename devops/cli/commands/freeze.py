"""`devops freeze --env E --until T --reason R`: stop releases to E until T, in the GitOps repository."""

from __future__ import annotations

import datetime as dt

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.governance:FreezeResultModel")
@click.command("freeze")
@click.option("--env", "environment", required=True, type=params.NAME, help="Environment to freeze.")
@click.option("--until", "until", required=True, type=params.FREEZE_UNTIL,
              help="When releases resume: ISO 8601 (UTC without an offset) or a duration from now (4h, 2d).")
@click.option("--reason", required=True, type=params.REASON, help="Why; shown to whoever is refused.")
@click.option("--mode", type=click.Choice(["commit", "pull-request"]), default="commit", show_default=True,
              help="How the freeze is written (an emergency stop is a commit by default).")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, until: dt.datetime | dt.timedelta, reason: str, mode: str,
        dry_run: bool) -> int:
    """Freeze --env: `devops release` refuses it until --until (or `devops unfreeze`), except with --break-glass."""
    from devops.app.freeze import freeze
    from devops.domain.release.freeze import until_instant
    from devops.report.governance import render_freeze
    from devops.wiring.governance import freeze_policy
    from devops.wiring.notify import notifier
    from devops.wiring.release import CliSteps

    config = app.config
    config.environment(environment)
    now = app.now()
    result = freeze(environment, until_instant(until, now), reason, CliSteps(config, app.settings, app.reporter),
                    freeze_policy(config, environment), now=now, mode=mode, dry_run=dry_run,
                    notifier=notifier(config, app.settings, app.reporter))
    render_freeze(app.reporter, result)
    return 0
