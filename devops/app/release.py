"""`devops release --env E` for an environment that builds: plan -> build -> gates -> push -> one commit.

Orchestration only: the steps (Docker, Trivy, Sonar, registry, the GitOps repository) come in
as a `ReleaseSteps` object, so the order and the fail-closed rules are decided here and
nowhere else. Nothing reaches the GitOps repository unless every gate of every released
service passed; nothing reaches the registry unless the gates passed first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from devops.app.plan import ServicePlan
from devops.domain.gitops.change import ChangeSet, ImageRef, ImageUpdate, PublishResult
from devops.domain.gitops.freeze import FreezeFile
from devops.domain.gitops.record import ReleaseRecord
from devops.domain.release.auto_rollback import held
from devops.domain.release.evidence import iso, scan_evidence, sonar_evidence
from devops.domain.release.results import ReleaseReport, ServiceRelease
from devops.domain.release.rules import new_record
from devops.errors import ExternalError, GateFailed


class ReleaseRepository(Protocol):
    """What releases need from an environment's GitOps repository (devops/app/gitops_publish.py::GitOpsSession)."""

    @property
    def commit(self) -> str: ...

    def read_values(self, service: str) -> ImageRef | None: ...

    def read_record(self) -> ReleaseRecord: ...

    def read_freeze(self) -> FreezeFile | None: ...  # `devops freeze` (devops/app/freeze.py)

    def publish(self, change: ChangeSet, dry_run: bool = False, mode: str | None = None) -> PublishResult: ...


class Releaser(Protocol):
    """Who or what releases (the GitHub actor and run, or the local user): for the record."""

    def released_by(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Prepared:
    """A service's image ready to gate: the local reference scanned and how it got there."""

    service: str
    local_ref: str
    how: str            # built, pulled, local
    error: str = ""


@dataclass(frozen=True)
class ScanOutcome:
    passed: bool
    counts: Mapping[str, int]
    failing: int
    trivy_version: str
    db: str | None  # when Trivy's vulnerability DB was built


@dataclass(frozen=True)
class SonarResult:
    status: str          # OK, ERROR, WARN, NONE, SKIPPED
    reason: str = ""
    dashboard_url: str = ""
    failing: str = ""    # the failing conditions, one line
    # pass, fail or skipped, as `devops gate sonar` decides it (devops.domain.gates.sonar.gate_outcome,
    # with on_warn/on_none): the release never maps a status itself. Unset: fail closed.
    outcome: str = "fail"


class ReleaseSteps(Releaser, Protocol):
    """The outside world of a release, wired by the CLI (devops/wiring/release.py)."""

    def plan(self, services: Sequence[str]) -> list[ServicePlan]: ...

    def registry_digest(self, plan: ServicePlan) -> str | None: ...

    def prepare(self, plans: Sequence[ServicePlan], known: Mapping[str, str | None]) -> list[Prepared]: ...

    def scan(self, prepared: Sequence[Prepared]) -> dict[str, ScanOutcome]: ...

    def sonar(self, service: str) -> SonarResult: ...

    def push(self, plans: Sequence[ServicePlan]) -> dict[str, str]: ...

    def human_tag(self, plan: ServicePlan) -> str: ...

    def source_commit(self) -> str | None: ...

    def source_committed_at(self) -> str | None: ...  # ISO 8601 UTC; None when unknown

    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...


def current_digests(repo: ReleaseRepository, services: Sequence[str]) -> dict[str, str]:
    """The digest each service's values file holds now ("" when none yet)."""
    digests = {}
    for service in services:
        ref = repo.read_values(service)
        digests[service] = ref.digest if ref is not None else ""
    return digests


# Says whether the environment may be released to now (devops/app/freeze.py::admission): raises
# GateFailed during a freeze, returns the record's `break_glass` block when one is passed on purpose.
Admit = Callable[[Any], "dict[str, Any] | None"]


def known_digests(plans: Sequence[ServicePlan], current: Mapping[str, str], previous: ReleaseRecord,
                  steps: ReleaseSteps, parallelism: int = 8) -> dict[str, str | None]:
    """The registry digest of each plan's inputs. Where the record says the environment runs an
    image built from exactly these inputs (same input hash, same digest as the values file), that
    digest, without asking the registry; the others are asked, a few at a time."""
    recorded = previous.services
    known: dict[str, str | None] = {}
    ask = []
    for plan in plans:
        entry = recorded.get(plan.service)
        if entry is not None and entry.inputs == plan.inputs.digest and entry.digest == current.get(plan.service):
            known[plan.service] = entry.digest
        else:
            ask.append(plan)
    if len(ask) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(parallelism, len(ask)), thread_name_prefix="registry") as pool:
            known.update(zip([p.service for p in ask], pool.map(steps.registry_digest, ask), strict=True))
    else:
        known.update({p.service: steps.registry_digest(p) for p in ask})
    return known


def running_tag(plan: ServicePlan, previous: ReleaseRecord, current: Mapping[str, str], steps: ReleaseSteps) -> str:
    """The tag of what the environment runs: its record entry's when that entry is the running
    digest (no git asked: a release with nothing to do costs no revision lookup), else the tag
    this source would get."""
    entry = previous.services.get(plan.service)
    if entry is not None and entry.tag and entry.digest == current.get(plan.service):
        return entry.tag
    return steps.human_tag(plan)


def release(environment: str, services: Sequence[str], order: Sequence[str], steps: ReleaseSteps, *,
            now: dt.datetime, dry_run: bool = False, mode: str | None = None,
            admit: Admit | None = None) -> ReleaseReport:
    """Release the current source of `services` to `environment` (see the module docstring)."""
    report = ReleaseReport(environment, "release", dry_run=dry_run)
    with steps.open_repo(environment) as repo:  # an unreachable GitOps repo fails before any build
        report.break_glass = admit(repo) if admit is not None else None  # a freeze stops it here
        current = current_digests(repo, services)
        previous = repo.read_record()
        plans = steps.plan(services)
        known = known_digests(plans, current, previous, steps)
        candidates = [p for p in plans if not known[p.service] or known[p.service] != current[p.service]]
        for plan in plans:
            if plan not in candidates:
                report.services.append(ServiceRelease(
                    plan.service, "unchanged", plan.repository, running_tag(plan, previous, current, steps),
                    current[plan.service], current[plan.service], note="the environment already runs this digest"))
        held_back = held(previous)  # digests an automatic rollback replaced: never released again by itself
        for plan in [p for p in candidates if known[p.service] and held_back.get(p.service) == known[p.service]]:
            candidates.remove(plan)
            report.services.append(ServiceRelease(
                plan.service, "unchanged", plan.repository, running_tag(plan, previous, current, steps),
                current[plan.service], current[plan.service],
                note="held: rolled back automatically after its verification failed; "
                                            "change the service to release it again"))
        releases = {p.service: ServiceRelease(p.service, "would-release", p.repository, steps.human_tag(p),
                                              known[p.service] or "", current[p.service]) for p in candidates}
        if dry_run or not candidates:
            for item in releases.values():
                item.note = "" if item.digest else "new inputs: built, scanned and pushed on release"
            report.services.extend(releases.values())
            if dry_run and candidates and all(r.digest for r in releases.values()):
                report.publish = repo.publish(_change(environment, releases.values(), None, steps, "release"),
                                              dry_run=True, mode=mode)
            return _ordered(report, order)

        prepared = steps.prepare(candidates, known)
        broken = [p for p in prepared if p.error]
        if broken:
            raise ExternalError("release stopped before any push: " + "; ".join(
                f"{p.service}: {p.error.splitlines()[0]}" for p in broken))
        scans = steps.scan(prepared)
        sonars = {p.service: steps.sonar(p.service) for p in candidates}
        checked_at = now
        refused = []
        for plan in candidates:
            item = releases[plan.service]
            scan, sonar = scans[plan.service], sonars[plan.service]
            item.scan = scan_evidence(scan.passed, scan.counts, checked_at, scan.trivy_version, scan.db)
            item.sonar = sonar_evidence(sonar.status, sonar.outcome, sonar.reason, checked_at, sonar.dashboard_url)
            if not scan.passed:
                refused.append(f"{plan.service}: {scan.failing} finding(s) over the scan policy")
            if item.sonar["verdict"] == "FAILED":
                refused.append(f"{plan.service}: Sonar quality gate {sonar.status}"
                               + (f" ({sonar.failing})" if sonar.failing else ""))
        if refused:
            for item in releases.values():
                item.status = "refused"
            report.services.extend(releases.values())
            raise GateFailed(f"release to {environment} stopped, nothing pushed: " + "; ".join(refused),
                             hint="see `devops scan` / `devops gate sonar` for the findings")

        digests = steps.push(candidates)
        source_commit = steps.source_commit()
        committed_at = steps.source_committed_at() if source_commit else None
        entries = {}
        for plan in candidates:
            item = releases[plan.service]
            item.digest, item.status = digests[plan.service], "released"
            entries[plan.service] = {
                "repository": plan.repository, "tag": item.tag, "digest": item.digest, "inputs": plan.inputs.digest,
                "source_commit": source_commit, "source_committed_at": committed_at, "built_at": iso(checked_at),
                "scan": item.scan, "sonar": item.sonar,
            }
        record = new_record(environment, order, previous, entries, source_commit=source_commit, now=now,
                            released_by=steps.released_by(), break_glass=report.break_glass)
        report.services.extend(releases.values())
        report.publish = repo.publish(_change(environment, releases.values(), record, steps, "release",
                                              break_glass_trailers(report.break_glass)), mode=mode)
    return _ordered(report, order)


def _change(environment: str, items: Iterable[ServiceRelease], record: dict[str, Any] | None, steps: ReleaseSteps,
            action: str, trailers: tuple[tuple[str, str], ...] = ()) -> ChangeSet:
    updates = tuple(ImageUpdate(i.service, i.repository, i.tag, i.digest) for i in items)
    return ChangeSet(environment=environment, updates=updates, record=record,
                     source_commit=steps.source_commit(), action=action, trailers=trailers)


def break_glass_trailers(block: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """`Devops-Break-Glass: <reason>` when the change went through a freeze on purpose."""
    return (("Devops-Break-Glass", str(block["reason"])),) if block else ()


def _ordered(report: ReleaseReport, order: Sequence[str]) -> ReleaseReport:
    rank = {name: i for i, name in enumerate(order)}
    report.services.sort(key=lambda s: rank.get(s.service, len(rank)))
    return report

