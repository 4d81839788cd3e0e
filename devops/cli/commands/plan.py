"""`devops plan`: which services changed and must be rebuilt."""

from __future__ import annotations

import json

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app


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
    from devops.app.plan import make_plan, parse_build_args

    config = app.config
    overrides = parse_build_args(build_args)
    if base is not None:
        from devops.adapters.git import export_tree

        plan = make_plan(config, services, base=base, overrides=overrides,
                         export_tree=lambda ref, sub, dest: export_tree(config.root, ref, sub, dest))
    else:
        from devops.adapters.docker import DockerEngine
        from devops.errors import DevopsError

        engine = DockerEngine()
        try:
            engine.check()
            exists = engine.image_exists
        except DevopsError:
            app.reporter.warn("no Docker engine to look up built images: every service counts as changed")
            exists = None
        plan = make_plan(config, services, overrides=overrides, image_exists=exists)
    matrix = plan.matrix()
    app.reporter.github.output("matrix", json.dumps(matrix, separators=(",", ":")))
    app.reporter.github.output("changed", " ".join(s.service for s in plan.changed))
    if app.json_mode:
        app.reporter.result(matrix)
        return
    app.reporter.table(
        f"Plan ({len(plan.changed)} of {len(plan.services)} to build)",
        ["service", "build", "tag", "reason"],
        [(s.service, "yes" if s.changed else "no", s.inputs.tag, s.reason) for s in plan.services],
    )
