"""`devops gitops`: low-level edits of the GitOps repository (`devops release` uses the same engine)."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@click.group("gitops")
def cli() -> None:
    """Edit the GitOps repository: image digests of an environment, one commit per change."""


@json_result("devops.report.release_models:PublishModel")
@cli.command("set-image")
@click.option("--env", "environment", required=True, type=params.NAME, metavar="ENV",
              help="Environment (pipelines/devops.yaml).")
@click.argument("images", nargs=-1, required=True, metavar="SERVICE=REPOSITORY:TAG@sha256:DIGEST...")
@click.option("--mode", type=click.Choice(["commit", "pull-request"]), default=None,
              help="Commit to the branch or open a pull request [default: the environment's gitops.mode].")
@click.option("--source-commit", default=None, type=params.COMMIT, help="Application commit, for the trailers.")
@dry_run_option
@json_option
@pass_app
def set_image(app: AppContext, environment: str, images: tuple[str, ...], mode: str | None,
              source_commit: str | None, dry_run: bool) -> int:
    """Set the image of each SERVICE in ENV's values files, in one commit.

    Only image.repository, image.tag and image.digest change; every other byte of the files is
    kept. No change is no commit (exit 0). The push is compare-and-swap: never forced, re-applied
    on the new tip when someone else pushed first. The release record is not touched (`devops
    release` writes it, with the gate evidence).
    """
    from devops.domain.gitops.change import ChangeSet, parse_image_spec
    from devops.report.gitops import render_publish
    from devops.wiring.gitops import open_gitops

    config = app.config
    settings = config.environment(environment)
    updates = tuple(parse_image_spec(spec) for spec in images)
    for update in updates:
        config.service(update.service)
    change = ChangeSet(environment, updates, record=None, source_commit=source_commit, action="set-image")
    app.reporter.github.mask(app.settings.get(settings.gitops.pull_request.token_env))
    with open_gitops(config, environment, app.settings) as repo:
        result = repo.publish(change, dry_run=dry_run, mode=mode)
    render_publish(app.reporter, result)
    return 0
