"""`devops gitops`: low-level edits of the GitOps repository (`devops release` uses the same engine)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app

if TYPE_CHECKING:
    from devops.domain.gitops.change import PublishResult


@click.group("gitops")
def cli() -> None:
    """Edit the GitOps repository: image digests of an environment, one commit per change."""


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
    from devops.adapters.gitops_repo import GitOpsRepo
    from devops.domain.gitops.change import ChangeSet, parse_image_spec

    config = app.config
    settings = config.environment(environment)
    updates = tuple(parse_image_spec(spec) for spec in images)
    for update in updates:
        config.service(update.service)
    change = ChangeSet(environment, updates, record=None, source_commit=source_commit, action="set-image")
    token_env = settings.gitops.pull_request.token_env
    app.reporter.github.mask(_env(token_env))
    with GitOpsRepo.open(config, environment) as repo:
        result = repo.publish(change, dry_run=dry_run, mode=mode)
    _render(app, result)
    return 0


def _env(name: str) -> str | None:
    import os

    return os.environ.get(name) or None


def _render(app: AppContext, result: PublishResult) -> None:
    reporter = app.reporter
    rows = [(c.service, c.old or "(none)", c.new) for c in result.changes]
    if rows:
        reporter.table(f"{result.outcome}: {result.remote} ({result.branch})", ["service", "old", "new"], rows)
    if result.outcome == "noop":
        reporter.info("nothing to change: the GitOps repository already has these images (no commit)")
    elif result.outcome == "dry-run":
        reporter.info("dry run: nothing committed or pushed; the change would be:")
        reporter.info(result.diff.rstrip("\n"))
    elif result.outcome == "committed":
        reporter.info(f"committed {result.commit} to {result.branch} after {result.attempts} push attempt(s)")
    else:
        reporter.info(f"branch {result.branch} at {result.commit}; pull request: "
                      f"{result.pull_request_url or ''} {result.pull_request_state or ''}".rstrip())
    if result.commit:
        reporter.github.output("gitops-commit", result.commit)
    if result.pull_request_url:
        reporter.github.output("pull-request-url", result.pull_request_url)
    reporter.result(result.to_dict())
