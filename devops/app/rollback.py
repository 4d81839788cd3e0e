"""`devops rollback --env E --to REF`: restore an earlier release record's digests as a new commit.

History is never rewritten: the rollback is a forward commit whose record says which earlier
release it restores. `--to` is a GitOps commit (full or abbreviated) or `previous` / `~N`
(the Nth release before the current one).

The earlier record is data like any other: each entry must name the repository configured for
its service (nothing is asked of another registry), and every digest that changes must still
exist in the registry; otherwise the rollback is refused (exit 1) and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from devops.app.notify import Notifier
from devops.app.release import Releaser, ReleaseRepository, current_digests
from devops.domain.gitops.change import ChangeSet, ImageUpdate
from devops.domain.gitops.record import ReleaseRecord
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.notify.release_events import release_event
from devops.domain.release.results import ReleaseReport, ServiceRelease
from devops.domain.release.rules import new_record, record_services, repository_refusal, resolve_target
from devops.errors import BadInput, GateFailed


class RollbackRepository(ReleaseRepository, Protocol):
    def history(self) -> list[HistoryEntry]: ...

    def read_record_at(self, commit: str) -> ReleaseRecord: ...


class RollbackSteps(Releaser, Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[RollbackRepository]: ...

    def repository(self, service: str) -> str | None: ...

    def registry_has(self, repository: str, digest: str) -> bool: ...


def rollback(environment: str, to: str, order: Sequence[str], steps: RollbackSteps, *, now: dt.datetime,
             dry_run: bool = False, mode: str | None = None,
             mark: Callable[[dict[str, Any]], dict[str, Any]] | None = None, trailers: tuple[tuple[str, str], ...] = (),
             notifier: Notifier | None = None) -> ReleaseReport:
    """Restore the release record at `to` (see the module docstring); refusals write nothing.

    `mark` adds to the new record what an automatic rollback says about itself
    (devops/app/auto_rollback.py), `trailers` to its commit; `notifier` hears of what was written."""
    report = ReleaseReport(environment, "rollback", dry_run=dry_run)
    with steps.open_repo(environment) as repo:
        commit = resolve_target(repo.history(), to, environment)
        earlier_record = repo.read_record_at(commit)
        earlier = record_services(earlier_record)
        if not earlier:
            raise BadInput(f"--to {to}: the release record at {commit[:12]} lists no service; nothing to restore")
        where = f"the release record at {commit[:12]}"
        refusals = [r for r in (repository_refusal(s, e.get("repository"), steps.repository(s), where)
                                for s, e in earlier.items()) if r]
        if refusals:
            raise GateFailed(f"rollback of {environment} to {commit[:12]} refused: " + "; ".join(refusals))
        current = current_digests(repo, list(earlier))
        updates = []
        for service in [s for s in order if s in earlier] + sorted(set(earlier) - set(order)):
            entry = earlier[service]
            changed = current.get(service, "") != entry.get("digest")
            report.services.append(ServiceRelease(
                service, ("would-release" if dry_run else "released") if changed else "unchanged",
                str(entry.get("repository") or ""), str(entry.get("tag") or ""), str(entry.get("digest") or ""),
                current.get(service, ""), note=f"restored from {commit[:12]}" if changed else "",
                scan=entry.get("scan"), sonar=entry.get("sonar")))
            if changed:
                updates.append(ImageUpdate(service, entry["repository"], str(entry.get("tag") or ""),
                                           entry["digest"]))
        if not updates:
            return report
        missing = [f"{u.service}: {u.repository}@{u.digest[:19]}… no longer exists in the registry"
                   for u in updates if not steps.registry_has(u.repository, u.digest)]
        if missing:
            raise GateFailed(f"rollback of {environment} to {commit[:12]} refused: " + "; ".join(missing))
        source_commit = earlier_record.source_commit
        promoted_from = earlier_record.promoted_from
        record = new_record(environment, order, repo.read_record(), earlier, source_commit=source_commit, now=now,
                            released_by=steps.released_by(),
                            promoted_from=promoted_from.model_dump() if promoted_from else None)
        record["rolled_back_to"] = commit
        if mark is not None:
            record = mark(record)
        change = ChangeSet(environment=environment, updates=tuple(updates), record=record,
                           source_commit=source_commit, action="rollback", trailers=trailers)
        report.publish = repo.publish(change, dry_run=dry_run, mode=mode)
    event = release_event(report, now) if notifier is not None else None
    if notifier is not None and event is not None:
        notifier.notify(event)
    return report


def releases(environment: str, steps: RollbackSteps) -> list[HistoryEntry]:
    """The environment's releases (commits that changed its record), newest first: what `--to` takes."""
    with steps.open_repo(environment) as repo:
        return repo.history()
