"""Freezes: `devops freeze` / `devops unfreeze` write the environment's freeze file through the
GitOps engine (compare-and-swap, so two people freezing at once never lose a write), and
`admission` is what releases and promotions ask before they do anything.

The freeze lives in the GitOps repository, next to the release record: every runner and laptop
that can release reads it from there. Freeze writes default to a commit, whatever the
environment's mode: an emergency stop that waits for a review is no stop (`--mode
pull-request` where the branch only takes pull requests).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from devops.app.notify import Notifier
from devops.app.release import Releaser
from devops.domain.gitops.change import ChangeSet, PublishResult
from devops.domain.gitops.freeze import FreezeFile
from devops.domain.notify.release_events import freeze_event
from devops.domain.release.freeze import FreezePolicy, FreezeResult, break_glass, freeze_document, refusal
from devops.errors import BadInput, GateFailed


class FreezeRepository(Protocol):
    """What freezes need of an environment's GitOps repository (devops/app/gitops_publish.py::GitOpsSession)."""

    def read_freeze(self) -> FreezeFile | None: ...

    def publish(self, change: ChangeSet, dry_run: bool = False, mode: str | None = None) -> PublishResult: ...


class FreezeSteps(Releaser, Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[FreezeRepository]: ...


def admission(environment: str, policy: FreezePolicy, reason: str | None, released_by: Callable[[], dict[str, Any]],
              now: dt.datetime, warn: Callable[[str], None]) -> Callable[[FreezeRepository], dict[str, Any] | None]:
    """What `release` / `promote` call with the target's repository before anything else:
    GateFailed (exit 1) naming each freeze and when releases resume; with a break-glass
    `reason`, the record's `break_glass` block instead (nothing when no freeze is in force:
    then the reason is not recorded, and `warn` says so)."""

    def admit(repo: FreezeRepository) -> dict[str, Any] | None:
        active = policy.active(repo.read_freeze(), now)
        if not active:
            if reason:
                warn(f"{environment} is not frozen: --break-glass is not needed and is not recorded")
            return None
        if not reason:
            raise GateFailed(refusal(environment, active, now),
                             hint=f'an emergency fix can pass with --break-glass "reason" (recorded), or run '
                                  f'`devops unfreeze --env {environment}`')
        return break_glass(reason, released_by(), now, active)

    return admit


def freeze(environment: str, until: dt.datetime, reason: str, steps: FreezeSteps, policy: FreezePolicy, *,
           now: dt.datetime, mode: str | None = "commit", dry_run: bool = False,
           notifier: Notifier | None = None) -> FreezeResult:
    """Write a freeze of `environment` until `until` (after `now`), with `reason`."""
    if until <= now:
        raise BadInput(f"--until {until.isoformat()}: not after now ({now.isoformat()})")
    document = freeze_document(environment, frozen=True, until=until, reason=reason, by=steps.released_by(), now=now)
    return _write(environment, "freeze", document, steps, policy, now=now, mode=mode, dry_run=dry_run,
                  notifier=notifier)


def unfreeze(environment: str, steps: FreezeSteps, policy: FreezePolicy, *, now: dt.datetime,
             mode: str | None = "commit", dry_run: bool = False, notifier: Notifier | None = None) -> FreezeResult:
    """Lift the freeze file's freeze (calendar freezes stay: they are configuration)."""
    document = freeze_document(environment, frozen=False, until=None, reason=None, by=steps.released_by(), now=now)
    return _write(environment, "unfreeze", document, steps, policy, now=now, mode=mode, dry_run=dry_run,
                  notifier=notifier, skip_when=lambda before: before is None or not before.active(now))


def _write(environment: str, action: str, document: dict[str, Any], steps: FreezeSteps, policy: FreezePolicy, *,
           now: dt.datetime, mode: str | None, dry_run: bool, notifier: Notifier | None,
           skip_when: Callable[[FreezeFile | None], bool] = lambda before: False) -> FreezeResult:
    with steps.open_repo(environment) as repo:
        before = repo.read_freeze()
        if skip_when(before):  # nothing to lift: no commit
            return FreezeResult(environment, action, before, None, None, policy.active(before, now), dry_run)
        title = (f"until {document['until']}: {document['reason']}" if document["frozen"] else "lifted")[:80]
        change = ChangeSet(environment=environment, updates=(), freeze=document, action=action, title=title,
                           trailers=(("Devops-Freeze-Until", str(document["until"])),) if document["frozen"] else ())
        publish = repo.publish(change, dry_run=dry_run, mode=mode)
    after = FreezeFile.model_validate(document) if not dry_run else before
    result = FreezeResult(environment, action, before, document, publish, policy.active(after, now), dry_run)
    if notifier is not None and publish.outcome in ("committed", "pull-request"):
        notifier.notify(freeze_event(environment, document, publish.commit, now))
    return result
