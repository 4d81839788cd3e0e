"""The signing and signature-checking use cases on in-memory fakes: the GitOps remote of the
release tests (tests/app/release/conftest.py) and the attestations of tests/fakes/attestations.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from devops.app.gitops_publish import GitOpsSession
from devops.app.release import ScanOutcome
from devops.domain.attestation.release import INPUTS_LABEL, ScanMaterial
from tests.app.release.conftest import (
    DIGEST_A,
    DIGEST_B,
    RECORD,
    REPOSITORY,
    SERVICES,
    VALUES,
    Gitops,
    entry,
    record_text,
    values_text,
)
from tests.fakes.attestations import FakeAttestations, FakeSession, session

KEYLESS = "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main"
SCAN = ScanMaterial(sbom={"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "zlib"}]},
                    vulnerabilities={"scanner": {"version": "0.76.0", "result": {"Results": []}}, "metadata": {}},
                    passed=True, counts={}, threshold="CRITICAL,HIGH")

__all__ = ["DIGEST_A", "DIGEST_B", "KEYLESS", "RECORD", "REPOSITORY", "SCAN", "Gitops", "Steps", "entry", "released"]


@dataclass
class Steps:
    """AttestSteps, PromotionSteps and SignatureSteps in memory, recording what was asked."""

    gitops: Gitops
    attestations: FakeAttestations = field(default_factory=FakeAttestations)
    identity: str = KEYLESS
    asked: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)  # signer sessions opened

    # -- shared
    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        self.asked.append(f"open {environment}")
        with self.gitops.open_repo(environment) as repo:
            yield repo

    def repository(self, service: str) -> str | None:
        return REPOSITORY.format(service=service) if service in SERVICES else None

    # -- attest
    def labels(self, repository: str, digest: str) -> dict[str, str]:
        self.asked.append(f"labels {digest[7:10]}")
        return self.attestations.labels(repository, digest) or {INPUTS_LABEL: "sha256:" + "1" * 64}

    def scan(self, service: str, repository: str, digest: str) -> ScanMaterial:
        self.asked.append(f"scan {service}")
        return SCAN

    def existing(self, repository: str, digest: str) -> list[Any]:
        return self.attestations.existing(repository, digest)

    def signer(self) -> AbstractContextManager[FakeSession]:
        self.opened.append(self.identity)
        return session(self.attestations, self.identity)

    # -- promotion
    def released_by(self) -> dict[str, Any]:
        return {"actor": "alice", "via": "cli", "run_url": None}

    def registry_has(self, repository: str, digest: str) -> bool:
        return True

    def rescan(self, service: str, repository: str, digest: str) -> ScanOutcome:
        raise AssertionError("no rescan expected")


def released(gitops: Gitops, env: str, verified: bool = True, **digests: str) -> None:
    """`env` runs `digests` with passing evidence, and a verification of each when `verified`."""
    files = {VALUES.format(env=env, service=s): values_text(s, f"sha-{d[7:14]}", d) for s, d in digests.items()}
    entries = {s: entry(s, d, **({"verification": {"verdict": "PASSED", "verified_at": "2026-11-25T11:00:00Z",
                                                   "digest": d, "environment": env, "failing": []}}
                                 if verified else {})) for s, d in digests.items()}
    files[RECORD.format(env=env)] = record_text(env, **entries)
    gitops.remote.land("main", files, f"release({env})")


def record_of(gitops: Gitops, env: str) -> dict[str, Any]:
    return json.loads(gitops.file(RECORD.format(env=env)) or "{}")  # type: ignore[no-any-return]


@pytest.fixture
def gitops() -> Gitops:
    return Gitops()


@pytest.fixture
def steps(gitops: Gitops) -> Steps:
    return Steps(gitops)
