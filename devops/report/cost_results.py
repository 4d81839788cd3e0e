"""The `--json` results of `devops cost schedule|down|up|report` as pydantic models
(docs/schemas/cost-*.json). Their field names are a stable interface (docs/cost.md,
"Machine output"); `run_result` and `report_result` build them from the domain's results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.cost.cluster_state import ClusterAction, ClusterOutcome
from devops.domain.cost.estimate import CostReport
from devops.domain.cost.nodegroups import Size
from devops.domain.cost.outcome import Action, CostRun, Outcome


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class NodegroupSize(_Result):
    """A scaling config."""

    min: int
    max: int
    desired: int


class NodegroupOutcome(_Result):
    """One node group (`nodegroup` "*": the whole target)."""

    target: str
    cluster: str
    region: str
    nodegroup: str
    want: Literal["up", "down"] | None = Field(description="what the schedule, a hold or the request wants")
    reason: str
    action: Action
    before: NodegroupSize | None
    after: NodegroupSize | None
    saved: NodegroupSize | None
    message: str


class ScheduleNow(_Result):
    """What a target's schedule says at the run's instant."""

    target: str
    schedule: str
    state: Literal["up", "down"]
    reason: str
    next_change: str | None = Field(description="UTC instant of the next change within 15 days, or null")


class ClusterOutcomeModel(_Result):
    """One object of the cluster side (docs/cost.md, "Autoscalers and Argo CD")."""

    target: str
    cluster: str
    kind: str = Field(description="SyncWindow, AutoScalingGroup, Deployment, StatefulSet, NodePool or NodeClaim")
    name: str = Field(description="namespace/name, the AppProject of a window, or the group's name")
    want: str
    action: ClusterAction
    before: str
    after: str
    message: str


class CostRunResult(_Result):
    """`devops cost down|up --json`."""

    at: str = Field(description="the run's instant, UTC (ISO 8601, Z)")
    dry_run: bool
    nodegroups: list[NodegroupOutcome]
    changed: int
    failed: int
    refused: int
    api_calls: dict[str, int] = Field(description="AWS API calls by operation")
    http_attempts: dict[str, int] = Field(description="HTTP attempts by operation, retries included")
    cluster: list[ClusterOutcomeModel] = Field(
        default_factory=list, description="the cluster side: sync windows, autoscaler tags, workloads, NodePools")
    cluster_changed: int = Field(0, description="cluster-side objects changed (or that would be, on a dry run)")


class CostScheduleResult(CostRunResult):
    """`devops cost schedule --json`."""

    schedules: list[ScheduleNow]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _size(size: Size | None) -> NodegroupSize | None:
    return None if size is None else NodegroupSize(min=size.min, max=size.max, desired=size.desired)


def _outcome(o: Outcome) -> NodegroupOutcome:
    return NodegroupOutcome(target=o.target, cluster=o.cluster, region=o.region, nodegroup=o.nodegroup, want=o.want,
                            reason=o.reason, action=o.action, before=_size(o.before), after=_size(o.after),
                            saved=_size(o.saved), message=o.message)


def _cluster(o: ClusterOutcome) -> ClusterOutcomeModel:
    return ClusterOutcomeModel(target=o.target, cluster=o.cluster, kind=o.kind, name=o.name, want=o.want,
                               action=o.action, before=o.before, after=o.after, message=o.message)


def run_result(run: CostRun) -> CostRunResult:
    """The model of a run: `CostScheduleResult` when it carries what the schedules say."""
    result = run.result
    fields = {
        "at": _utc(result.at),
        "dry_run": result.dry_run,
        "nodegroups": [_outcome(o) for o in result.outcomes],
        "changed": len(result.changed),
        "failed": len(result.having("failed", "mismatch")),
        "refused": len(result.having("refused")),
        "api_calls": dict(sorted(result.calls.items())),
        "http_attempts": dict(sorted(result.attempts.items())),
        "cluster": [_cluster(o) for o in result.cluster],
        "cluster_changed": len(result.cluster_changed),
    }
    if run.schedules is None:
        return CostRunResult(**fields)
    schedules = [
        ScheduleNow(target=line.target, schedule=line.schedule, state=line.state, reason=line.reason,
                    next_change=_utc(line.next_change) if line.next_change else None)
        for line in run.schedules
    ]
    return CostScheduleResult(**fields, schedules=schedules)


class TargetMonth(_Result):
    schedule: str
    timezone: str
    month_hours: float = Field(description="real hours of the calendar month in the schedule's zone")
    up_hours: float
    note: str
    up_fraction: float


class NodegroupCostModel(_Result):
    target: str
    cluster: str
    nodegroup: str
    instance_type: str
    count: int
    hourly: float = Field(description="USD per hour for all its instances")
    node_hours_always: float
    node_hours_scheduled: float
    monthly_always: float = Field(description="USD per 730-hour month, always on")
    monthly_scheduled: float = Field(description="USD per 730-hour month, with the schedule")
    source: Literal["config", "aws"]
    saving: float


class FixedCostModel(_Result):
    target: str
    item: str
    count: int
    hourly: float
    monthly: float


class Totals(_Result):
    compute_always_on: float
    compute_scheduled: float
    fixed: float
    always_on: float
    scheduled: float
    saving: float
    saving_percent: float
    compute_saving_percent: float


class WeekDayModel(_Result):
    day: str
    up_hours: float
    runs: list[tuple[Literal["up", "down"], str, str]] = Field(description="[state, from HH:MM, to HH:MM] local")


class WeekModel(_Result):
    schedule: str
    timezone: str
    start: str
    up_hours: float
    days: list[WeekDayModel]


class CostReportResult(_Result):
    """`devops cost report --json`: USD per 730-hour month."""

    month: str
    hours_per_month: int
    warnings: list[str] = Field(description="regions priced (in part) at ap-south-1's rates")
    targets: dict[str, TargetMonth]
    nodegroups: list[NodegroupCostModel]
    fixed: list[FixedCostModel]
    totals: Totals
    weeks: list[WeekModel]


def report_result(report: CostReport) -> CostReportResult:
    return CostReportResult(
        month=report.month,
        hours_per_month=730,
        warnings=list(report.warnings),
        targets={
            name: TargetMonth(schedule=m.schedule, timezone=m.timezone, month_hours=m.month_hours, up_hours=m.up_hours,
                              note=m.note, up_fraction=round(m.fraction, 4))
            for name, m in report.targets.items()
        },
        nodegroups=[
            NodegroupCostModel(target=n.target, cluster=n.cluster, nodegroup=n.nodegroup, instance_type=n.instance_type,
                               count=n.count, hourly=n.hourly, node_hours_always=n.node_hours_always,
                               node_hours_scheduled=n.node_hours_scheduled, monthly_always=n.monthly_always,
                               monthly_scheduled=n.monthly_scheduled, source=n.source,
                               saving=n.saving)
            for n in report.nodegroups
        ],
        fixed=[FixedCostModel(target=f.target, item=f.item, count=f.count, hourly=f.hourly, monthly=f.monthly)
               for f in report.fixed],
        totals=Totals(
            compute_always_on=report.compute_always,
            compute_scheduled=report.compute_scheduled,
            fixed=report.fixed_monthly,
            always_on=report.total_always,
            scheduled=report.total_scheduled,
            saving=report.saving,
            saving_percent=report.saving_percent,
            compute_saving_percent=report.compute_saving_percent,
        ),
        weeks=[
            WeekModel(schedule=w.schedule, timezone=w.timezone, start=w.start.isoformat(),
                      up_hours=round(w.up_hours, 2),
                      days=[WeekDayModel(day=d.label, up_hours=round(d.up_hours, 2), runs=list(d.runs))
                            for d in w.days])
            for w in report.weeks
        ],
    )
