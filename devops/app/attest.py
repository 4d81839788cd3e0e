"""`devops attest --env dev`: sign the evidence of every digest the environment's release record
holds, one Sigstore bundle per evidence kind, attached to the digest in the registry.

Order and fail-closed rules: the record is read first and every entry checked (its repository
must be the configured one) before anything is asked or written; then, per digest, the image's
labels and Trivy's outputs are gathered and the statements planned (a kind whose evidence does
not exist yet is SKIPPED with the reason, domain/attestation/release.py); only then is a signer
opened (one Fulcio certificate for the run, keyless) and each statement signed and attached.
A kind already attested with the same claim by the same signer is not signed again, so the
command is re-run after `devops verify` to add the verification only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from devops.app.release import ReleaseRepository
from devops.domain.attestation.policy import ALL_KINDS, same_claim
from devops.domain.attestation.predicates import EvidenceKind
from devops.domain.attestation.release import Planned, ScanMaterial, SigningRun, SonarProject, plan_statements
from devops.domain.attestation.results import (
    PRESENT,
    SIGNED,
    SKIPPED,
    WOULD_SIGN,
    AttestReport,
    KindOutcome,
    ServiceAttestation,
)
from devops.domain.attestation.statement import Statement
from devops.domain.release.rules import record_services, repository_refusal
from devops.errors import GateFailed


class ExistingBundle(Protocol):
    @property
    def referrer(self) -> str: ...

    @property
    def signer(self) -> str: ...

    @property
    def statement(self) -> Statement: ...


class Attached(Protocol):
    @property
    def referrer(self) -> str: ...

    @property
    def via(self) -> str: ...

    @property
    def classic(self) -> str: ...


class SigningSession(Protocol):
    """A signer opened for the run, storing what it signs (devops/wiring/signatures.py)."""

    @property
    def identity(self) -> str: ...

    def attach(self, repository: str, digest: str, statement: Statement, *, classic: bool) -> Attached: ...

    def attach_classic_signature(self, repository: str, digest: str) -> str: ...


class AttestSteps(Protocol):
    def open_repo(self, environment: str) -> AbstractContextManager[ReleaseRepository]: ...

    def repository(self, service: str) -> str | None: ...

    def labels(self, repository: str, digest: str) -> Mapping[str, str]:
        """The image's labels, read from the registry by digest."""
        ...

    def scan(self, service: str, repository: str, digest: str) -> ScanMaterial:
        """Trivy's SBOM and vulnerability predicate for the digest, with the gate's verdict."""
        ...

    def existing(self, repository: str, digest: str) -> Sequence[ExistingBundle]: ...

    def signer(self) -> AbstractContextManager[SigningSession]: ...


@dataclass(frozen=True)
class AttestOptions:
    environment: str
    services: Sequence[str]     # empty: every service of the record
    order: Sequence[str]        # the configuration's service order
    run: SigningRun
    sonar: SonarProject
    method: str                 # keyless or key (for the report)
    kinds: tuple[EvidenceKind, ...] = ALL_KINDS
    classic_tags: bool = False
    force: bool = False         # sign again what is already attested
    dry_run: bool = False
    # Services signed and attached at once: each one's kinds go one after the other (they update
    # the same referrers index), different digests never share one; mostly registry round trips.
    parallelism: int = 1


def attest(options: AttestOptions, steps: AttestSteps) -> AttestReport:
    """Sign and attach the evidence of `options.environment`'s recorded digests."""
    env = options.environment
    report = AttestReport(env, options.method, dry_run=options.dry_run)
    with steps.open_repo(env) as repo:
        entries = record_services(repo.read_record())
    chosen = list(options.services) or [s for s in options.order if s in entries] + sorted(
        set(entries) - set(options.order))
    refusals = []
    for service in chosen:
        entry = entries.get(service)
        if entry is None:
            refusals.append(f"{env}'s release record has no entry for {service}; release it first")
            continue
        foreign = repository_refusal(service, entry.get("repository"), steps.repository(service),
                                     f"{env}'s release record")
        if foreign:
            refusals.append(foreign)
    if refusals:
        raise GateFailed(f"attest {env}: nothing signed: " + "; ".join(refusals))

    plans = [_plan(service, entries[service], options, steps) for service in chosen]
    if options.dry_run:
        for planned in plans:
            report.services.append(_dry_run(planned, entries[planned.service], steps))
        return report
    if not any(p.statements for p in plans):
        for planned in plans:  # nothing has evidence to sign: no certificate asked for
            result = ServiceAttestation(planned.service, str(entries[planned.service]["repository"]), planned.digest)
            _skipped(planned, result)
            report.services.append(result)
        return report
    with steps.signer() as session:
        report.signer = session.identity
        report.services.extend(_sign_all(plans, entries, session, steps, options))
    return report


def _sign_all(plans: Sequence[Planned], entries: Mapping[str, Any], session: SigningSession, steps: AttestSteps,
              options: AttestOptions) -> list[ServiceAttestation]:
    """Each planned service signed and attached, a few services at once; the results in plan
    order; the first failure (in plan order) raised once every started service has ended."""
    def one(planned: Planned) -> ServiceAttestation:
        return _sign(planned, str(entries[planned.service]["repository"]), session, steps, options)

    workers = max(1, min(options.parallelism, len(plans)))
    if workers == 1:
        return [one(planned) for planned in plans]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="attest") as pool:
        futures = [pool.submit(one, planned) for planned in plans]
    return [future.result() for future in futures]


def _plan(service: str, entry: Mapping[str, Any], options: AttestOptions, steps: AttestSteps) -> Planned:
    repository, digest = str(entry["repository"]), str(entry["digest"])
    labels = steps.labels(repository, digest) if EvidenceKind.PROVENANCE in options.kinds else {}
    scanned = {EvidenceKind.SBOM, EvidenceKind.VULNERABILITIES} & set(options.kinds)
    scan = steps.scan(service, repository, digest) if scanned else None
    return plan_statements(service, entry, run=options.run, labels=labels, scan=scan, sonar=options.sonar,
                           environment=options.environment, kinds=options.kinds)


def _skipped(planned: Planned, result: ServiceAttestation) -> None:
    for kind, why in planned.skipped.items():
        result.kinds.append(KindOutcome(kind, SKIPPED, note=why))


def _dry_run(planned: Planned, entry: Mapping[str, Any], steps: AttestSteps) -> ServiceAttestation:
    """What would be signed: a kind any signer attested with the same claim counts as present
    (the signer is known only once opened, which a dry run does not do)."""
    repository = str(entry["repository"])
    result = ServiceAttestation(planned.service, repository, planned.digest)
    existing = steps.existing(repository, planned.digest)
    for kind, statement in planned.statements.items():
        same = [e for e in existing if same_claim(e.statement, statement, planned.digest)]
        result.kinds.append(KindOutcome(kind, PRESENT, same[0].referrer) if same else KindOutcome(kind, WOULD_SIGN))
    _skipped(planned, result)
    return result


def _sign(planned: Planned, repository: str, session: SigningSession, steps: AttestSteps,
          options: AttestOptions) -> ServiceAttestation:
    result = ServiceAttestation(planned.service, repository, planned.digest)
    existing = [] if options.force else [e for e in steps.existing(repository, planned.digest)
                                         if e.signer == session.identity]
    for kind, statement in planned.statements.items():
        same = [e for e in existing if same_claim(e.statement, statement, planned.digest)]
        if same:
            result.kinds.append(KindOutcome(kind, PRESENT, same[0].referrer, "already attested by this signer"))
            continue
        attached = session.attach(repository, planned.digest, statement, classic=options.classic_tags)
        result.kinds.append(KindOutcome(kind, SIGNED, attached.referrer, attached.via))
        if attached.classic and attached.classic not in result.classic:
            result.classic.append(attached.classic)
        if kind is EvidenceKind.SIGNATURE and options.classic_tags:
            result.classic.append(session.attach_classic_signature(repository, planned.digest))
    _skipped(planned, result)
    return result
