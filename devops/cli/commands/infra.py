"""`devops infra bootstrap|plan|apply|output|destroy|unlock`: run the Terraform of `infra/` safely."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.errors import BadInput, GateFailed

if TYPE_CHECKING:
    from devops.app.infra import PlanReport

ENV_OPTION = click.option("--env", "environment", required=True, type=params.NAME,
                          help="Environment name from pipelines/devops.yaml.")


def _deps(app: AppContext) -> dict[str, Any]:
    """The Terraform factory and AWS probe every workflow function takes."""
    from devops.adapters.aws.account import BackendProbe
    from devops.adapters.terraform import Terraform

    infra = app.config.infra

    def factory(root: Path) -> Terraform:
        return Terraform(root, binary=infra.terraform, timeout=infra.timeout_seconds)

    return {"factory": factory, "probe": BackendProbe(infra.state.region)}


@click.group("infra")
def cli() -> None:
    """Run the Terraform of infra/: the backend comes from pipelines/devops.yaml, plans are saved,
    summarised and priced, and stale or foreign plans are never applied."""


def _render_plan(app: AppContext, report: PlanReport) -> None:
    from devops.report.github import markdown_table

    rep = app.reporter
    summary, cost = report.summary, report.cost
    title = "destroy plan" if report.destroy else "plan"
    rep.info(f"{report.target.environment}: {title}: {summary.headline()}")
    rows = []
    for change in summary.changes:
        detail = ", ".join(f"{a.name}: {json.dumps(a.before)} -> {json.dumps(a.after)}" for a in change.attributes[:4])
        if len(change.attributes) > 4:
            detail += f", +{len(change.attributes) - 4} more"
        rows.append(
            (
                change.action.upper() if change.action in ("replace", "delete") else change.action,
                change.address,
                detail,
            )
        )
    if rows:
        rep.table(f"Changes ({report.target.environment})", ("action", "resource", "changed attributes"), rows)
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
        f"### Terraform {title}: {report.target.environment}\n\n{summary.headline()}\n\n"
        + (markdown_table(("action", "resource", "changed attributes"), rows) if rows else "")
        + "\n"
        + (markdown_table(("action", "resource", "what", "USD/month"), cost_rows) if cost_rows else "")
        + f"\nEstimated monthly cost change: **{cost.monthly_delta:+.2f} USD**\n"
    )
    gh.output("has_changes", "true" if report.has_changes else "false")
    gh.output("monthly_delta_usd", f"{cost.monthly_delta:.2f}")


@cli.command("bootstrap")
@dry_run_option
@json_option
@pass_app
def bootstrap(app: AppContext, dry_run: bool) -> None:
    """Create the state bucket, lock table and KMS key (once per account), then move their own
    state into the bucket."""
    from devops.app import infra as workflow

    report = workflow.bootstrap(app.config, dry_run=dry_run, **_deps(app))
    prefix = "dry run: would " if dry_run and report.needed else ""
    for step in report.steps:
        app.reporter.info(f"{prefix}{step}")
    if report.created:
        app.reporter.info(f"bootstrapped: s3://{report.bucket} (lock table {report.lock_table})")
    app.reporter.result(report.to_dict())


@cli.command("plan")
@ENV_OPTION
@click.option("--destroy", is_flag=True, help="Plan the destruction of every resource (used by `destroy`).")
@json_option
@pass_app
def plan(app: AppContext, environment: str, destroy: bool) -> None:
    """Init with the generated backend, plan, save the plan, summarise it and estimate its cost."""
    from devops.app import infra as workflow

    report = workflow.plan(app.config, environment, destroy=destroy, **_deps(app))
    _render_plan(app, report)
    app.reporter.result(report.to_dict())


@cli.command("apply")
@ENV_OPTION
@click.option(
    "--plan",
    "plan_file",
    type=params.file_path(path_type=Path),
    help="Saved plan to apply [default: the one `devops infra plan` saved for --env].",
)
@dry_run_option
@json_option
@pass_app
def apply(app: AppContext, environment: str, plan_file: Path | None, dry_run: bool) -> None:
    """Apply the saved plan; refuse one made for another environment or against an older state."""
    from devops.app import infra as workflow

    report = workflow.apply(app.config, environment, plan_file=plan_file, dry_run=dry_run, **_deps(app))
    _render_apply(app, report)


def _render_apply(app: AppContext, report: Any) -> None:
    rep = app.reporter
    env = report.target.environment
    if report.dry_run:
        counts = ", ".join(f"{v} to {k}" for k, v in report.counts.items() if v) or "no changes"
        rep.info(f"dry run: the saved plan for {env} is current and would apply: {counts}")
    else:
        rep.info(f"{env}: applied {len(report.applied)} change(s)")
        for line in report.applied:
            rep.info(f"  {line}")
        for name, value in report.outputs.items():
            rep.info(f"output {name} = {json.dumps(value)}")
        applied = "\n".join(f"- `{line}`" for line in report.applied) or "- nothing"
        rep.github.summary(f"### Terraform apply: {env}\n\n{applied}\n")
    rep.result(report.to_dict())


@cli.command("output")
@ENV_OPTION
@click.option("--show-sensitive", is_flag=True, help="Print sensitive outputs too (hidden by default).")
@json_option
@pass_app
def output(app: AppContext, environment: str, show_sensitive: bool) -> None:
    """Print the environment's Terraform outputs (sensitive ones hidden)."""
    from devops.app import infra as workflow

    values = workflow.outputs(app.config, environment, show_sensitive=show_sensitive, **_deps(app))
    for name, value in sorted(values.items()):
        app.reporter.info(f"{name} = {json.dumps(value)}")
        if show_sensitive:
            app.reporter.github.mask(value if isinstance(value, str) else None)
    if not values:
        app.reporter.info(f"{environment}: no outputs")
    app.reporter.result({"environment": environment, "outputs": values})


@cli.command("destroy")
@ENV_OPTION
@click.option("--yes", is_flag=True, help="Do not ask to type the environment name.")
@click.option("--allow-prod", is_flag=True, help="Required to destroy an environment marked protected (prod).")
@dry_run_option
@json_option
@pass_app
def destroy(app: AppContext, environment: str, yes: bool, allow_prod: bool, dry_run: bool) -> None:
    """Plan the destruction of the environment, show it, ask to type its name, then apply it."""
    from devops.app import infra as workflow

    deps = _deps(app)
    tgt = workflow.target(app.config, environment, deps["probe"])
    if tgt.protected and not allow_prod:
        raise GateFailed(
            f"refusing to destroy {environment}: it is protected (infra.environments."
            f"{environment}.protected); add --allow-prod if you really mean it"
        )
    report = workflow.plan(app.config, environment, destroy=True, **deps)
    _render_plan(app, report)
    if dry_run:
        app.reporter.info(f"dry run: nothing destroyed; {report.summary.count('delete')} resource(s) would be")
        app.reporter.result({**report.to_dict(), "dry_run": True})
        return
    if not yes:
        try:
            typed = click.prompt(
                f"Type the environment name ({environment}) to destroy it",
                default="",
                show_default=False,
                err=True,
            )
        except click.exceptions.Abort:
            # No terminal and nothing on stdin (CI): there is nobody to ask.
            raise BadInput(
                f"destroy {environment}: confirmation needed but nothing could be read "
                "from stdin; type the name on a terminal or pass --yes"
            ) from None
        if typed.strip() != environment:
            raise GateFailed(f"destroy {environment}: confirmation did not match; nothing destroyed")
    applied = workflow.apply(app.config, environment, destroy=True, **deps)
    _render_apply(app, applied)


@cli.command("unlock")
@ENV_OPTION
@click.option("--lock-id", required=True, type=params.LOCK_ID, help="The lock ID Terraform or devops printed.")
@dry_run_option
@json_option
@pass_app
def unlock(app: AppContext, environment: str, lock_id: str, dry_run: bool) -> None:
    """Release a state lock left behind by a run that died (terraform force-unlock)."""
    from devops.app import infra as workflow

    released = workflow.unlock(app.config, environment, lock_id, dry_run=dry_run, **_deps(app))
    if released and dry_run:
        app.reporter.info(f"dry run: would release state lock {lock_id} of {environment}")
    elif released:
        app.reporter.info(f"{environment}: released state lock {lock_id}")
    else:
        app.reporter.info(f"{environment}: no state lock is held; nothing to release")
    app.reporter.result(
        {"environment": environment, "released": lock_id if released and not dry_run else None, "dry_run": dry_run}
    )
