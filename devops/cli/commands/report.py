"""`devops report dora --env E`: reports computed from the GitOps repository."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@click.group("report")
def cli() -> None:
    """Reports computed from the GitOps repository (DORA metrics)."""


@json_result("devops.report.dora:DoraModel")
@cli.command("dora")
@click.option("--env", "environment", required=True, type=params.NAME, help="Environment (e.g. prod).")
@click.option("--since", default="90d", show_default=True, type=params.DURATION,
              help="Look-back window: a duration like 30d or 12w (1d to 400d).")
@click.option("--chart", "chart_path", type=params.file_path(),
              help="Also draw a chart, PNG or SVG by the suffix (inside the repository; needs devops[report]).")
@json_option
@pass_app
def dora(app: AppContext, environment: str, since: str, chart_path: str | None) -> int:
    """Deployment frequency, lead time, change failure rate and time to restore of --env."""
    from devops.app.dora import dora_report
    from devops.config.outputs import output_file
    from devops.domain.release.dora import window
    from devops.domain.release.evidence import utc_now
    from devops.report.dora import render_dora
    from devops.wiring.dora import CliDoraSteps

    span = window(since)
    config = app.config
    config.environment(environment)
    chart = output_file(config.root, chart_path, "--chart", suffixes=(".png", ".svg")) if chart_path else None
    report = dora_report(environment, CliDoraSteps(config, app.settings), since=span, now=utc_now())
    render_dora(app.reporter, report, chart)
    return 0
