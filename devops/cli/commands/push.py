"""`devops push`: push built images and record their digests."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.images:ImagesCommandResult")
@click.command("push")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG,
              help="Build argument the images were built with (they are part of the identity).")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, services: tuple[str, ...], build_args: tuple[str, ...], dry_run: bool) -> int:
    """Push the images of SERVICES to the registry; the JSON result has each `repo@sha256:...`.

    Logs in with $DOCKERHUB_USERNAME / $DOCKERHUB_TOKEN (through stdin) when they are set.
    Retries 429, 5xx and connection resets with backoff, within a bounded time.
    """
    from devops.app.images_run import ImagesRequest, build_and_push
    from devops.report.images import render_outcome
    from devops.wiring import images as wiring

    request = ImagesRequest(services, wiring.build_args(app, build_args), build=False, push=True, dry_run=dry_run)
    outcome = build_and_push(app.config, request, wiring.images_ports(app))
    render_outcome(app.reporter, outcome.plan, outcome.report, pushed=True)
    return outcome.exit_code
