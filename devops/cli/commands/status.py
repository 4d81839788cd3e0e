"""`devops status [--env E]`: per environment and service, what runs and what a promotion would change."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.release_models:StatusModel")
@click.command("status")
@click.option("--env", "environments", multiple=True, type=params.NAME, help="Environment (repeatable) [default: all].")
@json_option
@pass_app
def cli(app: AppContext, environments: tuple[str, ...]) -> int:
    """Tag, digest, source commit, age and gate verdicts per service, from the GitOps repository."""
    from devops.app.status import environment_status
    from devops.report.release import render_status
    from devops.wiring.governance import freeze_policy
    from devops.wiring.release import CliSteps

    config = app.config
    names = list(environments) or list(config.environments)
    for name in names:
        config.environment(name)
    sources = {name: env.promote_from for name, env in config.environments.items()}
    steps = CliSteps(config, app.settings, app.reporter, reads_only=True)
    click.get_current_context().call_on_close(steps.close)  # the GitOps clone shared by every environment
    freezes = {name: freeze_policy(config, name) for name in names}
    render_status(app.reporter, environment_status(names, sources, list(config.services), steps, now=app.now(),
                                                   freezes=freezes))
    return 0
