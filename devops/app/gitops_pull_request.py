"""Pull-request mode: the change goes to a branch named from a hash of what it changes, and one
pull request per such branch carries the evidence. Running the same release twice pushes
nothing new and reuses the open pull request instead of opening a second one.

The pull requests come through a port (`PullRequestProvider`, GitHub's in
devops/adapters/github.py); where there is none (the remote is not on GitHub, no token), the
branch is still pushed and the result says why no pull request was opened.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from devops.domain.gitops.change import ChangeSet, PublishResult, ServiceChange
from devops.domain.gitops.merge import Applied
from devops.domain.gitops.message import subject


class PullRequest(Protocol):
    @property
    def number(self) -> int: ...

    @property
    def url(self) -> str: ...  # what a person opens

    @property
    def body(self) -> str: ...

    @property
    def labels(self) -> tuple[str, ...]: ...


class PullRequestProvider(Protocol):
    """The pull requests of the GitOps repository (devops/adapters/github.py::GitHubPullRequests)."""

    def find_open(self, head: str) -> PullRequest | None: ...

    def create(self, *, title: str, head: str, base: str, body: str, draft: bool) -> PullRequest:
        """Open one; when one for `head` already exists (another run opened it), that one."""
        ...

    def update_body(self, number: int, body: str) -> None: ...

    def add_labels(self, number: int, labels: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class PullRequestsUnavailable:
    """No pull request can be opened, and why (`<remote> is not a GitHub repository`, `$T is not set`)."""

    reason: str


@dataclass(frozen=True)
class PullRequestSettings:
    base: str | None = None  # the branch the pull request targets; the target branch when None
    branch_prefix: str = "devops/release"
    labels: tuple[str, ...] = ()
    draft: bool = False


# (change, what it changes, GitOps commit, repository, base branch) -> the pull request's body
# (devops/report/gitops.py::evidence_body: Markdown with the evidence).
EvidenceBody = Callable[[ChangeSet, tuple[ServiceChange, ...], "str | None", str, str], str]


class Publisher(Protocol):
    """What pull-request mode needs from the publish use case (devops/app/gitops_publish.py)."""

    @property
    def remote(self) -> str: ...

    def sync_to(self, branch: str, base: str) -> str | None: ...

    def apply(self, change: ChangeSet) -> Applied: ...

    def branch_tip(self, branch: str) -> str | None: ...

    def push_with_retries(self, change: ChangeSet, applied: Applied, branch: str, *,
                          base: str) -> tuple[str | None, int, Applied]: ...

    def result(self, outcome: str, applied: Applied, commit: str | None, branch: str, *, attempts: int,
               pr_url: str | None = None, pr_state: str | None = None) -> PublishResult: ...


def branch_name(prefix: str, change: ChangeSet) -> str:
    """`<prefix>/<env>-<12 hex>`: the hash of (environment, services, digests), so the same
    change always lands on the same branch."""
    key = json.dumps([change.environment, sorted((u.service, u.digest) for u in change.updates)]
                     + ([sorted((e.name, e.value) for e in change.values)] if change.values else []))
    return f"{prefix.rstrip('/')}/{change.environment}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def publish_pull_request(publisher: Publisher, change: ChangeSet, *, target: str, settings: PullRequestSettings,
                         pull_requests: PullRequestProvider | PullRequestsUnavailable, describe: EvidenceBody,
                         dry_run: bool = False) -> PublishResult:
    """Push the change to its branch (compare-and-swap) and open or reuse its pull request.

    `target` is the environment's branch (the base when `settings.base` is unset).
    """
    base = settings.base or target
    if base != target:
        publisher.sync_to(base, base)
    branch = branch_name(settings.branch_prefix, change)
    on_base = publisher.apply(change)  # what the pull request changes, against the base
    if not on_base.files:
        return publisher.result("noop", on_base, None, branch, attempts=0)
    if dry_run:
        return publisher.result("dry-run", on_base, None, branch, attempts=0)

    tip = publisher.branch_tip(branch)
    attempts = 0
    if tip is None:
        commit, attempts, _ = publisher.push_with_retries(change, on_base, branch, base=base)
    else:
        publisher.sync_to(branch, base)
        applied = publisher.apply(change)
        commit = tip
        if applied.files:  # the branch exists but lacks part of the change (it was edited)
            commit, attempts, _ = publisher.push_with_retries(change, applied, branch, base=base)
    commit = commit or publisher.branch_tip(branch)

    url: str | None = None
    if isinstance(pull_requests, PullRequestsUnavailable):
        state = f"SKIPPED: {pull_requests.reason}; branch {branch} was pushed"
    else:
        body = describe(change, on_base.changes, commit, publisher.remote, base)
        existing = pull_requests.find_open(branch)
        pull: PullRequest
        if existing is not None:
            if existing.body != body:
                pull_requests.update_body(existing.number, body)
            pull, state = existing, "reused"
        else:
            pull = pull_requests.create(title=subject(change, on_base.changes), head=branch, base=base, body=body,
                                        draft=settings.draft)
            state = "opened"
        missing = [label for label in settings.labels if label not in pull.labels]
        if missing:
            pull_requests.add_labels(pull.number, missing)
        url = pull.url
    return publisher.result("pull-request", on_base, commit, branch, attempts=attempts, pr_url=url, pr_state=state)
