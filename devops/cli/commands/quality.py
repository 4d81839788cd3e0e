"""`devops quality [SERVICE]`: run the Sonar scanner (pysonar), then the Sonar quality gate.

Without a token (`$SONAR_TOKEN`) the scan is reported as SKIPPED (not configured), unless
`gates.sonar.required` is true (then exit 3). The scanner writes report-task.txt to
`.devops/sonar/` (see devops/app/sonar_gate.py), the only place the gate reads it from.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app


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
    from devops.adapters import sonar as adapter
    from devops.app.sonar_gate import check_location, clear_report_tasks, report_task_path
    from devops.domain.gates.sonar import plan_scanner, project_key
    from devops.errors import BadInput, GateUnavailable

    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise BadInput(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    config = app.config
    settings = config.gates.sonar
    reporter = app.reporter
    if service:
        config.service(service)
    token = os.environ.get(settings.token_env) or None
    reporter.github.mask(token)
    key_override = (
        config.gates.services[service].sonar_project_key if service in config.gates.services else None
    )
    source = config.service_dir(service) if service else config.root
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    plan = plan_scanner(
        executable=adapter.scanner_executable(),
        settings=settings,
        key=project_key(settings, config.project, service, key_override),
        source_dir=source,
        environ=os.environ,
        event=adapter.load_json(Path(event_path)) if event_path else None,
        shallow=adapter.is_shallow(config.root),
        report_task=report_task_path(config, service),
        extra=scanner_args,
    )
    for note in plan.notes:
        reporter.warn(note)
        reporter.github.annotate("warning", note, title="Sonar")
    if dry_run:
        reporter.info("would run: " + " ".join(plan.args))
        reporter.result({"status": "DRY-RUN", **plan.to_dict()})
        return 0
    if token is None:
        if settings.required:
            raise GateUnavailable(
                f"${settings.token_env} is unset; gates.sonar.required is true",
                hint="add the SONAR_TOKEN secret to the workflow environment",
            )
        reason = f"not configured: ${settings.token_env} is unset"
        reporter.info(f"Sonar reported as SKIPPED ({reason})")
        reporter.github.summary(f"### Sonar analysis: SKIPPED\n\n{reason}\n")
        reporter.result({"status": "SKIPPED", "reason": reason, **plan.to_dict()})
        return 0
    clear_report_tasks(config, service)  # a stale file would gate an older analysis
    check_location(config, plan.report_task)
    plan.report_task.parent.mkdir(parents=True, exist_ok=True)
    reporter.info(f"Sonar analysis of {plan.project_key} ({plan.mode})")
    adapter.run_scanner(plan.args, cwd=plan.cwd, token=token, timeout=settings.scanner_timeout_seconds)
    if no_gate:
        reporter.result({"status": "SCANNED", **plan.to_dict()})
        return 0
    from devops.cli.commands.gate import sonar as gate_command

    ctx = click.get_current_context()
    return int(
        ctx.invoke(gate_command, service=service, report_task=str(plan.report_task), timeout=timeout) or 0
    )
