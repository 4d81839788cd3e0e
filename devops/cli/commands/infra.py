"""`devops infra bootstrap|plan|apply|output|destroy|unlock`: run the Terraform of `infra/` safely.

Options here; the workflow in devops/app/infra/, the adapters from devops/wiring/infra.py,
the rendering and `--json` models in devops/report/infra.py.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result

if TYPE_CHECKING:
    from devops.app.infra.ports import InfraPorts

ENV_OPTION = click.option("--env", "environment", required=True, type=params.NAME,
                          help="Environment name from pipelines/devops.yaml.")


def _ports(app: AppContext) -> InfraPorts:
    from devops.wiring.infra import infra_ports

    return infra_ports(app.config.infra, app.settings)


@click.group("infra")
def cli() -> None:
    """Run the Terraform of infra/: the backend comes from pipelines/devops.yaml, plans are saved,
    summarised and priced, and stale or foreign plans are never applied."""


@json_result("devops.report.infra:InfraBootstrapResult")
@cli.command("bootstrap")
@dry_run_option
@json_option
@pass_app
def bootstrap(app: AppContext, dry_run: bool) -> None:
    """Create the state bucket, lock table and KMS key (once per account), then move their own
    state into the bucket."""
    from devops.app import infra as workflow

    result = workflow.bootstrap(app.config, _ports(app), dry_run=dry_run)
    _report().render_bootstrap(app.reporter, result)
    app.reporter.result(_report().bootstrap_result(result))


@json_result("devops.report.infra:InfraPlanResult")
@cli.command("plan")
@ENV_OPTION
@click.option("--destroy", is_flag=True, help="Plan the destruction of every resource (used by `destroy`).")
@json_option
@pass_app
def plan(app: AppContext, environment: str, destroy: bool) -> None:
    """Init with the generated backend, plan, save the plan, summarise it and estimate its cost."""
    from devops.app import infra as workflow

    result = workflow.plan(app.config, environment, _ports(app), destroy=destroy)
    _report().render_plan(app.reporter, result)
    app.reporter.result(_report().plan_result(result))


@json_result("devops.report.infra:InfraApplyResult")
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

    result = workflow.apply(app.config, environment, _ports(app), plan_file=plan_file, dry_run=dry_run)
    _report().render_apply(app.reporter, result)
    app.reporter.result(_report().apply_result(result))


@json_result("devops.report.infra:InfraOutputResult")
@cli.command("output")
@ENV_OPTION
@click.option("--show-sensitive", is_flag=True, help="Print sensitive outputs too (hidden by default).")
@json_option
@pass_app
def output(app: AppContext, environment: str, show_sensitive: bool) -> None:
    """Print the environment's Terraform outputs (sensitive ones hidden)."""
    from devops.app import infra as workflow

    result = workflow.outputs(app.config, environment, _ports(app), show_sensitive=show_sensitive)
    _report().render_outputs(app.reporter, result)
    app.reporter.result(_report().output_result(result))


def _ask_name(environment: str) -> str | None:
    """What the user types to confirm a destroy; None with no terminal and nothing on stdin."""
    try:
        typed: str = click.prompt(f"Type the environment name ({environment}) to destroy it", default="",
                                  show_default=False, err=True)
    except click.exceptions.Abort:
        return None  # CI: there is nobody to ask
    return typed


@json_result("devops.report.infra:InfraDestroyResult")
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

    result = workflow.destroy(app.config, environment, _ports(app), allow_prod=allow_prod, dry_run=dry_run,
                              show=lambda planned: _report().render_plan(app.reporter, planned),
                              ask=None if yes else _ask_name)
    _report().render_destroy(app.reporter, result)
    app.reporter.result(_report().destroy_result(result))


@json_result("devops.report.infra:InfraUnlockResult")
@cli.command("unlock")
@ENV_OPTION
@click.option("--lock-id", required=True, type=params.LOCK_ID, help="The lock ID Terraform or devops printed.")
@dry_run_option
@json_option
@pass_app
def unlock(app: AppContext, environment: str, lock_id: str, dry_run: bool) -> None:
    """Release a state lock left behind by a run that died (terraform force-unlock)."""
    from devops.app import infra as workflow

    result = workflow.unlock(app.config, environment, lock_id, _ports(app), dry_run=dry_run)
    _report().render_unlock(app.reporter, result)
    app.reporter.result(_report().unlock_result(result))


def _report() -> ModuleType:
    """The renderers and --json models, imported when a command runs: `devops --help` stays
    free of pydantic and rich (tests/unit/test_cli.py)."""
    from devops.report import infra

    return infra
