"""Signed evidence checked before a digest goes anywhere: the step of a promotion
(devops/app/promote.py) and `devops verify-signatures --env E` (what an environment runs).

The bundles come through a port (`SignatureFinder`, devops/adapters/sigstore/attestor.py wired
by devops/wiring/signatures.py) that lists every bundle referring to a digest and checks each
signature against the policy's signer; the rules (every required kind, subject, verdicts,
agreement with the release record) are the domain's (devops/domain/attestation/policy.py).
A registry that cannot be read is exit 3 (the adapter's error); evidence that is missing or
fails is exit 1 naming the service, the digest and each attestation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from devops.app.release import ReleaseRepository, current_digests
from devops.domain.attestation.policy import FoundBundle, SignaturePolicy, judge
from devops.domain.attestation.results import SignaturesReport
from devops.domain.release.rules import record_services
from devops.errors import GateFailed


class SignatureFinder(Protocol):
    def found(self, repository: str, digest: str) -> list[FoundBundle]:
        """Every bundle referring to `repository@digest`, its signature checked against the
        policy's signer (unusable ones carry the reason); HttpError (exit 3) when unreadable."""
        ...


@dataclass(frozen=True)
class SignatureGate:
    """A policy and the port that finds and checks bundles for it."""

    policy: SignaturePolicy
    finder: SignatureFinder


def promotion_signatures(gate: SignatureGate | None, target: str,
                         entries: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The signature step of a promotion into `target`: per service, the block its record entry
    keeps (which bundles were verified, for which policy). `entries` are the source record's,
    already checked for evidence and existence. Not configured: SKIPPED blocks, for the report
    only. GateFailed naming every refused service, digest and attestation."""
    if gate is None:
        return {service: skipped_block(target) for service in entries}
    blocks, refusals = {}, []
    for service, entry in entries.items():
        digest, repository = str(entry["digest"]), str(entry["repository"])
        check = judge(service, digest, gate.finder.found(repository, digest), gate.policy, entry)
        if check.ok:
            blocks[service] = check.record_block()
        else:
            refusals.append(check.refusal())
    if refusals:
        raise GateFailed(f"promotion to {target} refused, signed evidence missing or failing: " + " | ".join(refusals),
                         hint="sign after the release with `devops attest --env <source>` (docs/supply-chain.md)")
    return blocks


def skipped_block(environment: str) -> dict[str, Any]:
    return {"verdict": "SKIPPED", "reason": f"environments.{environment}.signatures is not set"}


class SignatureSteps(Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...

    def repository(self, service: str) -> str | None: ...


def verify_signatures(environment: str, services: Sequence[str], steps: SignatureSteps, gate: SignatureGate,
                      *, policy_environment: str) -> SignaturesReport:
    """Check the bundles of the digests `environment` runs (its values files) under `gate`; the
    release record entry of each digest is what the predicates must agree with."""
    report = SignaturesReport(environment, policy_environment, gate.policy.describe())
    with steps.open_repo(environment) as repo:
        digests = current_digests(repo, services)
        entries = record_services(repo.read_record())
    for service in services:
        digest, repository = digests[service], steps.repository(service)
        if not digest or repository is None:
            report.skipped[service] = "nothing deployed (its values file names no digest)"
            continue
        entry = entries.get(service)
        if entry is not None and entry.get("digest") != digest:
            entry = None  # the record vouches for another digest: nothing to agree with
        report.checks.append(judge(service, digest, gate.finder.found(repository, digest), gate.policy, entry))
    return report


def refusal(report: SignaturesReport) -> GateFailed | None:
    """The exit-1 error of a `verify-signatures` that found missing or failing evidence."""
    failing = [c.refusal() for c in report.checks if not c.ok]
    if not failing:
        return None
    return GateFailed(f"{report.environment}: signed evidence missing or failing under "
                      f"environments.{report.policy_environment}.signatures: " + " | ".join(failing))
