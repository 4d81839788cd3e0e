"""What `devops attest` and `devops verify-signatures` found and did: the result types
devops/report/signatures.py renders (console, job summary and the `--json` models)."""

from __future__ import annotations

from dataclasses import dataclass, field

from devops.domain.attestation.policy import SignatureCheck
from devops.domain.attestation.predicates import EvidenceKind

SIGNED, PRESENT, SKIPPED, WOULD_SIGN = "signed", "present", "skipped", "would-sign"


@dataclass(frozen=True)
class KindOutcome:
    kind: EvidenceKind
    status: str              # signed, present (already attested), skipped (no evidence yet), would-sign
    referrer: str = ""       # the bundle written, or the one already there
    note: str = ""           # why skipped; how it was stored


@dataclass
class ServiceAttestation:
    service: str
    repository: str
    digest: str
    kinds: list[KindOutcome] = field(default_factory=list)
    classic: list[str] = field(default_factory=list)  # classic tags written


@dataclass
class AttestReport:
    environment: str
    method: str              # keyless or key
    dry_run: bool = False
    signer: str = ""         # the certificate identity or key:<hint> ("" when nothing was signed)
    services: list[ServiceAttestation] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for s in self.services for k in s.kinds if k.status == status)


@dataclass
class SignaturesReport:
    """`devops verify-signatures`: what each running digest's bundles prove under a policy."""

    environment: str
    policy_environment: str  # whose `signatures` policy was applied
    policy: str
    checks: list[SignatureCheck] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # service -> why not checked

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)
