"""What `devops gate sonar` and `devops quality` show: the conditions table, annotations, the
job summary, the step output, and the `--json` results (pydantic models, docs/schemas/)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from devops.domain.gates.sonar import GateCondition, SonarOutcome, SonarVerdict
from devops.domain.gates.sonar_scanner import ScannerPlan
from devops.report.console import Reporter
from devops.report.github import markdown_table

CONDITION_HEADERS = ("Metric", "Comparator", "Threshold", "Actual", "Status")


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class ConditionResult(_Result):
    metric: str
    comparator: str
    threshold: str
    actual: str
    status: str


class SonarGateResult(_Result):
    """The quality gate's verdict."""

    gate: Literal["sonar"] = "sonar"
    status: str = Field(description="OK, WARN, ERROR or NONE, as Sonar reports it")
    verdict: Literal["pass", "fail", "error"] = Field(description="what the status means under on_warn/on_none")
    exit_code: int
    task_id: str
    analysis_id: str
    dashboard_url: str
    failing_conditions: list[ConditionResult]
    conditions: list[ConditionResult]
    warnings: list[str]
    polls: int
    seconds: float
    task_statuses: list[str] = Field(description="the analysis task's statuses, in the order seen")


class SonarSkipped(_Result):
    """Sonar is not configured (no token, not required, no report-task.txt)."""

    gate: Literal["sonar"] = "sonar"
    status: Literal["SKIPPED"] = "SKIPPED"
    reason: str
    exit_code: Literal[0] = 0


class GateSonarResult(RootModel[SonarGateResult | SonarSkipped]):
    """`devops gate sonar --json`."""

    model_config = ConfigDict(frozen=True)


class ScannerResult(_Result):
    """What `devops quality` ran (or would run), when the gate was not read."""

    status: Literal["DRY-RUN", "SKIPPED", "SCANNED"]
    reason: str | None = Field(default=None, exclude_if=lambda value: value is None)
    command: list[str]
    cwd: str
    project_key: str
    report_task: str
    mode: Literal["branch", "pull-request", "local"]
    notes: list[str]


class QualityResult(RootModel[ScannerResult | SonarGateResult | SonarSkipped]):
    """`devops quality --json`: the scanner's plan, or the quality gate's result when it ran."""

    model_config = ConfigDict(frozen=True)


def _condition(condition: GateCondition) -> ConditionResult:
    return ConditionResult(metric=condition.metric, comparator=condition.comparator, threshold=condition.threshold,
                           actual=condition.actual, status=condition.status)


def gate_result(verdict: SonarVerdict) -> SonarGateResult:
    return SonarGateResult(
        status=verdict.status, verdict=verdict.outcome,
        exit_code=verdict.exit_code, task_id=verdict.task_id, analysis_id=verdict.analysis_id,
        dashboard_url=verdict.dashboard_url, failing_conditions=[_condition(c) for c in verdict.failing],
        conditions=[_condition(c) for c in verdict.conditions], warnings=list(verdict.warnings), polls=verdict.polls,
        seconds=round(verdict.seconds, 3), task_statuses=list(verdict.statuses_seen),
    )


def scanner_result(status: str, plan: ScannerPlan, reason: str = "") -> ScannerResult:
    return ScannerResult(status=status, reason=reason or None, command=list(plan.args),
                         cwd=str(plan.cwd), project_key=plan.project_key, report_task=str(plan.report_task),
                         mode=plan.mode, notes=list(plan.notes))


def render_skipped(reporter: Reporter, reason: str) -> SonarSkipped:
    reporter.info(f"Sonar reported as SKIPPED ({reason})")
    reporter.github.summary(f"### Sonar quality gate: SKIPPED\n\n{reason}\n")
    return SonarSkipped(reason=reason)


def render_verdict(reporter: Reporter, verdict: SonarVerdict) -> SonarGateResult:
    """The conditions table, annotations of failing conditions, the summary and the step output."""
    for warning in verdict.warnings:
        reporter.warn(f"Sonar: {warning}")
    github = reporter.github
    rows = [(c.metric, c.comparator, c.threshold or "-", c.actual, c.status) for c in verdict.conditions]
    if rows:
        reporter.table(f"Sonar quality gate: {verdict.status}", CONDITION_HEADERS, rows)
    if verdict.outcome == "fail":
        for condition in verdict.failing:
            github.annotate("error", condition.describe(), title="Sonar quality gate")
    reporter.info(verdict.message())
    summary = f"### Sonar quality gate: {verdict.status}\n\n[dashboard]({verdict.dashboard_url})\n\n"
    if rows:
        summary += markdown_table(CONDITION_HEADERS, rows)
    github.summary(summary)
    github.output("sonar-gate", verdict.status)
    return gate_result(verdict)


def render_plan_notes(reporter: Reporter, plan: ScannerPlan) -> None:
    for note in plan.notes:
        reporter.warn(note)
        reporter.github.annotate("warning", note, title="Sonar")


def render_scanner(reporter: Reporter, status: str, plan: ScannerPlan, reason: str = "") -> ScannerResult:
    if status == "DRY-RUN":
        reporter.info("would run: " + " ".join(plan.args))
    elif status == "SKIPPED":
        reporter.info(f"Sonar reported as SKIPPED ({reason})")
        reporter.github.summary(f"### Sonar analysis: SKIPPED\n\n{reason}\n")
    return scanner_result(status, plan, reason)


def render_gate(reporter: Reporter, outcome: SonarOutcome) -> SonarGateResult | SonarSkipped:
    """SKIPPED with its reason, or the verdict."""
    if outcome.verdict is None:
        return render_skipped(reporter, outcome.reason)
    return render_verdict(reporter, outcome.verdict)
