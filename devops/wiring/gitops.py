"""The GitOps repository of an environment, wired from the configuration and the environment:
where it is, how git authenticates to it, where its pull requests go (docs/gitops-engine.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from devops.app.gitops_publish import GitOpsSession, PublishSettings
from devops.app.gitops_pull_request import PullRequestProvider, PullRequestSettings, PullRequestsUnavailable
from devops.config import Config
from devops.domain.gitops.repository import GitOpsLayout
from devops.domain.retry import RetryPolicy
from devops.wiring.settings import RuntimeSettings

if TYPE_CHECKING:
    from devops.adapters.git.clone import CloneSettings, GitClone


def publish_settings(config: Config, environment: str) -> PublishSettings:
    """`environments.<environment>.gitops` as the publish use case takes it."""
    target = config.environment(environment).gitops
    push, pr = target.push, target.pull_request
    return PublishSettings(
        environment=environment,
        branch=target.branch,
        layout=GitOpsLayout(target.path, target.values_file, target.record_file, target.freeze_file),
        mode=target.mode,
        push=RetryPolicy(attempts=push.attempts, base_seconds=push.backoff_seconds,
                         max_seconds=push.max_backoff_seconds),
        pull_request=PullRequestSettings(pr.base, pr.branch_prefix, tuple(pr.labels), pr.draft),
        check_service=config.service,
        attempts_key=f"environments.{environment}.gitops.push.attempts",
    )


class GitOpsClones:
    """The clones of one run, one per repository, branch and credentials: every environment that
    lives there reads (and writes) the same clone, so `devops status` over 20 environments, or a
    promotion reading dev and writing prod, clones once. A clone that a publish wrote to is not
    handed out again (`GitClone.reusable`). `close()` removes them (each session keeps its clone
    alive while it is open)."""

    def __init__(self) -> None:
        self._clones: dict[tuple[object, ...], GitClone] = {}
        self.made = 0  # clones made (tests count them)

    def get(self, key: tuple[object, ...], settings: CloneSettings, make: Callable[[], GitClone]) -> GitClone:
        found = self._clones.get(key)
        if found is not None and found.reusable:
            return found.share(settings)
        if found is not None:
            found.close()  # its views keep the folder while they are open
        clone = make()
        self.made += 1
        self._clones[key] = clone
        return clone.share(settings)

    def close(self) -> None:
        for clone in self._clones.values():
            clone.close()
        self._clones.clear()


def open_gitops(config: Config, environment: str, settings: RuntimeSettings, *, depth: int | None = None,
                sleep: Callable[[float], None] = time.sleep, clones: GitOpsClones | None = None,
                checkout: bool = True) -> GitOpsSession:
    """Clone the environment's GitOps branch (shallow: `depth` commits, by default the adapter's
    CLONE_DEPTH) into a temporary folder, or share the run's clone of it (`clones`); use in a `with`.
    `checkout=False` for a run that only reads (`devops status`): no work tree, the files are read
    from git's objects (checked out after all if something is written).

    ExternalError (exit 3) when the repository cannot be reached; BadInput (exit 2) when the
    environment is unknown, `.` has no origin, the branch does not exist, or $GITHUB_API_URL
    is not a URL the token may go to.
    """
    from devops.adapters.git.clone import CloneSettings, GitClone
    from devops.adapters.git.credentials import auth_env, resolve_remote
    from devops.adapters.github import api_url
    from devops.report.gitops import evidence_body

    target = config.environment(environment).gitops
    key = f"environments.{environment}.gitops"
    remote = resolve_remote(target.repo, root=config.root, setting=f"{key}.repo", source=config.source)
    pr = target.pull_request
    api = api_url(pr.api_url, "api_url" in pr.model_fields_set, settings.get("GITHUB_API_URL"))
    token = settings.get(pr.token_env)
    env, secrets = auth_env(remote.url, token, api, username=remote.username, password=remote.password)
    clone_settings = CloneSettings(remote, target.branch, target.push.timeout_seconds, target.author.name,
                                   target.author.email, key=key, source=str(config.source))
    if clones is not None and depth is None:
        shared = (remote.url, target.branch, tuple(sorted(env.items())), secrets, target.push.timeout_seconds,
                  checkout)
        clone = clones.get(shared, clone_settings, lambda: GitClone.open(clone_settings, env, secrets,
                                                                         checkout=checkout))
    else:
        clone = GitClone.open(clone_settings, env, secrets, depth=depth, checkout=checkout)
    try:
        return GitOpsSession(clone, publish_settings(config, environment), describe=evidence_body,
                             pull_requests=pull_requests(remote.url, remote.display, api, token, pr.token_env),
                             sleep=sleep)
    except BaseException:  # the record at the tip could not even be located: never leave the clone behind
        clone.close()
        raise


def pull_requests(url: str, display: str, api: str, token: str | None,
                  token_env: str) -> PullRequestProvider | PullRequestsUnavailable:
    """The pull requests of the repository at `url`: GitHub's when it is on the GitHub of `api`
    (`is_github_remote`, the rule git's auth uses too) and a token is set."""
    from devops.adapters.github import GitHubPullRequests, repository_of

    owner_repo = repository_of(url, api)
    if owner_repo is None:
        return PullRequestsUnavailable(f"{display} is not a GitHub repository")
    if not token:
        return PullRequestsUnavailable(f"${token_env} is not set")
    return GitHubPullRequests(api, token, *owner_repo, token_env=token_env)
