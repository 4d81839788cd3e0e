"""Publishing to a GitOps repository: apply a ChangeSet, commit, push compare-and-swap.

The commit is pushed without force; when the remote branch has moved (someone else's release
landed first), the new tip is fetched, the ChangeSet is applied again to the files as they are
now (not a text rebase of our commit: devops/domain/gitops/merge.py), committed and pushed
again, waiting between attempts as the one retry policy says (devops/domain/retry.py), at most
`push.attempts` times. No change means no commit. In pull-request mode the same happens on a
branch of its own, and a pull request carries the evidence (devops/app/gitops_pull_request.py).

`GitOpsSession` is one environment's GitOps repository as the use cases see it (release,
promote, rollback, status, verify, `gitops set-image`): read the values and the record, publish.
The repository itself is a port (`GitOpsRepository`; git's adapter is
devops/adapters/git/clone.py, an in-memory one is tests/fakes/gitops.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from devops.app.gitops_pull_request import (
    EvidenceBody,
    PullRequestProvider,
    PullRequestSettings,
    PullRequestsUnavailable,
    publish_pull_request,
)
from devops.domain.gitops import freeze as freezes
from devops.domain.gitops import record as records
from devops.domain.gitops import values
from devops.domain.gitops.change import ChangeSet, ImageRef, PublishResult
from devops.domain.gitops.merge import Applied, Baseline, apply_change, record_or_empty
from devops.domain.gitops.message import commit_message
from devops.domain.gitops.repository import GitOpsLayout, HistoryEntry, PushRejection
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import BadInput, ExternalError

MODES = ("commit", "pull-request")


class GitOpsRepository(Protocol):
    """One branch of a GitOps repository, checked out (devops/adapters/git/clone.py::GitClone)."""

    @property
    def commit(self) -> str: ...  # the tip that was read

    @property
    def git_operations(self) -> int: ...  # commands run so far (PublishResult.git_operations)

    @property
    def remote(self) -> str: ...  # for messages: credentials shown as `***@`

    def read_text(self, path: str) -> str | None: ...  # None: no such file

    def prefetch(self, folder: str) -> None: ...  # a hint: the files under `folder` will be read

    def write_text(self, path: str, text: str) -> None: ...

    def history(self, path: str) -> list[HistoryEntry]: ...  # commits that changed `path`, newest first

    def resolve(self, revision: str) -> str: ...  # full commit; BadInput when unknown

    def show(self, commit: str, path: str) -> str | None: ...  # `path` at `commit`

    def commit_files(self, files: tuple[str, ...], message: str) -> str: ...

    def push(self, branch: str) -> PushRejection | None: ...  # never forced; None: it landed

    def sync_to(self, branch: str, base: str) -> str | None: ...  # fetch + reset; tip, None: no branch

    def contains(self, tip: str, commit: str) -> bool: ...

    def branch_tip(self, branch: str) -> str | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class PublishSettings:
    """One environment's `gitops` block, as plain values (devops/wiring/gitops.py)."""

    environment: str
    branch: str
    layout: GitOpsLayout
    mode: str = "commit"
    push: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=5, base_seconds=1.0, max_seconds=15.0))
    pull_request: PullRequestSettings = PullRequestSettings()
    # Says whether a service exists (raises UnknownName with a "did you mean" when not).
    check_service: Callable[[str], object] = lambda name: None
    attempts_key: str = "gitops.push.attempts"  # named when the attempts run out


class _Rejected(Exception):
    """A push that another try may land (internal to the retry loop)."""

    def __init__(self, rejection: PushRejection) -> None:
        super().__init__(rejection.reason)
        self.rejection = rejection


class GitOpsSession:
    """One environment's GitOps repository: read it, publish to it. Use in a `with` (closes the repository)."""

    def __init__(self, repo: GitOpsRepository, settings: PublishSettings, *, describe: EvidenceBody,
                 pull_requests: PullRequestProvider | PullRequestsUnavailable | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.repo = repo
        self.settings = settings
        self.describe = describe
        self.pull_requests = pull_requests or PullRequestsUnavailable(f"{repo.remote} has no pull requests")
        self.sleep = sleep
        self._pushed = ""
        # The environment's folder is read in one go (its record, values files, freeze file).
        repo.prefetch(settings.layout.path)
        record_path = settings.layout.record_path
        # What the caller reads is the record at the clone's tip: the base of the three-way merge.
        self._baseline = Baseline(record_or_empty(repo.read_text(record_path), self._where(record_path),
                                                  settings.environment))

    def close(self) -> None:
        self.repo.close()

    def __enter__(self) -> GitOpsSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------------------

    @property
    def commit(self) -> str:
        """The tip commit that was read (or pushed since)."""
        return self._pushed or self.repo.commit

    @property
    def remote(self) -> str:
        return self.repo.remote

    @property
    def git_operations(self) -> int:
        return self.repo.git_operations

    def _where(self, path: str) -> str:
        return f"{self.repo.remote}: {path}"

    def read_values(self, service: str) -> ImageRef | None:
        """The image in a service's values file; None when the file or its digest is empty/missing."""
        path = self.settings.layout.values_path(service)
        text = self.repo.read_text(path)
        return None if text is None else values.read_image(text, self._where(path))

    def read_record(self) -> records.ReleaseRecord:
        """The release record at the tip; an empty one when the file does not exist yet."""
        path = self.settings.layout.record_path
        text = self.repo.read_text(path)
        if text is None:
            return records.ReleaseRecord.empty(self.settings.environment)
        return records.parse(text, self._where(path), environment=self.settings.environment)

    def read_freeze(self) -> freezes.FreezeFile | None:
        """The environment's freeze file at the tip (`devops freeze`); None when there is none."""
        path = self.settings.layout.freeze_path
        text = self.repo.read_text(path)
        return None if text is None else freezes.parse(text, self._where(path), environment=self.settings.environment)

    def history(self) -> list[HistoryEntry]:
        """Commits that changed the release record (newest first)."""
        return self.repo.history(self.settings.layout.record_path)

    def read_record_at(self, commit: str) -> records.ReleaseRecord:
        """The release record as it was at `commit` (a sha or prefix)."""
        full = self.repo.resolve(commit)
        path = self.settings.layout.record_path
        text = self.repo.show(full, path)
        if text is None:
            raise BadInput(f"{path}: not present at commit {full[:12]} of {self.repo.remote}")
        return records.parse(text, f"{self._where(path)}@{full[:12]}", environment=self.settings.environment)

    # -- publishing --------------------------------------------------------------------------

    def publish(self, change: ChangeSet, dry_run: bool = False, mode: str | None = None) -> PublishResult:
        """Write `change` as one commit (or a pull request); see the module docstring."""
        settings = self.settings
        if change.environment != settings.environment:
            raise BadInput(f"change for {change.environment!r} given to the GitOps repository of "
                           f"{settings.environment!r}")
        for update in change.updates:
            settings.check_service(update.service)
        mode = mode or settings.mode
        if mode not in MODES:
            raise BadInput(f"--mode {mode}: expected commit or pull-request")
        if mode == "pull-request":
            return publish_pull_request(self, change, target=settings.branch, settings=settings.pull_request,
                                        pull_requests=self.pull_requests, describe=self.describe, dry_run=dry_run)
        branch = settings.branch
        applied = self.apply(change)
        if not applied.files or dry_run:
            return self.result("noop" if not applied.files else "dry-run", applied, None, branch, attempts=0)
        commit, attempts, applied = self.push_with_retries(change, applied, branch, base=branch)
        return self.result("committed" if commit else "noop", applied, commit, branch, attempts=attempts)

    def apply(self, change: ChangeSet) -> Applied:
        """Edit the work tree as `change` says (values files, record); what changed.

        Compare-and-swap per service, on the first apply and on every re-apply after a rejected
        push (devops/domain/gitops/merge.py): ConcurrentChange (exit 3, nothing written).
        """
        applied = apply_change(change, self.repo.read_text, self.settings.layout, self._baseline,
                               remote=self.repo.remote, branch=self.settings.branch)
        for path, text in applied.edits:
            self.repo.write_text(path, text)
        return applied

    def sync_to(self, branch: str, base: str) -> str | None:
        return self.repo.sync_to(branch, base)

    def branch_tip(self, branch: str) -> str | None:
        return self.repo.branch_tip(branch)

    def _commit(self, change: ChangeSet, applied: Applied) -> str:
        message = commit_message(change, applied.changes, record_changed=applied.record_changed)
        return self.repo.commit_files(applied.files, message)

    def push_with_retries(self, change: ChangeSet, applied: Applied, branch: str, *,
                          base: str) -> tuple[str | None, int, Applied]:
        """Commit `applied` and push it to `branch`, compare-and-swap, re-applying on rejection.

        Returns (commit pushed or found on the remote, push attempts, what was applied last);
        commit None when the remote already holds the change (nothing to push).
        """
        policy = self.settings.push
        commit = self._commit(change, applied)
        last: PushRejection | None = None
        try:
            for attempt in retrying(policy, retry_on=lambda error: isinstance(error, _Rejected), sleep=self.sleep):
                with attempt:
                    number = attempt.retry_state.attempt_number
                    if number > 1:
                        tip = self.repo.sync_to(branch, base)
                        if tip is not None and last is not None and last.kind == "unreachable" \
                                and self.repo.contains(tip, commit):
                            return commit, number - 1, applied  # the "failed" push had landed after all
                        applied = self.apply(change)
                        if not applied.files:
                            return None, number - 1, applied  # the remote already says what we wanted
                        commit = self._commit(change, applied)
                    last = self.repo.push(branch)
                    if last is None:
                        self._pushed = commit
                        return commit, number, applied
                    if not last.retryable:
                        raise ExternalError(f"push to {self.repo.remote} ({branch}) refused: {last.reason}: "
                                            f"{last.detail}", hint="nothing was written")
                    raise _Rejected(last)
        except _Rejected as spent:
            raise ExternalError(
                f"push to {self.repo.remote} ({branch}) still rejected after {policy.attempts} attempts: "
                f"{spent.rejection.reason}",
                hint=f"nothing was written; rerun, or raise {self.settings.attempts_key}") from None
        raise AssertionError("unreachable: the retry loop returns or raises")

    def result(self, outcome: str, applied: Applied, commit: str | None, branch: str, *, attempts: int,
               pr_url: str | None = None, pr_state: str | None = None) -> PublishResult:
        return PublishResult(
            outcome=outcome, changes=applied.changes, commit=commit, branch=branch, pull_request_url=pr_url,
            pull_request_state=pr_state, attempts=attempts, diff=applied.diff,
            git_operations=self.repo.git_operations, remote=self.repo.remote, files=applied.files,
        )
