"""in-toto statements of the release evidence: builders, parsers, subject checks (pure).

See docs/supply-chain.md for what is signed and why; the Sigstore signing, verification and
OCI storage of these statements live in `devops.adapters.sigstore`.
"""

from __future__ import annotations

from devops.domain.attestation.errors import (
    AttestationRefused,
    PredicateRefused,
    StatementInvalid,
    SubjectMismatch,
)
from devops.domain.attestation.predicates import (
    Evidence,
    EvidenceKind,
    evidence,
    kind_of,
    provenance_statement,
    require_pass,
    sbom_statement,
    signature_statement,
    sonar_statement,
    verification_statement,
    vulnerability_statement,
)
from devops.domain.attestation.statement import (
    PAYLOAD_TYPE,
    Statement,
    Subject,
    parse_statement,
    require_subject,
)

__all__ = [
    "PAYLOAD_TYPE",
    "AttestationRefused",
    "Evidence",
    "EvidenceKind",
    "PredicateRefused",
    "Statement",
    "StatementInvalid",
    "Subject",
    "SubjectMismatch",
    "evidence",
    "kind_of",
    "parse_statement",
    "provenance_statement",
    "require_pass",
    "require_subject",
    "sbom_statement",
    "signature_statement",
    "sonar_statement",
    "verification_statement",
    "vulnerability_statement",
]
