"""`devops rescan --env E`: the rules of rescanning what an environment's release record names.

A digest that passed its scan at release time can become vulnerable later: a new advisory in
the Trivy DB, an ignore entry that expired. The rescan judges the recorded digests again with
the current DB and ignore files and writes the verdict back as the entry's scan evidence, as of
the rescan, so `check_entry` (evidence.py) refuses to promote a digest that now fails.

Pure: which entries are rescanned (only the configured repositories: a record cannot choose
the registry), the record with the new evidence and the digests it is bound to, and which exit
the outcome means. The use case is devops/app/rescan.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devops.domain.gates.scan import ImageScan
from devops.domain.gitops.change import PublishResult
from devops.domain.release.evidence import FAILED, PASSED, scan_evidence
from devops.domain.release.rules import repository_refusal
from devops.errors import DevopsError, ExternalError, GateFailed, GateUnavailable

UNAVAILABLE = "UNAVAILABLE"  # the digest could not be rescanned (pull, registry or Trivy failed)


@dataclass(frozen=True)
class RescanTarget:
    """One recorded digest to rescan, from the configured repository of its service."""

    service: str
    repository: str
    digest: str
    previous: str = ""  # the scan verdict the record held ("" when none)

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"


@dataclass(frozen=True)
class ServiceRescan:
    """What the rescan of one digest found."""

    target: RescanTarget
    verdict: str  # PASSED, FAILED or UNAVAILABLE
    counts: Mapping[str, int] = field(default_factory=dict)  # all findings per severity
    failing: tuple[str, ...] = ()  # ids of the findings over the policy
    error: str = ""  # why it could not be rescanned (UNAVAILABLE)
    scan: ImageScan | None = field(default=None, repr=False)  # the judged report (SARIF, tables)

    @property
    def newly_failed(self) -> bool:
        """FAILED now and not before: what the "rescan finding" notification is about."""
        return self.verdict == FAILED and self.target.previous != FAILED


@dataclass
class RescanReport:
    """The whole rescan of an environment: built step by step by the use case."""

    environment: str
    checked_at: dt.datetime
    dry_run: bool = False
    services: list[ServiceRescan] = field(default_factory=list)
    trivy_version: str = ""
    db_updated_at: str | None = None
    warnings: list[str] = field(default_factory=list)
    publish: PublishResult | None = None  # what was written (None: nothing)
    record_error: str | None = None  # why the evidence could not be written

    @property
    def verdict(self) -> str:
        """FAILED when any digest fails, else UNAVAILABLE when any could not be checked, else PASSED."""
        verdicts = {s.verdict for s in self.services}
        for verdict in (FAILED, UNAVAILABLE):
            if verdict in verdicts:
                return verdict
        return PASSED

    @property
    def scanned(self) -> list[ServiceRescan]:
        return [s for s in self.services if s.verdict in (PASSED, FAILED)]


def rescan_targets(entries: Mapping[str, Mapping[str, Any]], order: Sequence[str],
                   configured: Callable[[str], str | None], environment: str) -> list[RescanTarget]:
    """The entries of `environment`'s record to rescan, in config order.

    GateFailed (exit 1, nothing asked of any registry) when an entry names a repository other
    than the one configured for its service, or a service the configuration does not have.
    """
    names = [name for name in order if name in entries] + sorted(set(entries) - set(order))
    where = f"{environment}'s release record"
    refusals = [r for r in (repository_refusal(n, entries[n].get("repository"), configured(n), where)
                            for n in names) if r]
    if refusals:
        raise GateFailed(f"rescan of {environment} refused, nothing pulled: " + "; ".join(refusals),
                         hint="fix the record (or roll it back); records cannot choose the registry")
    targets = []
    for name in names:
        scan = entries[name].get("scan")
        previous = str(scan.get("verdict") or "") if isinstance(scan, Mapping) else ""
        targets.append(RescanTarget(name, str(entries[name]["repository"]), str(entries[name]["digest"]),
                                    previous))
    return targets


def record_with_evidence(record: Mapping[str, Any], report: RescanReport
                         ) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """The record with each rescanned entry's scan evidence replaced, as of the rescan, and the
    (service, digest) pairs the write is bound to: each entry must still hold the digest that
    was rescanned whenever the change is applied (compare-and-swap, like `verify --record`)."""
    data: dict[str, Any] = {**record, "services": {k: dict(v) for k, v in record["services"].items()}}
    expected = []
    for item in report.scanned:
        entry = data["services"][item.target.service]
        entry["scan"] = scan_evidence(item.verdict == PASSED, item.counts, report.checked_at,
                                      report.trivy_version, report.db_updated_at)
        expected.append((item.target.service, item.target.digest))
    return data, tuple(expected)


def rescan_error(report: RescanReport) -> DevopsError | None:
    """The error the outcome means; None for exit 0.

    The evidence not written is exit 3 first (a FAILED verdict nobody recorded blocks nothing);
    then a finding over the policy is exit 1; then a digest that could not be rescanned is
    exit 3 (fail closed: not checked is not passed).
    """
    failed = [s for s in report.services if s.verdict == FAILED]
    found = "; ".join(f"{s.target.service} {s.target.digest[:19]}: {', '.join(s.failing[:5])}"
                      f"{' ...' if len(s.failing) > 5 else ''}" for s in failed)
    if report.record_error is not None:
        also = f" (findings over the policy: {found})" if failed else ""
        return ExternalError(f"rescan of {report.environment}: the evidence was not written: "
                             f"{report.record_error}{also}",
                             hint=f"nothing was written; rerun `devops rescan --env {report.environment}`")
    if failed:
        return GateFailed(f"rescan of {report.environment}: {sum(len(s.failing) for s in failed)} finding(s) over "
                          f"the policy ({found}); the scan evidence is now FAILED and promotion of "
                          f"{'these digests' if len(failed) > 1 else 'this digest'} is refused",
                          hint="release a fixed image, or suppress each finding with a dated entry in the "
                               "ignore file and rescan")
    unavailable = [s for s in report.services if s.verdict == UNAVAILABLE]
    if unavailable:
        return GateUnavailable(f"rescan of {report.environment}: could not rescan "
                               + "; ".join(f"{s.target.service}: {s.error}" for s in unavailable),
                               hint="its evidence was left as it was; rerun once the registry and Trivy answer")
    return None
