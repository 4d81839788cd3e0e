"""`devops observability rules`: generate the SLO alert rules from pipelines/devops.yaml."""

from __future__ import annotations

from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result
from devops.errors import GateFailed


@click.group("observability")
def cli() -> None:
    """Observability as code: rule files generated from `observability` in pipelines/devops.yaml."""


@json_result("devops.app.observability_rules:RulesResult")
@cli.command("rules")
@click.option("--output", "output", type=params.file_path(path_type=Path), default=None,
              help="Rule file to write or check (default: gitops/platform/observability/rules/slo.yaml).")
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 when the file differs from what the configuration generates (CI).")
@json_option
@pass_app
def rules(app: AppContext, output: Path | None, check: bool) -> None:
    """Write the SLO recording rules and burn-rate alerts (docs/observability.md)."""
    from devops.app.observability_rules import check_rules, write_rules
    from devops.domain.observability.rules import DEFAULT_PATH

    config = app.config
    path = output if output is not None else config.root / DEFAULT_PATH
    shown = _shown(path, config.root)
    definitions = config.slo_definitions()
    if check:
        checked = check_rules(definitions, path, shown)
        app.reporter.result(checked)
        if not checked.exists:
            raise GateFailed(f"{shown}: missing; run `devops observability rules` and commit it")
        if not checked.up_to_date:
            raise GateFailed(
                f"{shown}: differs from what {_shown(config.source, config.root)} (observability.slos) generates; "
                "run `devops observability rules` and commit it"
            )
        app.reporter.info(f"{shown}: up to date")
        return
    written = write_rules(definitions, path, shown)
    state = "wrote" if written.changed else "unchanged"
    app.reporter.info(f"{state} {shown} ({written.objectives} objectives, {len(definitions.services)} services)")
    app.reporter.result(written)


def _shown(path: Path, root: Path) -> str:
    """The path as a reviewer reads it: relative to the project root when inside it."""
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
