"""`devops gate sonar`: wait for the Sonar analysis and apply its quality gate.

Exit 0 when the gate is OK, 1 when it is ERROR (every failing condition listed), 3 when the
gate cannot be evaluated (task FAILED/CANCELED, timeout, bad token, server errors), 2 when
report-task.txt is missing, malformed, committed to git, or names a server other than
gates.sonar.host_url (then nothing is sent).
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@click.group("gate")
def cli() -> None:
    """Quality gates of external services (Sonar)."""


@json_result("devops.report.sonar:GateSonarResult")
@cli.command("sonar")
@click.option(
    "--service",
    type=params.NAME,
    help="Read the analysis of `devops quality SERVICE` (else of the whole repository), under .devops/sonar/.",
)
@click.option(
    "--report-task",
    "report_task",
    type=params.file_path(),
    help="Path of report-task.txt [default: what `devops quality` wrote under .devops/sonar/].",
)
@click.option(
    "--timeout", type=params.SECONDS, help="Seconds to wait for the analysis [default: gates.sonar.timeout_seconds]."
)
@json_option
@pass_app
def sonar(app: AppContext, service: str | None, report_task: str | None, timeout: float | None) -> int:
    """Poll the analysis task of report-task.txt, then read its quality-gate status."""
    from devops.report.sonar import GateSonarResult, render_gate
    from devops.wiring.sonar import evaluate_sonar

    outcome = evaluate_sonar(app, service, report_task=report_task, timeout=timeout)
    app.reporter.result(GateSonarResult(render_gate(app.reporter, outcome)))
    return 0 if outcome.verdict is None else outcome.verdict.exit_code
