"""in-toto Statement v1: the signed document of every attestation (pure: no I/O).

A statement binds a predicate (what is claimed) to subjects (the artifacts it is about, by
digest). The bytes signed are `to_json()`: compact JSON with sorted keys, so the same statement
always gives the same payload. Parsing trusts nothing: the payload type, `_type`, every subject
digest and the predicate's shape are checked, and a statement is only accepted for a digest it
names (`require_subject`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devops.domain.attestation.errors import StatementInvalid, SubjectMismatch

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
# Older producers (cosign before v2.x attest, Trivy's examples) still write v0.1; same shape.
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
_KNOWN_TYPES = (STATEMENT_V1, STATEMENT_V01)
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
# A statement is small; a bigger payload is refused before json.loads sees it (an SBOM of a
# large image is a few MiB, far below this).
MAX_PAYLOAD_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Subject:
    """An artifact by digest (`sha256:<hex>`); `name` is optional (cosign writes none)."""

    digest: str
    name: str = ""

    def __post_init__(self) -> None:
        if not DIGEST.match(self.digest):
            raise StatementInvalid(f"subject digest {self.digest[:80]!r}: expected sha256:<64 hex>")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"digest": {"sha256": self.digest.removeprefix("sha256:")}}
        if self.name:
            out["name"] = self.name
        return out


@dataclass(frozen=True)
class Statement:
    subjects: tuple[Subject, ...]
    predicate_type: str
    predicate: Mapping[str, Any] = field(default_factory=dict)
    statement_type: str = STATEMENT_V1

    def __post_init__(self) -> None:
        if not self.subjects:
            raise StatementInvalid("a statement needs at least one subject")
        if not self.predicate_type:
            raise StatementInvalid("a statement needs a predicateType")

    def to_dict(self) -> dict[str, Any]:
        return {
            "_type": self.statement_type,
            "subject": [s.to_dict() for s in self.subjects],
            "predicateType": self.predicate_type,
            "predicate": dict(self.predicate),
        }

    def to_json(self) -> bytes:
        """The payload to sign: compact, sorted keys, UTF-8."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(s.digest for s in self.subjects)

    def names(self, digest: str) -> bool:
        return digest in self.digests


def parse_statement(payload: bytes, *, payload_type: str = PAYLOAD_TYPE) -> Statement:
    """The statement in a DSSE payload; `StatementInvalid` (exit 1) naming what is wrong."""
    if payload_type != PAYLOAD_TYPE:
        raise StatementInvalid(f"payload type {payload_type[:80]!r} is not an in-toto statement ({PAYLOAD_TYPE})")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise StatementInvalid(f"statement of {len(payload)} bytes is over the {MAX_PAYLOAD_BYTES}-byte limit")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StatementInvalid(f"statement is not JSON: {exc}") from None
    return statement_from_dict(data)


def statement_from_dict(data: Any) -> Statement:
    if not isinstance(data, dict):
        raise StatementInvalid(f"statement: expected a JSON object, got {type(data).__name__}")
    kind = data.get("_type")
    if kind not in _KNOWN_TYPES:
        raise StatementInvalid(f"statement _type {str(kind)[:80]!r} is not one of {', '.join(_KNOWN_TYPES)}")
    predicate_type = data.get("predicateType")
    if not isinstance(predicate_type, str) or not predicate_type:
        raise StatementInvalid("statement has no predicateType")
    predicate = data.get("predicate", {})
    if predicate is None:
        predicate = {}
    if not isinstance(predicate, dict):
        raise StatementInvalid(f"statement predicate: expected an object, got {type(predicate).__name__}")
    raw_subjects = data.get("subject")
    if not isinstance(raw_subjects, list) or not raw_subjects:
        raise StatementInvalid("statement has no subject")
    subjects = []
    for index, item in enumerate(raw_subjects):
        if not isinstance(item, dict) or not isinstance(item.get("digest"), dict):
            raise StatementInvalid(f"statement subject[{index}]: expected an object with a digest")
        hex_digest = item["digest"].get("sha256")
        if not isinstance(hex_digest, str) or not _HEX.match(hex_digest):
            raise StatementInvalid(f"statement subject[{index}]: no sha256 digest of 64 lowercase hex")
        name = item.get("name", "")
        subjects.append(Subject(digest=f"sha256:{hex_digest}", name=name if isinstance(name, str) else ""))
    return Statement(tuple(subjects), predicate_type, predicate, statement_type=kind)


def require_subject(statement: Statement, digest: str) -> None:
    """Refuse a statement that is not about `digest` (an attestation for another image)."""
    if not statement.names(digest):
        found = ", ".join(d[:19] + "…" for d in statement.digests)
        raise SubjectMismatch(f"the {statement.predicate_type} statement is about {found}, not {digest}")
