"""`devops quality [SERVICE]`: run the Sonar scanner (pysonar), then the Sonar quality gate.

Without a token the analysis is SKIPPED (not configured), unless `gates.sonar.required` is true
(then exit 3). The scanner writes report-task.txt to `.devops/sonar/` (devops/app/sonar_gate.py),
the only place the gate reads it from. The scanner and the GitHub context come in as ports and
values from the wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from devops.app.sonar_gate import (
    SonarOutcome,
    SonarPorts,
    check_location,
    clear_report_tasks,
    evaluate_sonar,
    report_task_path,
)
from devops.config import Config
from devops.domain.gates.sonar_scanner import ScannerPlan, plan_scanner, project_key
from devops.errors import GateUnavailable


class SonarScanner(Protocol):
    """pysonar and what the plan needs to know about the checkout (devops/adapters/sonar.py)."""

    def executable(self) -> str: ...

    def is_shallow(self, repo: Path) -> bool | None: ...

    def load_event(self, path: Path) -> Any: ...

    def run(self, args: Sequence[str], *, cwd: Path, token: str, timeout: float) -> None: ...


@dataclass(frozen=True)
class QualityRequest:
    service: str | None = None
    no_gate: bool = False
    timeout: float | None = None
    scanner_args: tuple[str, ...] = ()
    dry_run: bool = False


@dataclass(frozen=True)
class QualityOutcome:
    """DRY-RUN, SKIPPED (with the reason) or SCANNED; `gate` is the gate's outcome when it ran."""

    status: str
    plan: ScannerPlan
    reason: str = ""
    gate: SonarOutcome | None = None


def run_quality(
    config: Config,
    request: QualityRequest,
    *,
    token: str | None,
    github: Mapping[str, str],
    event_path: str | None,
    scanner: SonarScanner,
    gate_ports: SonarPorts,
    on_plan: Callable[[ScannerPlan], None] = lambda _plan: None,
    on_scan: Callable[[str], None] = lambda _msg: None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> QualityOutcome:
    """Plan the scanner (GitHub's `GITHUB_EVENT_NAME`, `GITHUB_REF_NAME`, `GITHUB_REF_TYPE` in
    `github`, the event payload at `event_path`), run it, then the gate unless `no_gate`."""
    service = request.service
    settings = config.gates.sonar
    if service:
        config.service(service)
    source = config.service_dir(service) if service else config.root
    policy = settings.policy()
    plan = plan_scanner(
        executable=scanner.executable(),
        settings=policy,
        key=project_key(policy, config.project, service, config.gates.sonar_project_key(service)),
        source_dir=source,
        environ=github,
        event=scanner.load_event(Path(event_path)) if event_path else None,
        shallow=scanner.is_shallow(config.root),
        report_task=report_task_path(config, service),
        extra=request.scanner_args,
    )
    on_plan(plan)
    if request.dry_run:
        return QualityOutcome("DRY-RUN", plan)
    if token is None:
        if settings.required:
            raise GateUnavailable(
                f"${settings.token_env} is unset; gates.sonar.required is true",
                hint="add the SONAR_TOKEN secret to the workflow environment",
            )
        return QualityOutcome("SKIPPED", plan, reason=f"not configured: ${settings.token_env} is unset")
    clear_report_tasks(config, service)  # a stale file would gate an older analysis
    check_location(config, plan.report_task)
    plan.report_task.parent.mkdir(parents=True, exist_ok=True)
    on_scan(f"Sonar analysis of {plan.project_key} ({plan.mode})")
    scanner.run(plan.args, cwd=plan.cwd, token=token, timeout=settings.scanner_timeout_seconds)
    if request.no_gate:
        return QualityOutcome("SCANNED", plan)
    gate = evaluate_sonar(config, service, token=token, ports=gate_ports, report_task=str(plan.report_task),
                          timeout=request.timeout, progress=progress)
    return QualityOutcome("SCANNED", plan, gate=gate)
