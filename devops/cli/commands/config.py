"""`devops config validate|show`: check and display `pipelines/devops.yaml`."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app


@click.group("config")
def cli() -> None:
    """Validate or show the configuration (pipelines/devops.yaml)."""


@cli.command("validate")
@json_option
@pass_app
def validate(app: AppContext) -> None:
    """Load and validate the configuration; exit 2 naming the file, line and key on an error."""
    config = app.config
    app.reporter.info(
        f"{config.source}: valid ({len(config.services)} services, "
        f"{len(config.environments)} environments)"
    )
    app.reporter.result({"valid": True, "source": str(config.source), "services": sorted(config.services),
                         "environments": sorted(config.environments)})


@cli.command("show")
@click.option("--env", "environment", type=params.NAME, help="Show only this environment.")
@json_option
@pass_app
def show(app: AppContext, environment: str | None) -> None:
    """Print the resolved configuration (defaults filled in, secrets redacted)."""
    from devops.config.render import resolved

    data = resolved(app.config, environment)
    if app.json_mode:
        app.reporter.result(data)
        return
    import sys

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(data, sys.stdout)
