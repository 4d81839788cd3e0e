"""Which signed evidence a promotion accepts, and how the bundles found for a digest are judged
(pure: the signature checks themselves are done by devops/adapters/sigstore; this module takes
their outcome).

A policy names exactly one kind of signer, never both: a keyless identity (OIDC issuer, the
release workflow and ref as certificate identity, the repository) or one public key (local and
demo use). It requires a set of evidence kinds. For each required kind one bundle must have
verified for that signer, be about the digest checked, state a pass and agree with the release
record of the digest (the same Sonar verdict, a PASSED scan, a PASSED verification of that very
digest, the recorded source commit). Anything else is a refusal naming the kind and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devops.domain.attestation.errors import AttestationRefused
from devops.domain.attestation.predicates import Evidence, EvidenceKind, evidence, kind_of
from devops.domain.attestation.statement import Statement

PASSED, SKIPPED = "PASSED", "SKIPPED"
ALL_KINDS: tuple[EvidenceKind, ...] = tuple(EvidenceKind)


@dataclass(frozen=True)
class KeylessIdentity:
    """Who may have signed, keyless: the certificate's OIDC issuer and identity (SAN), exactly."""

    issuer: str
    identity: str
    repository: str | None = None  # owner/name, checked on the certificate's extensions too

    def describe(self) -> str:
        repo = f", repository {self.repository}" if self.repository else ""
        return f"identity {self.identity} from {self.issuer}{repo}"


@dataclass(frozen=True)
class NamedKey:
    """One public key the policy names (a file); only bundles signed by it are accepted."""

    name: str

    def describe(self) -> str:
        return f"key {self.name}"


@dataclass(frozen=True)
class SignaturePolicy:
    required: tuple[EvidenceKind, ...]
    keyless: KeylessIdentity | None = None
    key: NamedKey | None = None
    # A Sonar verdict SKIPPED (not configured) is accepted when the evidence policy accepts it
    # in the record (`evidence.require_sonar: false`); the attestation must then say SKIPPED too.
    allow_skipped_sonar: bool = True

    def __post_init__(self) -> None:
        if (self.keyless is None) == (self.key is None):
            raise ValueError("a signature policy names exactly one of a keyless identity and a key")
        if not self.required:
            raise ValueError("a signature policy requires at least one evidence kind")

    def describe(self) -> str:
        return self.keyless.describe() if self.keyless else self.key.describe()  # type: ignore[union-attr]


def required_kinds(configured: Sequence[str] | None, *, verification_required: bool) -> tuple[EvidenceKind, ...]:
    """The kinds a policy requires: the configured ones (in the documented order), or every kind
    when unset, the verification only when promotion requires one in the record."""
    if configured is None:
        return tuple(k for k in ALL_KINDS if k is not EvidenceKind.VERIFICATION or verification_required)
    wanted = set(configured)
    unknown = sorted(wanted - {k.value for k in ALL_KINDS})
    if unknown:
        known = ", ".join(k.value for k in ALL_KINDS)
        raise ValueError(f"unknown evidence kind(s) {', '.join(unknown)}; known: {known}")
    return tuple(k for k in ALL_KINDS if k.value in wanted)


@dataclass(frozen=True)
class FoundBundle:
    """One bundle that refers to a digest, after its signature was checked against the policy's
    signer: `statement` is what it signs, or None with `problem` saying why it is not usable."""

    referrer: str            # digest of the referrer manifest (or the tag it was found under)
    predicate_type: str = ""  # as the referrer's annotation says (unverified: only for messages)
    statement: Statement | None = None
    problem: str = ""


@dataclass(frozen=True)
class KindCheck:
    kind: EvidenceKind
    referrer: str = ""   # the bundle that satisfied the kind
    summary: str = ""
    problem: str = ""    # why no bundle satisfied it

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass(frozen=True)
class SignatureCheck:
    """What the bundles of one digest prove under one policy."""

    service: str
    digest: str
    kinds: tuple[KindCheck, ...]
    policy: str  # the policy, described

    @property
    def ok(self) -> bool:
        return all(k.ok for k in self.kinds)

    @property
    def failing(self) -> list[KindCheck]:
        return [k for k in self.kinds if not k.ok]

    def refusal(self) -> str:
        """One clause naming the service, the digest and each missing or failing attestation."""
        return f"{self.service} {self.digest}: " + "; ".join(f"{k.kind.value}: {k.problem}" for k in self.failing)

    def record_block(self) -> dict[str, Any]:
        """What the release record keeps after a promotion: which bundles were verified, for whom."""
        return {"verdict": PASSED, "policy": self.policy,
                "bundles": {k.kind.value: k.referrer for k in self.kinds}}


def judge(service: str, digest: str, found: Sequence[FoundBundle], policy: SignaturePolicy,
          entry: Mapping[str, Any] | None) -> SignatureCheck:
    """Judge the bundles found for `digest` (fail closed): every required kind needs one bundle
    that verified, is about `digest`, passes and agrees with `entry` (the digest's release record
    entry; None when the record has none for it)."""
    checks = tuple(_judge_kind(kind, digest, found, policy, entry) for kind in policy.required)
    return SignatureCheck(service, digest, checks, policy.describe())


def _judge_kind(kind: EvidenceKind, digest: str, found: Sequence[FoundBundle], policy: SignaturePolicy,
                entry: Mapping[str, Any] | None) -> KindCheck:
    problems: list[str] = []
    for bundle in found:
        if bundle.statement is None:
            if kind_of(bundle.predicate_type) is kind:
                problems.append(bundle.problem or f"bundle {_short(bundle.referrer)} could not be used")
            continue
        if kind_of(bundle.statement.predicate_type) is not kind:
            continue
        try:
            read = evidence(bundle.statement, digest, kind)
        except AttestationRefused as exc:
            problems.append(f"bundle {_short(bundle.referrer)}: {exc.message}")
            continue
        problem = _pass_problem(read, policy, entry) or _agreement_problem(read, entry)
        if problem:
            problems.append(f"bundle {_short(bundle.referrer)}: {problem}")
            continue
        return KindCheck(kind, bundle.referrer, read.summary)
    if not problems:
        return KindCheck(kind, problem=f"no {kind.value} attestation signed by {policy.describe()}")
    return KindCheck(kind, problem="; ".join(dict.fromkeys(problems)))


def _pass_problem(read: Evidence, policy: SignaturePolicy, entry: Mapping[str, Any] | None) -> str:
    if read.passed:
        return ""
    if read.kind is EvidenceKind.SONAR and read.details.get("verdict") == SKIPPED and policy.allow_skipped_sonar:
        return ""  # the record must say SKIPPED as well (agreement, below)
    return f"states {read.summary}"


def _agreement_problem(read: Evidence, entry: Mapping[str, Any] | None) -> str:
    """Why the attestation disagrees with the release record; empty when it agrees."""
    kind = read.kind
    if kind in (EvidenceKind.SIGNATURE, EvidenceKind.SBOM):
        return ""  # nothing in the record to compare with
    if entry is None:
        return "the release record has no entry for this digest to compare with"
    if kind is EvidenceKind.PROVENANCE:
        recorded = entry.get("source_commit")
        if isinstance(recorded, str) and recorded and read.details.get("commit") != recorded:
            return f"built from commit {str(read.details.get('commit'))[:12]}, the record says {recorded[:12]}"
        return ""
    if kind is EvidenceKind.VULNERABILITIES:
        return _same_verdict("scan", _verdict(entry.get("scan")), PASSED)
    if kind is EvidenceKind.SONAR:
        return _same_verdict("Sonar", _verdict(entry.get("sonar")), str(read.details.get("verdict")))
    verification = entry.get("verification")
    problem = _same_verdict("verification", _verdict(verification), PASSED)
    if not problem and isinstance(verification, Mapping) and verification.get("digest") != read.digest:
        problem = "the recorded verification is not of this digest"
    return problem


def _same_verdict(what: str, recorded: str | None, attested: str) -> str:
    if recorded == attested:
        return ""
    return f"attests {what} {attested}, the release record says {recorded or 'nothing'}"


def _verdict(block: Any) -> str | None:
    value = block.get("verdict") if isinstance(block, Mapping) else None
    return str(value) if value is not None else None


def same_claim(existing: Statement, new: Statement, digest: str) -> bool:
    """Whether `existing` already attests what `new` would (same kind, about `digest`, the same
    verdict and facts), so signing `new` again would add nothing. Volatile parts (run ids, scan
    times) do not count; an unreadable `existing` never counts."""
    kind = kind_of(new.predicate_type)
    if kind is None or kind_of(existing.predicate_type) is not kind:
        return False
    try:
        old, fresh = evidence(existing, digest, kind), evidence(new, digest, kind)
    except AttestationRefused:
        return False
    return (old.passed, dict(old.details)) == (fresh.passed, dict(fresh.details))


def _short(digest: str) -> str:
    return digest[:19] + "…" if digest.startswith("sha256:") else digest
