"""`devops config validate|show`: check and display `pipelines/devops.yaml`."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@click.group("config")
def cli() -> None:
    """Validate or show the configuration (pipelines/devops.yaml)."""


@json_result("devops.app.config_check:ConfigSummary")
@cli.command("validate")
@json_option
@pass_app
def validate(app: AppContext) -> None:
    """Load and validate the configuration; exit 2 naming the file, line and key on an error."""
    from devops.app.config_check import summarize

    summary = summarize(app.config)
    app.reporter.info(summary.line())
    app.reporter.result(summary)


@json_result("devops.app.config_check:ShownConfig")
@cli.command("show")
@click.option("--env", "environment", type=params.NAME, help="Show only this environment.")
@json_option
@pass_app
def show(app: AppContext, environment: str | None) -> None:
    """Print the resolved configuration (defaults filled in, secrets redacted)."""
    from devops.app.config_check import show as resolved

    shown = resolved(app.config, environment, app.settings)
    if app.json_mode:
        app.reporter.result(shown)
        return
    import sys

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(shown.model_dump(mode="json", by_alias=True), sys.stdout)
