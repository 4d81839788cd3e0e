"""`devops release --env prod`: promote the digests recorded in the source environment's release record.

The source of truth is the record in git, never a tag: a tag can move, a digest cannot. Every
digest must come with passing gate evidence and still exist in the registry; one service that
fails those checks refuses the whole promotion (exit 1) before anything is written. Expired
scan evidence is renewed by rescanning the same digest, never by rebuilding.

A record is data anyone with push access to the GitOps repository can write: its `repository`
is accepted only when it is the one configured for the service (registry.host/namespace/image),
checked before the registry is asked anything, so a record cannot send the registry
credentials (or prod) to another registry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from devops.app.release import Releaser, ReleaseRepository, ScanOutcome, current_digests
from devops.app.signatures import SignatureGate, promotion_signatures
from devops.domain.gitops.change import ChangeSet, ImageUpdate
from devops.domain.release.evidence import EvidencePolicy, check_entry, scan_evidence
from devops.domain.release.results import ReleaseReport, ServiceRelease
from devops.domain.release.rules import new_record, record_services, repository_refusal
from devops.errors import GateFailed


class PromotionSteps(Releaser, Protocol):
    def repository(self, service: str) -> str | None:
        """The configured repository of `service` (host/namespace/image); None when unknown."""
        ...

    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...

    def registry_has(self, repository: str, digest: str) -> bool: ...

    def rescan(self, service: str, repository: str, digest: str) -> ScanOutcome: ...


def promote(target: str, source: str, services: Sequence[str], order: Sequence[str], steps: PromotionSteps,
            policy: EvidencePolicy, *, now: dt.datetime, dry_run: bool = False,
            mode: str | None = None, signatures: SignatureGate | None = None) -> ReleaseReport:
    """Write the source environment's recorded digests of `services` (all when empty) into `target`.

    `signatures`: the target's signature policy and the port that checks bundles (None: not
    configured, reported SKIPPED)."""
    report = ReleaseReport(target, "promote", dry_run=dry_run, source=source)
    with steps.open_repo(source) as source_repo:
        source_record = source_repo.read_record()
        source_commit_of_record = source_repo.commit
    entries = record_services(source_record)
    if not entries:
        raise GateFailed(f"promotion to {target} refused: {source}'s release record lists no service",
                         hint=f"release to {source} first (`devops release --env {source}`)")
    chosen = list(services) or [name for name in order if name in entries] + sorted(set(entries) - set(order))
    refusals: list[str] = []
    promoted: dict[str, dict[str, Any]] = {}
    for service in chosen:
        entry = entries.get(service)
        if entry is not None:
            foreign = repository_refusal(service, entry.get("repository"), steps.repository(service),
                                         f"{source}'s release record")
            if foreign:
                refusals.append(foreign)
                continue
        check = check_entry(service, entry, source, policy, now)
        if not check.ok or entry is None:
            refusals.append(check.refusal)
            continue
        repository, digest = str(entry["repository"]), str(entry["digest"])
        if not steps.registry_has(repository, digest):
            refusals.append(f"{service}: {repository}@{digest[:19]}… recorded in {source} no longer exists "
                            "in the registry")
            continue
        promoted[service] = dict(entry)
        if check.rescan:
            scan = steps.rescan(service, repository, digest)
            promoted[service]["scan"] = scan_evidence(scan.passed, scan.counts, now, scan.trivy_version, scan.db)
            if not scan.passed:
                refusals.append(f"{service} {digest[:19]}: the scan evidence expired and a rescan found "
                                f"{scan.failing} finding(s) over the policy")
    if refusals:
        raise GateFailed(f"promotion {source} -> {target} refused: " + "; ".join(refusals))

    # Signed evidence (docs/supply-chain.md): the bundles of every digest, against the target's
    # policy and dev's record. Only a verification writes the `signatures` block: one the source
    # record carries is data and never travels.
    checked = promotion_signatures(signatures, target, {s: entries[s] for s in promoted})
    for service, block in checked.items():
        promoted[service].pop("signatures", None)
        if block.get("verdict") == "PASSED":
            promoted[service]["signatures"] = block

    with steps.open_repo(target) as repo:
        current = current_digests(repo, chosen)
        previous = repo.read_record()
        previous_entries = record_services(previous)
        updates = []
        for service in chosen:
            entry = promoted[service]
            unchanged = current[service] == entry["digest"] and previous_entries.get(service) == entry
            report.services.append(ServiceRelease(
                service, "unchanged" if unchanged else ("would-release" if dry_run else "released"),
                entry["repository"], str(entry.get("tag") or ""), entry["digest"], current[service],
                note=f"{target} already runs this digest" if unchanged else "",
                scan=entry.get("scan"), sonar=entry.get("sonar"), signatures=checked.get(service)))
            if current[service] != entry["digest"]:
                updates.append(ImageUpdate(service, entry["repository"], str(entry.get("tag") or ""), entry["digest"]))
        source_commit = source_record.source_commit
        record = new_record(target, order, previous, promoted, source_commit=source_commit, now=now,
                            released_by=steps.released_by(),
                            promoted_from={"environment": source, "gitops_commit": source_commit_of_record})
        if not updates and all(previous_entries.get(s) == promoted[s] for s in chosen):
            return report  # nothing to promote: no commit, no pull request
        change = ChangeSet(environment=target, updates=tuple(updates), record=record,
                           source_commit=source_commit, action="promote")
        report.publish = repo.publish(change, dry_run=dry_run, mode=mode)
    return report
