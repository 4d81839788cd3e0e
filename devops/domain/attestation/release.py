"""What `devops attest` signs for one released digest: one statement per evidence kind, built
from the release record entry, the image's own inputs label, Trivy's outputs for that digest and
the run that signs (pure).

A kind whose evidence does not exist yet is not signed but skipped with the reason (the
verification before `devops verify` recorded it, provenance of an image devops did not build):
signing is re-run once it exists and adds only what is missing (docs/supply-chain.md, "When").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devops.domain.attestation.errors import AttestationRefused
from devops.domain.attestation.predicates import (
    EvidenceKind,
    provenance_statement,
    sbom_statement,
    signature_statement,
    sonar_statement,
    verification_statement,
    vulnerability_statement,
)
from devops.domain.attestation.statement import Statement

_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
# The label devops puts on every image it builds: the hash of its build inputs
# (devops/domain/images/results.py::oci_labels).
INPUTS_LABEL = "dev.techitfactory.devops.inputs"


@dataclass(frozen=True)
class SigningRun:
    """The run that signs: the workflow in GitHub Actions, or a laptop."""

    repository: str      # owner/name of the source repository
    workflow_path: str   # e.g. .github/workflows/release.yml; "local" on a laptop
    ref: str             # e.g. refs/heads/main
    builder_id: str
    invocation_id: str = ""  # the run's URL
    event_name: str = ""


@dataclass(frozen=True)
class ScanMaterial:
    """Trivy's outputs for one digest: the CycloneDX SBOM and the cosign-vuln predicate, with the
    gate's verdict on the same report."""

    sbom: Mapping[str, Any]
    vulnerabilities: Mapping[str, Any]
    passed: bool
    counts: Mapping[str, int]
    threshold: str


@dataclass(frozen=True)
class SonarProject:
    project_key: str
    server_url: str = ""


@dataclass(frozen=True)
class Planned:
    """The statements to sign for one digest, and the kinds skipped with why."""

    service: str
    digest: str
    statements: dict[EvidenceKind, Statement] = field(default_factory=dict)
    skipped: dict[EvidenceKind, str] = field(default_factory=dict)


def plan_statements(service: str, entry: Mapping[str, Any], *, run: SigningRun, labels: Mapping[str, str],
                    scan: ScanMaterial | None, sonar: SonarProject, environment: str,
                    kinds: tuple[EvidenceKind, ...] = tuple(EvidenceKind)) -> Planned:
    """One statement per kind in `kinds` for the digest of `entry` (a release record entry)."""
    digest, name = str(entry["digest"]), str(entry.get("repository") or "")
    planned = Planned(service, digest)
    builders = {
        EvidenceKind.SIGNATURE: lambda: signature_statement(digest, name=name),
        EvidenceKind.PROVENANCE: lambda: _provenance(digest, name, entry, run, labels),
        EvidenceKind.SBOM: lambda: _sbom(digest, name, scan),
        EvidenceKind.VULNERABILITIES: lambda: _vulnerabilities(digest, name, scan, run),
        EvidenceKind.SONAR: lambda: _sonar(digest, name, entry, sonar),
        EvidenceKind.VERIFICATION: lambda: _verification(digest, name, entry, environment),
    }
    for kind in kinds:
        try:
            planned.statements[kind] = builders[kind]()
        except (_Missing, AttestationRefused) as exc:
            planned.skipped[kind] = str(exc.args[0]) if isinstance(exc, _Missing) else exc.message
    return planned


class _Missing(Exception):
    """The evidence of a kind does not exist (yet): skipped with this reason."""


def _provenance(digest: str, name: str, entry: Mapping[str, Any], run: SigningRun,
                labels: Mapping[str, str]) -> Statement:
    commit = entry.get("source_commit")
    if not isinstance(commit, str) or not _COMMIT.match(commit):
        raise _Missing("the release record names no source commit (released outside a git checkout)")
    inputs = labels.get(INPUTS_LABEL, "")
    if not inputs:
        raise _Missing(f"the image has no {INPUTS_LABEL} label (not built by devops)")
    inputs = inputs if inputs.startswith("sha256:") else f"sha256:{inputs}"
    return provenance_statement(digest, name=name, repository=run.repository, commit=commit,
                                workflow_path=run.workflow_path, ref=run.ref, inputs_sha256=inputs,
                                builder_id=run.builder_id, invocation_id=run.invocation_id,
                                event_name=run.event_name)


def _sbom(digest: str, name: str, scan: ScanMaterial | None) -> Statement:
    if scan is None:
        raise _Missing("no Trivy report for this digest")
    return sbom_statement(digest, name=name, bom=scan.sbom)


def _vulnerabilities(digest: str, name: str, scan: ScanMaterial | None, run: SigningRun) -> Statement:
    if scan is None:
        raise _Missing("no Trivy report for this digest")
    return vulnerability_statement(digest, name=name, predicate=scan.vulnerabilities,
                                   verdict="PASSED" if scan.passed else "FAILED", counts=scan.counts,
                                   threshold=scan.threshold, invocation_uri=run.invocation_id,
                                   builder_id=run.builder_id)


def _sonar(digest: str, name: str, entry: Mapping[str, Any], project: SonarProject) -> Statement:
    sonar = entry.get("sonar")
    if not isinstance(sonar, Mapping) or not sonar.get("verdict"):
        raise _Missing("the release record has no Sonar verdict")
    return sonar_statement(digest, name=name, verdict=str(sonar["verdict"]), project_key=project.project_key,
                           quality_gate=str(sonar.get("status") or ""),
                           server_url=project.server_url if sonar["verdict"] != "SKIPPED" else "",
                           reason=str(sonar.get("reason") or ""), checked_at=str(sonar.get("checked_at") or ""))


def _verification(digest: str, name: str, entry: Mapping[str, Any], environment: str) -> Statement:
    verification = entry.get("verification")
    if not isinstance(verification, Mapping) or not verification.get("verdict"):
        raise _Missing(f"not verified yet: run `devops verify --env {environment}`, then `devops attest "
                       f"--env {environment}` again")
    if verification.get("digest") != digest:
        raise _Missing(f"the recorded verification is not of this digest: run `devops verify --env {environment}`")
    failing = verification.get("failing") or []
    return verification_statement(digest, name=name, result=str(verification["verdict"]),
                                  environment=str(verification.get("environment") or environment),
                                  failed=[str(f) for f in failing] if isinstance(failing, list) else [])
