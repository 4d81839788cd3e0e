"""`devops build`: build the services' images (skipping those whose inputs were built)."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.images:ImagesCommandResult")
@click.command("build")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--push", is_flag=True, help="Push to the registry and record digests; skip images it has.")
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG,
              help="Build argument (repeatable); also read from $DEVOPS_BUILD_ARGS.")
@click.option("--no-cache", is_flag=True, help="Do not reuse Docker's layer cache for the images that are built.")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, services: tuple[str, ...], push: bool, build_args: tuple[str, ...], dry_run: bool,
        no_cache: bool) -> int:
    """Build the images of SERVICES (all when none are named), in parallel.

    Tags: in-<input hash>, sha-<commit>, and X.Y.Z/X.Y/X on a vX.Y.Z tag. An image whose
    input hash exists (locally, or in the registry with --push) is not rebuilt.
    """
    from devops.app.images_run import ImagesRequest, build_and_push
    from devops.report.images import render_outcome
    from devops.wiring import images as wiring

    request = ImagesRequest(services, wiring.build_args(app, build_args), build=True, push=push, dry_run=dry_run)
    outcome = build_and_push(app.config, request, wiring.images_ports(app, no_cache=no_cache))
    render_outcome(app.reporter, outcome.plan, outcome.report, pushed=push)
    return outcome.exit_code
