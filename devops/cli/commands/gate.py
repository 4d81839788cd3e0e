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


@click.group("gate")
def cli() -> None:
    """Quality gates of external services (Sonar)."""


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
    from devops.app.sonar_gate import evaluate_sonar

    reporter = app.reporter
    outcome = evaluate_sonar(
        app.config, service, report_task=report_task, timeout=timeout,
        mask=reporter.github.mask, progress=reporter.debug,
    )
    if outcome.verdict is None:
        return _skipped(app, outcome.reason)
    verdict = outcome.verdict
    for warning in verdict.warnings:
        reporter.warn(f"Sonar: {warning}")
    github = reporter.github
    rows = [(c.metric, c.comparator, c.threshold or "-", c.actual, c.status) for c in verdict.conditions]
    if rows:
        reporter.table(
            f"Sonar quality gate: {verdict.status}",
            ("Metric", "Comparator", "Threshold", "Actual", "Status"),
            rows,
        )
    if verdict.outcome == "fail":
        for condition in verdict.failing:
            github.annotate("error", condition.describe(), title="Sonar quality gate")
    reporter.info(verdict.message())
    from devops.report.github import markdown_table

    summary = f"### Sonar quality gate: {verdict.status}\n\n[dashboard]({verdict.dashboard_url})\n\n"
    if rows:
        summary += markdown_table(("Metric", "Comparator", "Threshold", "Actual", "Status"), rows)
    github.summary(summary)
    github.output("sonar-gate", verdict.status)
    reporter.result(verdict.to_dict())
    return verdict.exit_code


def _skipped(app: AppContext, reason: str) -> int:
    app.reporter.info(f"Sonar reported as SKIPPED ({reason})")
    app.reporter.github.summary(f"### Sonar quality gate: SKIPPED\n\n{reason}\n")
    app.reporter.result({"gate": "sonar", "status": "SKIPPED", "reason": reason, "exit_code": 0})
    return 0
