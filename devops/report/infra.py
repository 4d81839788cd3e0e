"""What `devops infra` shows: the plan (changes, outputs, cost), what was applied, the
bootstrap steps, outputs and lock releases; in GitHub Actions also the job summary and step
outputs. And the `--json` results as pydantic models (docs/schemas/infra-*.json): their field
names are a stable interface (docs/infra.md, "Machine output")."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, RootModel

from devops.domain.infra.results import (
    ApplyReport,
    BootstrapReport,
    DestroyReport,
    OutputsReport,
    PlanReport,
    UnlockReport,
)
from devops.report.console import Reporter
from devops.report.github import markdown_table


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# -- --json models --------------------------------------------------------------------------
class AttributeChange(_Result):
    name: str
    before: Any
    after: Any


class ResourceChange(_Result):
    address: str
    type: str
    action: str
    reason: str | None
    attributes: list[AttributeChange]


class OutputChange(_Result):
    name: str
    action: str
    value: Any


class PlanSummary(_Result):
    terraform_version: str
    counts: dict[str, int]
    headline: str
    changes: list[ResourceChange]
    outputs: list[OutputChange]


class CostLine(_Result):
    address: str
    type: str
    action: str
    what: str
    monthly_usd: float | None


class Cost(_Result):
    monthly_delta_usd: float
    region: str
    hours_per_month: float
    lines: list[CostLine]
    unpriced: list[str]
    warnings: list[str]


class Backend(_Result):
    bucket: str
    key: str


class InfraPlanResult(_Result):
    """`devops infra plan --json`."""

    environment: str
    plan: str
    destroy: bool
    has_changes: bool
    summary: PlanSummary
    cost: Cost
    backend: Backend


class InfraDestroyPlanned(InfraPlanResult):
    """`devops infra destroy --dry-run --json`: the destroy plan, nothing applied."""

    dry_run: bool


class InfraApplyResult(_Result):
    """`devops infra apply --json` (and `destroy` once applied)."""

    environment: str
    dry_run: bool
    applied: list[str]
    counts: dict[str, int]
    outputs: dict[str, Any]


class InfraDestroyResult(RootModel[InfraDestroyPlanned | InfraApplyResult]):
    """`devops infra destroy --json`: the destroy plan on a dry run, else what was applied."""

    model_config = ConfigDict(frozen=True)


class InfraBootstrapResult(_Result):
    """`devops infra bootstrap --json`."""

    bucket: str
    lock_table: str
    kms_alias: str
    state_key: str
    needed: bool
    created: bool
    dry_run: bool
    steps: list[str]


class InfraOutputResult(_Result):
    """`devops infra output --json`: sensitive values are "(sensitive)" unless --show-sensitive."""

    environment: str
    outputs: dict[str, Any]


class InfraUnlockResult(_Result):
    """`devops infra unlock --json`: `released` is the lock ID, null when nothing was released."""

    environment: str
    released: str | None
    dry_run: bool


def plan_result(report: PlanReport) -> InfraPlanResult:
    summary, cost = report.summary, report.cost
    return InfraPlanResult(
        environment=report.environment,
        plan=str(report.plan),
        destroy=report.destroy,
        has_changes=report.has_changes,
        summary=PlanSummary(
            terraform_version=summary.terraform_version,
            counts=summary.counts,
            headline=summary.headline(),
            changes=[ResourceChange(address=c.address, type=c.type, action=c.action, reason=c.reason,
                                    attributes=[AttributeChange(name=a.name, before=a.before, after=a.after)
                                                for a in c.attributes])
                     for c in summary.changes],
            outputs=[OutputChange(name=o.name, action=o.action, value=o.value) for o in summary.outputs],
        ),
        cost=Cost(
            monthly_delta_usd=cost.monthly_delta,
            region=cost.region,
            hours_per_month=cost.hours_per_month,
            lines=[CostLine(address=line.address, type=line.type, action=line.action, what=line.what,
                            monthly_usd=line.monthly) for line in cost.lines],
            unpriced=[line.address for line in cost.unpriced],
            warnings=list(cost.warnings),
        ),
        backend=Backend(bucket=report.backend.bucket, key=report.backend.key),
    )


def apply_result(report: ApplyReport) -> InfraApplyResult:
    return InfraApplyResult(environment=report.environment, dry_run=report.dry_run, applied=list(report.applied),
                            counts=dict(report.counts), outputs=dict(report.outputs))


def destroy_result(report: DestroyReport) -> InfraDestroyResult:
    if report.applied is not None:
        return InfraDestroyResult(apply_result(report.applied))
    planned = plan_result(report.plan)
    return InfraDestroyResult(InfraDestroyPlanned(**dict(planned), dry_run=True))


def bootstrap_result(report: BootstrapReport) -> InfraBootstrapResult:
    return InfraBootstrapResult(bucket=report.bucket, lock_table=report.lock_table, kms_alias=report.kms_alias,
                                state_key=report.state_key, needed=report.needed, created=report.created,
                                dry_run=report.dry_run, steps=list(report.steps))


def output_result(report: OutputsReport) -> InfraOutputResult:
    return InfraOutputResult(environment=report.environment, outputs=dict(report.values))


def unlock_result(report: UnlockReport) -> InfraUnlockResult:
    return InfraUnlockResult(environment=report.environment, released=report.lock_id if report.released else None,
                             dry_run=report.dry_run)


# -- console and GitHub Actions -------------------------------------------------------------
def render_plan(rep: Reporter, report: PlanReport) -> None:
    summary, cost, env = report.summary, report.cost, report.environment
    title = "destroy plan" if report.destroy else "plan"
    rep.info(f"{env}: {title}: {summary.headline()}")
    rows = []
    for change in summary.changes:
        detail = ", ".join(f"{a.name}: {json.dumps(a.before)} -> {json.dumps(a.after)}" for a in change.attributes[:4])
        if len(change.attributes) > 4:
            detail += f", +{len(change.attributes) - 4} more"
        action = change.action.upper() if change.action in ("replace", "delete") else change.action
        rows.append((action, change.address, detail))
    if rows:
        rep.table(f"Changes ({env})", ("action", "resource", "changed attributes"), rows)
    for output in summary.outputs:
        rep.info(f"output {output.name}: {output.action} -> {json.dumps(output.value)}")
    cost_rows = [
        (line.action, line.address, line.what, "unpriced" if line.monthly is None else f"{line.monthly:+.2f}")
        for line in cost.lines
    ]
    if cost_rows:
        rep.table("Monthly cost change (USD, 730 h)", ("action", "resource", "what", "USD/month"), cost_rows)
    rep.info(
        f"estimated monthly cost change: {cost.monthly_delta:+.2f} USD"
        + (f" ({len(cost.unpriced)} resource(s) unpriced)" if cost.unpriced else "")
    )
    for warning in report.warnings:
        rep.warn(warning)
    rep.info(f"saved plan: {report.plan}")
    gh = rep.github
    gh.summary(
        f"### Terraform {title}: {env}\n\n{summary.headline()}\n\n"
        + (markdown_table(("action", "resource", "changed attributes"), rows) if rows else "")
        + "\n"
        + (markdown_table(("action", "resource", "what", "USD/month"), cost_rows) if cost_rows else "")
        + f"\nEstimated monthly cost change: **{cost.monthly_delta:+.2f} USD**\n"
    )
    gh.output("has_changes", "true" if report.has_changes else "false")
    gh.output("monthly_delta_usd", f"{cost.monthly_delta:.2f}")


def render_apply(rep: Reporter, report: ApplyReport) -> None:
    env = report.environment
    if report.dry_run:
        counts = ", ".join(f"{v} to {k}" for k, v in report.counts.items() if v) or "no changes"
        rep.info(f"dry run: the saved plan for {env} is current and would apply: {counts}")
        return
    rep.info(f"{env}: applied {len(report.applied)} change(s)")
    for line in report.applied:
        rep.info(f"  {line}")
    for name, value in report.outputs.items():
        rep.info(f"output {name} = {json.dumps(value)}")
    applied = "\n".join(f"- `{line}`" for line in report.applied) or "- nothing"
    rep.github.summary(f"### Terraform apply: {env}\n\n{applied}\n")


def render_destroy(rep: Reporter, report: DestroyReport) -> None:
    """What follows the destroy plan (shown by `render_plan` before the confirmation)."""
    if report.applied is None:
        rep.info(f"dry run: nothing destroyed; {report.plan.summary.count('delete')} resource(s) would be")
    else:
        render_apply(rep, report.applied)


def render_bootstrap(rep: Reporter, report: BootstrapReport) -> None:
    prefix = "dry run: would " if report.dry_run and report.needed else ""
    for step in report.steps:
        rep.info(f"{prefix}{step}")
    if report.created:
        rep.info(f"bootstrapped: s3://{report.bucket} (lock table {report.lock_table})")


def render_outputs(rep: Reporter, report: OutputsReport) -> None:
    for name, value in sorted(report.values.items()):
        rep.info(f"{name} = {json.dumps(value)}")
        if report.show_sensitive:
            rep.github.mask(value if isinstance(value, str) else None)
    if not report.values:
        rep.info(f"{report.environment}: no outputs")


def render_unlock(rep: Reporter, report: UnlockReport) -> None:
    env, lock_id = report.environment, report.lock_id
    if report.held and report.dry_run:
        rep.info(f"dry run: would release state lock {lock_id} of {env}")
    elif report.held:
        rep.info(f"{env}: released state lock {lock_id}")
    else:
        rep.info(f"{env}: no state lock is held; nothing to release")
