"""`devops build`: build the services' images (skipping those whose inputs were built)."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app


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
    from devops.app.images_run import build_and_push

    return build_and_push(app, services, build_args, build=True, push=push, dry_run=dry_run, no_cache=no_cache)
