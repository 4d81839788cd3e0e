"""`devops plan`: which services changed and must be rebuilt."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.images:PlanResult")
@click.command("plan")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--base", type=params.GIT_REF, help="Compare build inputs with this git ref (e.g. origin/main).")
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG, help="Extra build argument.")
@json_option
@pass_app
def cli(app: AppContext, services: tuple[str, ...], base: str | None, build_args: tuple[str, ...]) -> None:
    """Show which services must be rebuilt, by the content hash of their build inputs.

    --json prints a GitHub Actions matrix: {"include": [{"service": ..., "path": ...}]}.
    """
    from devops.report.images import render_plan
    from devops.wiring import images as wiring

    overrides = wiring.build_args(app, build_args)
    lookup = None if base is not None else wiring.local_image_lookup(app)
    render_plan(app.reporter, wiring.plan(app, services, overrides, base=base, images=lookup))
