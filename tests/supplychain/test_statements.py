"""The in-toto statements of the release evidence (devops.domain.attestation) over predicates the
real Trivy binary makes (`trivy convert --format cosign-vuln` of a published Trivy report,
`trivy fs --format cyclonedx` of a small project), offline: built, serialised, parsed back, and
refused when failing or when the gate's counts disagree with the signed report. The pure rules
(parsing, subjects, every predicate's shape and verdict) are tested without Trivy in
tests/domain/attestation/."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devops.domain.attestation import (
    EvidenceKind,
    PredicateRefused,
    Statement,
    evidence,
    kind_of,
    parse_statement,
    provenance_statement,
    require_pass,
    sbom_statement,
    signature_statement,
    sonar_statement,
    verification_statement,
    vulnerability_statement,
)
from devops.domain.attestation.predicates import trivy_counts

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
NAME = "docker.io/techitfactory/cart"


def trivy(*args: str, cwd: Path) -> dict[str, Any]:
    env = {**os.environ, "TRIVY_CACHE_DIR": str(cwd / "trivy-cache")}
    run = subprocess.run(["trivy", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


@pytest.fixture(scope="module")
def trivy_vuln(shared_fixtures: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Trivy's cosign-vuln predicate of its own alpine 3.10 report (4 MEDIUM findings)."""
    return trivy("convert", "--format", "cosign-vuln", str(shared_fixtures / "trivy" / "alpine-310.json"),
                 cwd=tmp_path_factory.mktemp("trivy"))


@pytest.fixture(scope="module")
def trivy_bom(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("bom")
    (folder / "app").mkdir()
    (folder / "app" / "package-lock.json").write_text(json.dumps({
        "name": "cart", "version": "1.0.0", "lockfileVersion": 3,
        "packages": {"": {"name": "cart", "version": "1.0.0", "dependencies": {"ms": "2.1.3"}},
                     "node_modules/ms": {"version": "2.1.3"}}}))
    return trivy("fs", "--format", "cyclonedx", "--scanners", "license", "--skip-db-update", "--offline-scan",
                 "-q", "app", cwd=folder)


def roundtrip(statement: Statement) -> Statement:
    return parse_statement(statement.to_json())


def test_every_kind_round_trips_and_reads_back_as_a_pass(trivy_vuln: dict[str, Any], trivy_bom: dict[str, Any]) -> None:
    counts = trivy_counts(trivy_vuln["scanner"]["result"])
    assert counts == {"MEDIUM": 4}
    statements = {
        EvidenceKind.SIGNATURE: signature_statement(DIGEST, name=NAME),
        EvidenceKind.PROVENANCE: provenance_statement(
            DIGEST, name=NAME, repository="techitfactory/techitfactory-shop", commit="0" * 40,
            workflow_path=".github/workflows/release.yml", ref="refs/heads/main", inputs_sha256="sha256:" + "1" * 64,
            builder_id="https://github.com/actions/runner/github-hosted", event_name="push"),
        EvidenceKind.SBOM: sbom_statement(DIGEST, name=NAME, bom=trivy_bom),
        EvidenceKind.VULNERABILITIES: vulnerability_statement(
            DIGEST, name=NAME, predicate=trivy_vuln, verdict="PASSED", counts=counts, threshold="HIGH",
            invocation_uri="https://github.com/techitfactory/techitfactory-shop/actions/runs/1"),
        EvidenceKind.SONAR: sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart", quality_gate="OK"),
        EvidenceKind.VERIFICATION: verification_statement(DIGEST, name=NAME, result="PASSED", environment="dev",
                                                          passed=["health"]),
    }
    for kind, statement in statements.items():
        parsed = roundtrip(statement)
        assert parsed == statement and kind_of(parsed.predicate_type) is kind
        found = require_pass(evidence(parsed, DIGEST, kind))
        assert found.kind is kind and found.digest == DIGEST
    sbom = evidence(roundtrip(statements[EvidenceKind.SBOM]), DIGEST, EvidenceKind.SBOM)
    assert sbom.details["components"] >= 1 and sbom.details["spec_version"] == trivy_bom["specVersion"]
    vuln = evidence(roundtrip(statements[EvidenceKind.VULNERABILITIES]), DIGEST, EvidenceKind.VULNERABILITIES)
    assert vuln.details["scanner"] == trivy_vuln["scanner"]["version"] and vuln.summary == "Trivy PASSED (4 MEDIUM)"


def test_a_failed_scan_is_refused(trivy_vuln: dict[str, Any]) -> None:
    statement = vulnerability_statement(DIGEST, name=NAME, predicate=trivy_vuln, verdict="FAILED",
                                        counts={"MEDIUM": 4}, threshold="MEDIUM")
    found = evidence(roundtrip(statement), DIGEST, EvidenceKind.VULNERABILITIES)
    assert not found.passed
    with pytest.raises(PredicateRefused, match="Trivy FAILED"):
        require_pass(found)


def test_a_passed_gate_over_a_report_that_says_otherwise_is_refused(trivy_vuln: dict[str, Any]) -> None:
    lying = vulnerability_statement(DIGEST, name=NAME, predicate=trivy_vuln, verdict="PASSED", counts={},
                                    threshold="MEDIUM")
    with pytest.raises(PredicateRefused, match="disagree"):
        evidence(roundtrip(lying), DIGEST, EvidenceKind.VULNERABILITIES)
