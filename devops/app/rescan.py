"""`devops rescan --env E`: scan what an environment's release record names, again, with today's
Trivy DB and ignore files, and write the verdict back as the record's scan evidence.

Order (nothing outside is asked before the input is known good): read the record; refuse an
entry naming a repository other than the configured one (exit 1, nothing pulled: a record
cannot choose the registry); resolve every service's policy (a malformed ignore file is exit 2
before any pull); then per digest pull it by digest from the configured registry and scan it.
A digest that cannot be pulled or scanned is UNAVAILABLE (exit 3 unless a finding makes it 1),
never PASSED. The evidence of every digest that was judged is written in one commit through
the GitOps engine, compare-and-swap bound to the digests rescanned (devops/domain/gitops/merge.py):
a record that moved to another digest meanwhile is exit 3 with nothing written. Rules and exit
codes: devops/domain/release/rescan.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from devops.app.release import ReleaseRepository
from devops.domain.gates.scan import ImageTarget, ScanRun
from devops.domain.gitops.change import ChangeSet
from devops.domain.release.evidence import FAILED, PASSED
from devops.domain.release.rescan import (
    UNAVAILABLE,
    RescanReport,
    RescanTarget,
    ServiceRescan,
    record_with_evidence,
    rescan_targets,
)
from devops.domain.release.rules import record_services
from devops.errors import ExternalError


class RescanSteps(Protocol):
    """The outside world of a rescan (devops/wiring/rescan.py)."""

    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...

    def repository(self, service: str) -> str | None:
        """The configured repository of `service` (host/namespace/image); None when unknown."""
        ...

    def image_target(self, service: str, reference: str) -> ImageTarget:
        """`reference` with the service's current policy (ignore file read now: BadInput when malformed)."""
        ...

    def pull(self, target: RescanTarget) -> None:
        """Pull `target.reference` by digest from the configured registry; ExternalError when it cannot."""
        ...

    def scan(self, targets: Sequence[ImageTarget]) -> ScanRun: ...


class FindingNotifier(Protocol):
    """Where a "rescan finding" goes (the notifier of docs/notifications.md when configured)."""

    def rescan_finding(self, report: RescanReport, newly_failed: Sequence[ServiceRescan]) -> None: ...


class NoNotifier:
    """Nobody to tell: the findings are in the exit code, the SARIF and the job summary."""

    def rescan_finding(self, report: RescanReport, newly_failed: Sequence[ServiceRescan]) -> None:
        return None


def rescan(environment: str, order: Sequence[str], steps: RescanSteps, *, now: dt.datetime,
           dry_run: bool = False, notifier: FindingNotifier | None = None) -> RescanReport:
    """Rescan every digest `environment`'s record names (see the module docstring).

    Returns the report; `rescan_error(report)` says which error it means.
    """
    report = RescanReport(environment, now, dry_run=dry_run)
    with steps.open_repo(environment) as repo:
        record = repo.read_record()
        targets = rescan_targets(record_services(record), order, steps.repository, environment)
        for target in targets:
            running = repo.read_values(target.service)
            if running is not None and running.digest and running.digest != target.digest:
                report.warnings.append(
                    f"{target.service}: the values file runs {running.digest[:19]}…, the record names "
                    f"{target.digest[:19]}…; the record's digest is rescanned (what promotion would move)")
        images = {t.service: steps.image_target(t.service, t.reference) for t in targets}
        for target in targets:
            report.services.append(_rescan_one(target, images[target.service], steps, report))
        if report.scanned and not dry_run:
            data, expected = record_with_evidence(record.to_dict(), report)
            change = ChangeSet(environment=environment, updates=(), record=data, action="rescan",
                               expected_digests=expected)
            try:
                report.publish = repo.publish(change)
            except ExternalError as exc:  # ConcurrentChange included: nothing was written
                report.record_error = exc.message
    newly = [s for s in report.services if s.newly_failed]
    if newly and not dry_run:
        (notifier or NoNotifier()).rescan_finding(report, newly)
    return report


def _rescan_one(target: RescanTarget, image: ImageTarget, steps: RescanSteps, report: RescanReport) -> ServiceRescan:
    """Pull and scan one digest; UNAVAILABLE (with why) when the registry or Trivy cannot answer."""
    try:
        steps.pull(target)
        run = steps.scan([image])
    except ExternalError as exc:
        return ServiceRescan(target, UNAVAILABLE, error=exc.message)
    scan = run.scans[0]
    report.trivy_version = run.trivy_version
    report.db_updated_at = run.db_updated_at or None
    verdict = scan.verdict
    return ServiceRescan(target, PASSED if verdict.passed else FAILED, verdict.counts(),
                         tuple(j.finding.id for j in verdict.failing), scan=scan)
