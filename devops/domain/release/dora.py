"""DORA's four keys of one environment, from its GitOps history and release records alone.

Input: the release record at every commit that changed it (oldest first, with the commit's
committer date). Definitions (docs/dora.md):
- a **deployment** is a commit whose record names other digests than the record before it
  (evidence-only commits, `verify` and `rescan`, are not deployments); it is a **rollback** when
  its record carries a new `rolled_back_to`;
- **deployment frequency**: deployments (rollbacks included) in the window, per day and week;
- **lead time for changes**: per deployment that is not a rollback, deployment time minus the
  `source_committed_at` of each changed entry (one sample per source commit); median;
- **change failure rate**: deployments (not rollbacks) that failed, over those deployments; a
  deployment failed when a later rollback undid it (it lies after the commit the rollback
  restored) or when `devops verify` in this environment recorded FAILED for a digest it deployed;
- **time to restore**: an incident starts at a failed deployment and ends at the next deployment
  that did not fail; its duration is the time to restore; median. Still open: reported apart.
Pure: no git, no clock (`now` is given).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devops.domain.release.evidence import FAILED, parse_iso

DAY = 86400.0


@dataclass(frozen=True)
class Snapshot:
    """The release record at one commit (None: unreadable there, with why)."""

    commit: str
    at: dt.datetime  # the commit's committer date
    services: Mapping[str, Mapping[str, Any]] | None
    rolled_back_to: str | None = None
    error: str = ""


@dataclass
class Deployment:
    commit: str
    at: dt.datetime
    changed: dict[str, str]  # service -> digest deployed
    rollback: bool
    restored: str | None = None  # a rollback: the commit whose record it restored (`rolled_back_to`)
    lead_times: list[float] = field(default_factory=list)  # seconds, one per source commit
    failed_by: str = ""  # why it counts as failed ("" when it did not fail)

    @property
    def failed(self) -> bool:
        return bool(self.failed_by)


@dataclass(frozen=True)
class Incident:
    start: dt.datetime
    commits: tuple[str, ...]  # the failed deployments, in order
    restored_by: str | None  # the deployment that ended it; None while open
    seconds: float  # time to restore, or open so far


@dataclass(frozen=True)
class Median:
    """A median over samples (None without samples), with how many."""

    seconds: float | None
    samples: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Median:
        return cls(statistics.median(values) if values else None, len(values))


@dataclass(frozen=True)
class DoraReport:
    environment: str
    since: dt.datetime
    until: dt.datetime
    deployments: tuple[Deployment, ...]
    incidents: tuple[Incident, ...]
    skipped: tuple[tuple[str, str], ...]  # (commit, why its record was not read)

    @property
    def days(self) -> float:
        return (self.until - self.since).total_seconds() / DAY

    @property
    def per_day(self) -> float:
        return len(self.deployments) / self.days

    @property
    def changes(self) -> list[Deployment]:
        return [d for d in self.deployments if not d.rollback]

    @property
    def failed(self) -> list[Deployment]:
        return [d for d in self.changes if d.failed]

    @property
    def change_failure_rate(self) -> float | None:
        return len(self.failed) / len(self.changes) if self.changes else None

    @property
    def lead_time(self) -> Median:
        return Median.of([s for d in self.changes for s in d.lead_times])

    @property
    def without_lead_time(self) -> int:
        """Changes none of whose entries says when its source commit was made."""
        return sum(1 for d in self.changes if not d.lead_times)

    @property
    def time_to_restore(self) -> Median:
        return Median.of([i.seconds for i in self.incidents if i.restored_by is not None])

    @property
    def open_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if i.restored_by is None]


def digests(services: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    return {name: str(entry.get("digest") or "") for name, entry in services.items()}


def deployments(snapshots: Sequence[Snapshot], environment: str, history: Sequence[str] = ()) -> list[Deployment]:
    """Every deployment of `snapshots` (oldest first), failures marked; see the module docstring.

    `history` is every commit that changed the record, oldest first (the snapshots may start
    later): where the commit a rollback restored lies. Unreadable snapshots are passed over.
    """
    readable = [s for s in snapshots if s.services is not None]
    found: list[tuple[Deployment, int]] = []  # with the index of its snapshot in `readable`
    before: dict[str, str] = {}
    rolled = None
    for index, snap in enumerate(readable):
        services = snap.services or {}
        now = digests(services)
        changed = {name: digest for name, digest in now.items() if before.get(name) != digest}
        if changed or set(before) - set(now):
            rollback = snap.rolled_back_to is not None and snap.rolled_back_to != rolled
            deployment = Deployment(snap.commit, snap.at, changed, rollback,
                                    restored=snap.rolled_back_to if rollback else None)
            if not rollback:
                deployment.lead_times = _lead_times(services, changed, snap.at)
            found.append((deployment, index))
        before, rolled = now, snap.rolled_back_to
    rank = {commit: i for i, commit in enumerate(history or [s.commit for s in readable])}
    for position, (deployment, index) in enumerate(found):
        end = found[position + 1][1] if position + 1 < len(found) else len(readable)
        _verification_failure(deployment, readable[index:end], environment)
        if deployment.rollback:
            _undone_by(deployment, [d for d, _ in found[:position]], rank)
    return [d for d, _ in found]


def _lead_times(services: Mapping[str, Mapping[str, Any]], changed: Mapping[str, str], at: dt.datetime) -> list[float]:
    """One sample per source commit of the changed entries that say when it was made (not after `at`)."""
    samples: dict[str, float] = {}
    for name in changed:
        entry = services[name]
        made = parse_iso(entry.get("source_committed_at"))
        seconds = (at - made).total_seconds() if made is not None else -1.0
        if seconds >= 0:
            samples.setdefault(str(entry.get("source_commit") or name), seconds)
    return list(samples.values())


def _verification_failure(deployment: Deployment, window: Sequence[Snapshot], environment: str) -> None:
    """Mark `deployment` failed when `devops verify` in `environment` recorded FAILED for a digest
    it deployed (the entry still holding it), before the next deployment."""
    for snap in window:
        for name, digest in deployment.changed.items():
            entry = (snap.services or {}).get(name) or {}
            check = entry.get("verification")
            if entry.get("digest") == digest and isinstance(check, Mapping) and check.get("verdict") == FAILED \
                    and check.get("environment") == environment and check.get("digest") in (digest, None):
                deployment.failed_by = f"verification FAILED ({name}, {snap.commit[:12]})"
                return


def _undone_by(rollback: Deployment, earlier: Sequence[Deployment], rank: Mapping[str, int]) -> None:
    """Mark failed the deployments a rollback undid: those after the commit it restored, or the
    one just before it when that commit is not in the history (a hand-written record)."""
    restored = rank.get(str(rollback.restored))
    undone = earlier[-1:] if restored is None else [d for d in earlier if rank.get(d.commit, -1) > restored]
    for deployment in undone:
        if not deployment.rollback and not deployment.failed:
            deployment.failed_by = f"rolled back by {rollback.commit[:12]}"


def incidents(found: Sequence[Deployment], now: dt.datetime) -> list[Incident]:
    """Runs of failed deployments, each ended by the next deployment that did not fail."""
    result: list[Incident] = []
    run: list[Deployment] = []
    for deployment in found:
        if deployment.failed:
            run.append(deployment)
            continue
        if run:
            result.append(Incident(run[0].at, tuple(d.commit for d in run), deployment.commit,
                                   max(0.0, (deployment.at - run[0].at).total_seconds())))
            run = []
    if run:
        result.append(Incident(run[0].at, tuple(d.commit for d in run), None,
                               max(0.0, (now - run[0].at).total_seconds())))
    return result


def dora(snapshots: Sequence[Snapshot], environment: str, *, since: dt.timedelta, now: dt.datetime,
         history: Sequence[str] = ()) -> DoraReport:
    """The four keys over the deployments dated in [now - since, now] (see the module docstring).

    `snapshots` should start with the last record before the window (the baseline), so that the
    window's first commit is compared with what ran before it.
    """
    start = now - since
    found = [d for d in deployments(snapshots, environment, history) if start <= d.at <= now]
    skipped = tuple((s.commit, s.error) for s in snapshots if s.services is None and start <= s.at <= now)
    return DoraReport(environment, start, now, tuple(found), tuple(incidents(found, now)), skipped)


def window(since: str) -> dt.timedelta:
    """`--since` (a duration like 90d or 12w, at most 400 days) as a time span of at least a day."""
    from devops.domain.observability.durations import duration_seconds
    from devops.errors import BadInput

    try:
        seconds = duration_seconds(since)
    except ValueError as exc:
        raise BadInput(f"--since {since[:40]!r}: {exc}") from None
    if seconds < DAY:
        raise BadInput(f"--since {since}: at least 1d (deployments are counted per day)")
    return dt.timedelta(seconds=seconds)
