"""`devops quality [SERVICE]`: run the Sonar scanner (pysonar), then the Sonar quality gate.

Without a token (`$SONAR_TOKEN`) the scan is reported as SKIPPED (not configured), unless
`gates.sonar.required` is true (then exit 3). The scanner writes report-task.txt to
`.devops/sonar/` (see devops/app/sonar_gate.py), the only place the gate reads it from.
Use case: devops/app/quality.py.
"""

from __future__ import annotations

import math

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.sonar:QualityResult")
@click.command("quality")
@click.argument("service", required=False, type=params.NAME)
@click.option("--no-gate", is_flag=True, help="Only run the scanner; do not wait for the quality gate.")
@click.option("--timeout", type=params.SECONDS, help="Seconds to wait for the quality gate.")
@click.option("--scanner-arg", "scanner_args", multiple=True, metavar="ARG", help="Extra pysonar argument.")
@dry_run_option
@json_option
@pass_app
def cli(
    app: AppContext,
    service: str | None,
    no_gate: bool,
    timeout: float | None,
    scanner_args: tuple[str, ...],
    dry_run: bool,
) -> int:
    """Analyse SERVICE (or the whole repository) with SonarCloud and apply its quality gate."""
    from devops.app.quality import QualityRequest, run_quality
    from devops.errors import BadInput
    from devops.report import sonar as render
    from devops.wiring import sonar as wiring

    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise BadInput(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    reporter = app.reporter
    request = QualityRequest(service, no_gate, timeout, scanner_args, dry_run)
    outcome = run_quality(
        app.config, request, token=wiring.token(app), github=wiring.github_context(app),
        event_path=app.settings.get("GITHUB_EVENT_PATH"), scanner=wiring.scanner(),
        gate_ports=wiring.sonar_ports(app.config),
        on_plan=lambda plan: render.render_plan_notes(reporter, plan), on_scan=reporter.info, progress=reporter.debug)
    if outcome.gate is None:
        shown = render.render_scanner(reporter, outcome.status, outcome.plan, outcome.reason)
        reporter.result(render.QualityResult(shown))
        return 0
    reporter.result(render.QualityResult(render.render_gate(reporter, outcome.gate)))
    return 0 if outcome.gate.verdict is None else outcome.gate.verdict.exit_code
