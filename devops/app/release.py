"""`devops release --env E` for an environment that builds: plan -> build -> gates -> push -> one commit.

Orchestration only: the steps (Docker, Trivy, Sonar, registry, the GitOps repository) come in
as a `ReleaseSteps` object, so the order and the fail-closed rules are decided here and
nowhere else. Nothing reaches the GitOps repository unless every gate of every released
service passed. An image reaches the registry only after its own gates passed (its Trivy scan
and its Sonar verdict, `may_push`), as soon as they did, under its identity tag (`in-<hash>`)
alone; the human tags (sha-, semver) are added only once every gate of every service passed.
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
from devops.domain.release.evidence import FAILED, iso, scan_evidence, sonar_evidence, sonar_verdict
from devops.domain.release.results import ReleaseReport, ServiceRelease
from devops.domain.release.rules import new_record
from devops.errors import DevopsError, ExternalError, GateFailed


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


@dataclass(frozen=True)
class Delivered:
    """What the image steps did with one service's image: built or pulled, scanned, and pushed
    under its identity tag when `may_push` said its gates passed."""

    service: str
    local_ref: str
    how: str                              # built, pulled, local
    error: str = ""                       # the build or the pull failed: not scanned, not pushed
    scan: ScanOutcome | None = None       # None: not scanned (see error / scan_error)
    scan_error: DevopsError | None = None  # the scan could not be run (fail closed)
    digest: str = ""                      # in the registry under its identity tag (pushed now or before)
    pushed: bool = False                  # this run pushed it
    push_error: str = ""


# (service, its scan outcome) -> may its image be pushed now? Asked by the image steps as each
# scan ends; it may wait for the Sonar verdict.
MayPush = Callable[[str, "ScanOutcome"], bool]


class ReleaseSteps(Releaser, Protocol):
    """The outside world of a release, wired by the CLI (devops/wiring/release.py)."""

    def plan(self, services: Sequence[str]) -> list[ServicePlan]: ...

    def registry_digest(self, plan: ServicePlan) -> str | None: ...

    def deliver(self, plans: Sequence[ServicePlan], known: Mapping[str, str | None],
                may_push: MayPush) -> list[Delivered]:
        """Pull the images the registry has (`known` digest), build the others, scan each as it is
        ready, and push each under its identity tag only, as soon as `may_push(service, scan)`
        says its gates passed; return when every step ended (one entry per plan)."""
        ...

    def sonar(self, service: str) -> SonarResult: ...

    def tag_release(self, plans: Sequence[ServicePlan], digests: Mapping[str, str]) -> None:
        """Give each pushed digest its human tags (sha-, semver) in the registry."""
        ...

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

        gates = _SonarBeside(steps, [p.service for p in candidates])  # Sonar needs no image: beside the builds
        try:
            delivered = {d.service: d for d in steps.deliver(candidates, known, gates.may_push)}
        finally:
            sonars, sonar_error = gates.finish()
        checked_at = now
        refused: list[str] = []    # a gate said no (exit 1)
        failed: list[str] = []     # a step could not be done (exit 3, or the exit code of its error)
        errors: list[DevopsError] = [sonar_error] if sonar_error is not None else []
        if sonar_error is not None:
            failed.append(f"Sonar: {sonar_error.message.splitlines()[0]}")
        for plan in candidates:
            item, done = releases[plan.service], delivered[plan.service]
            sonar = sonars.get(plan.service)
            if sonar is not None:
                item.sonar = sonar_evidence(sonar.status, sonar.outcome, sonar.reason, checked_at, sonar.dashboard_url)
                refused += [why for why in [sonar_refusal(plan.service, sonar)] if why]
            if done.error:
                failed.append(f"{plan.service}: {done.error.splitlines()[0]}")
            elif done.scan_error is not None:
                errors.append(done.scan_error)
                failed.append(f"{plan.service}: {done.scan_error.message.splitlines()[0]}")
            elif done.scan is not None:
                scan = done.scan
                item.scan = scan_evidence(scan.passed, scan.counts, checked_at, scan.trivy_version, scan.db)
                if not scan.passed:
                    refused.append(f"{plan.service}: {scan.failing} finding(s) over the scan policy")
            if done.push_error:
                failed.append(f"{plan.service}: push failed: {done.push_error.splitlines()[0]}")
            elif passed(done, sonar) and not done.digest:
                failed.append(f"{plan.service}: passed its gates but was not pushed")  # no digest, no release
        if refused or failed:
            kept = [(p, delivered[p.service]) for p in candidates if delivered[p.service].pushed]
            for item in releases.values():
                item.status = "refused"
            for plan, done in kept:
                releases[plan.service].digest = done.digest
                releases[plan.service].note = f"kept in the registry as {plan.repository}:{plan.inputs.tag} only"
            report.services.extend(releases.values())
            message = stopped(environment, refused + failed, [p for p, _ in kept])
            if refused:
                raise GateFailed(message, hint="see `devops scan` / `devops gate sonar` for the findings")
            if len(errors) == 1 and len(failed) == 1:
                raise errors[0].retold(message)  # keeps its exit code (e.g. Sonar cannot be evaluated: 3)
            raise ExternalError(message)

        digests = {p.service: delivered[p.service].digest for p in candidates}
        try:
            steps.tag_release(candidates, digests)  # every gate passed: now the human tags
        except DevopsError as exc:
            raise exc.retold(f"release to {environment} stopped, nothing released: adding the release tags: "
                             f"{exc.message.splitlines()[0]}; the images are in the registry under their identity "
                             "tag only") from None
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



def stopped(environment: str, problems: Sequence[str], kept: Sequence[ServicePlan]) -> str:
    """The one line of a release that stopped: every problem, then the images that passed their
    own gates and are in the registry under their identity tag (or that none is)."""
    where = ("; passed their own gates, kept in the registry under their identity tag only (the next "
             "release reuses them, no rebuild): " + ", ".join(f"{p.service} ({p.repository}:{p.inputs.tag})"
                                                           for p in kept)) if kept else "; no image was pushed"
    return f"release to {environment} stopped, nothing released: " + "; ".join(problems) + where


def passed(done: Delivered, sonar: SonarResult | None) -> bool:
    """Every gate of this one image passed: its scan, and Sonar's verdict for its service."""
    scan = done.scan
    return scan is not None and scan.passed and sonar is not None and sonar_refusal(done.service, sonar) is None


def sonar_refusal(service: str, sonar: SonarResult) -> str | None:
    """Why Sonar's verdict refuses `service`, or None when it lets it through (the one rule that
    both the push of each image and the release apply)."""
    if sonar_verdict(sonar.outcome) != FAILED:
        return None
    return f"{service}: Sonar quality gate {sonar.status}" + (f" ({sonar.failing})" if sonar.failing else "")


class _SonarBeside:
    """Sonar's verdict of every service, asked on a thread of its own while the images are built
    (it depends on the analysis, not on the image); `may_push` waits for it."""

    def __init__(self, steps: ReleaseSteps, services: Sequence[str]) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sonar")
        self._verdicts = self._pool.submit(lambda: {service: steps.sonar(service) for service in services})

    def may_push(self, service: str, scan: ScanOutcome) -> bool:
        """The image of `service` may reach the registry: its scan passed and Sonar lets it through.
        Anything else, a Sonar that cannot be evaluated included, keeps it out (fail closed)."""
        if not scan.passed:
            return False
        try:
            sonar = self._verdicts.result().get(service)
        except Exception:  # reported by finish(); here it only keeps the image out
            return False
        return sonar is not None and sonar_refusal(service, sonar) is None

    def finish(self) -> tuple[dict[str, SonarResult], DevopsError | None]:
        """Every verdict, or the error that kept Sonar from giving them (a bug is raised as is)."""
        try:
            return self._verdicts.result(), None
        except DevopsError as exc:
            return {}, exc
        finally:
            self._pool.shutdown(wait=True)
