"""`devops report dora --env E`: DORA's four keys from the environment's GitOps history.

Reads the history of the release record (every commit that changed it, with its committer
date) and the record at each commit from the last one before the window on; the figures are
devops/domain/release/dora.py's. History cannot be fixed (it is never rewritten), so a record
that cannot be read at some commit does not stop the report: that commit is listed as skipped
with the reason, and the deployments are compared across it.
"""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from typing import Protocol

from devops.domain.gitops.record import ReleaseRecord
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.dora import DoraReport, Snapshot, dora
from devops.domain.release.evidence import parse_iso
from devops.errors import BadInput


class DoraRepository(Protocol):
    def history(self) -> list[HistoryEntry]: ...  # newest first

    def read_record_at(self, commit: str) -> ReleaseRecord: ...


class DoraSteps(Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[DoraRepository]: ...


def dora_report(environment: str, steps: DoraSteps, *, since: dt.timedelta, now: dt.datetime) -> DoraReport:
    """The report over [now - since, now] (see the module docstring)."""
    start = now - since
    with steps.open_repo(environment) as repo:
        history = [(entry.commit, parse_iso(entry.date)) for entry in reversed(repo.history())]
        dated = [(commit, at) for commit, at in history if at is not None]
        first = next((i for i, (_, at) in enumerate(dated) if at >= start), len(dated))
        snapshots = [_snapshot(repo, commit, at) for commit, at in dated[max(0, first - 1):]]
    return dora(snapshots, environment, since=since, now=now, history=[commit for commit, _ in history])


def _snapshot(repo: DoraRepository, commit: str, at: dt.datetime) -> Snapshot:
    try:
        record = repo.read_record_at(commit)
    except BadInput as exc:  # malformed, deleted or a symlink at that commit: skipped, said why
        return Snapshot(commit, at, None, error=exc.message)
    data = record.to_dict()
    # `devops rollback` writes `rolled_back_to`; an automatic rollback (issue 17) marks its record
    # `rollback: {restored: <commit>, ...}`: either makes the commit a rollback.
    restored = data.get("rolled_back_to")
    mark = data.get("rollback")
    if not isinstance(restored, str) and isinstance(mark, dict):
        restored = mark.get("restored")
    return Snapshot(commit, at, data["services"], restored if isinstance(restored, str) else None)
