"""Signed evidence in memory: the ports of devops/app/signatures.py (SignatureFinder) and
devops/app/attest.py (labels, existing bundles, a signing session), honest to
devops/adapters/sigstore/attestor.py by tests/contract/test_attestations.py.

A signer is a name (`key:alice`, `keyless:<identity>`); a finder accepts one name, as a policy
accepts one signer: a bundle by anyone else is found with the reason it was not accepted, never
with its statement. `tamper()` breaks a stored bundle's signature."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from devops.domain.attestation.policy import FoundBundle
from devops.domain.attestation.statement import Statement
from devops.errors import HttpError


@dataclass
class Stored:
    referrer: str
    signer: str
    statement: Statement
    intact: bool = True


@dataclass(frozen=True)
class FakeAttachment:
    referrer: str
    via: str = "fallback-tag"
    index_writes: int = 1
    classic: str = ""


@dataclass
class FakeAttestations:
    bundles: dict[tuple[str, str], list[Stored]] = field(default_factory=dict)
    labels_of: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # repositories whose registry answers 500
    classic_tags: list[str] = field(default_factory=list)
    asked: list[str] = field(default_factory=list)

    def _read(self, repository: str, digest: str) -> list[Stored]:
        self.asked.append(f"referrers {repository}@{digest[7:13]}")
        if repository in self.unreadable:
            raise HttpError(f"GET https://{repository.split('/')[0]}/v2/.../referrers/{digest}: HTTP 500")
        return self.bundles.get((repository, digest), [])

    def attach(self, repository: str, digest: str, statement: Statement, signer: str, *,
               classic: bool = False) -> FakeAttachment:
        stored = self.bundles.setdefault((repository, digest), [])
        referrer = "sha256:" + hashlib.sha256(f"{repository}{digest}{len(stored)}{signer}".encode()).hexdigest()
        stored.append(Stored(referrer, signer, statement))
        tag = ""
        if classic:
            tag = f"{digest.replace(':', '-')}.att"
            self.classic_tags.append(tag)
        return FakeAttachment(referrer, classic=tag)

    def tamper(self, repository: str, digest: str, index: int = -1) -> None:
        self.bundles[(repository, digest)][index].intact = False

    def found(self, repository: str, digest: str, accepts: str) -> list[FoundBundle]:
        out = []
        for item in self._read(repository, digest):
            if not item.intact:
                out.append(FoundBundle(item.referrer, item.statement.predicate_type, None,
                                       f"bundle {item.referrer[:19]}…: the signature does not verify"))
            elif item.signer != accepts:
                out.append(FoundBundle(item.referrer, item.statement.predicate_type, None,
                                       f"bundle {item.referrer[:19]}…: signed by {item.signer}, not {accepts}"))
            else:
                out.append(FoundBundle(item.referrer, item.statement.predicate_type, item.statement))
        return out

    def existing(self, repository: str, digest: str) -> list[Stored]:
        return list(self._read(repository, digest))

    def labels(self, repository: str, digest: str) -> dict[str, str]:
        return self.labels_of.get((repository, digest), {})


@dataclass
class FakeFinder:
    """SignatureFinder accepting bundles by one signer."""

    attestations: FakeAttestations
    accepts: str

    def found(self, repository: str, digest: str) -> list[FoundBundle]:
        return self.attestations.found(repository, digest, self.accepts)


@dataclass
class FakeSession:
    """SigningSession: signs as `identity`, stores in `attestations`."""

    attestations: FakeAttestations
    identity: str

    def attach(self, repository: str, digest: str, statement: Statement, *, classic: bool) -> FakeAttachment:
        return self.attestations.attach(repository, digest, statement, self.identity, classic=classic)

    def attach_classic_signature(self, repository: str, digest: str) -> str:
        tag = f"{digest.replace(':', '-')}.sig"
        self.attestations.classic_tags.append(tag)
        return tag


@contextmanager
def session(attestations: FakeAttestations, identity: str) -> Iterator[FakeSession]:
    yield FakeSession(attestations, identity)
