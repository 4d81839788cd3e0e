"""The in-toto statements of the release evidence (devops.domain.attestation): built, serialised,
parsed back and refused when about another digest, of another type, malformed or failing. The
Trivy predicates are made by the real Trivy binary (`trivy convert --format cosign-vuln` of a
published Trivy report, `trivy fs --format cyclonedx` of a small project), offline."""

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
    StatementInvalid,
    Subject,
    SubjectMismatch,
    evidence,
    kind_of,
    parse_statement,
    provenance_statement,
    require_pass,
    require_subject,
    sbom_statement,
    signature_statement,
    sonar_statement,
    verification_statement,
    vulnerability_statement,
)
from devops.domain.attestation.predicates import trivy_counts
from devops.errors import ExitCode

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


def test_the_payload_is_canonical() -> None:
    statement = sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart")
    assert statement.to_json() == json.dumps(json.loads(statement.to_json()), sort_keys=True,
                                             separators=(",", ":")).encode()
    assert json.loads(statement.to_json())["_type"] == "https://in-toto.io/Statement/v1"


def test_a_statement_about_another_digest_is_refused() -> None:
    statement = sonar_statement(OTHER, name=NAME, verdict="PASSED", project_key="cart")
    with pytest.raises(SubjectMismatch, match=OTHER[:19]) as refused:
        evidence(statement, DIGEST, EvidenceKind.SONAR)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    require_subject(statement, OTHER)  # control


def test_a_statement_of_another_type_is_refused() -> None:
    with pytest.raises(PredicateRefused, match="expected a vulnerabilities attestation"):
        evidence(sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart"), DIGEST,
                 EvidenceKind.VULNERABILITIES)


@pytest.mark.parametrize("statement,message", [
    (lambda v: vulnerability_statement(DIGEST, name=NAME, predicate=v, verdict="FAILED", counts={"MEDIUM": 4},
                                       threshold="MEDIUM"), "Trivy FAILED"),
    (lambda v: sonar_statement(DIGEST, name=NAME, verdict="SKIPPED", project_key="cart",
                               reason="SONAR_TOKEN not set"), "Sonar SKIPPED: SONAR_TOKEN not set"),
    (lambda v: verification_statement(DIGEST, name=NAME, result="FAILED", environment="dev",
                                      failed=["slo-availability"]), "slo-availability"),
], ids=["scan-failed", "sonar-skipped", "verification-failed"])
def test_a_verdict_that_is_not_a_pass_is_refused(trivy_vuln: dict[str, Any], statement, message: str) -> None:  # type: ignore[no-untyped-def]
    found = evidence(roundtrip(statement(trivy_vuln)), DIGEST, kind_of(statement(trivy_vuln).predicate_type))  # type: ignore[arg-type]
    assert not found.passed
    with pytest.raises(PredicateRefused, match=message):
        require_pass(found)


def test_a_passed_gate_over_a_report_that_says_otherwise_is_refused(trivy_vuln: dict[str, Any]) -> None:
    lying = vulnerability_statement(DIGEST, name=NAME, predicate=trivy_vuln, verdict="PASSED", counts={},
                                    threshold="MEDIUM")
    with pytest.raises(PredicateRefused, match="disagree"):
        evidence(roundtrip(lying), DIGEST, EvidenceKind.VULNERABILITIES)


@pytest.mark.parametrize("payload,message", [
    (b"not json", "not JSON"),
    (b"[]", "expected a JSON object"),
    (json.dumps({"_type": "https://example.com/Statement", "subject": [], "predicateType": "x"}).encode(), "_type"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha1": "ab"}}],
                 "predicateType": "x"}).encode(), "sha256"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "AB" * 32}}],
                 "predicateType": "x"}).encode(), "sha256"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [], "predicateType": "x"}).encode(), "subject"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": "ab" * 32}}],
                 "predicateType": "x", "predicate": []}).encode(), "predicate"),
], ids=["garbage", "array", "unknown-type", "no-sha256", "uppercase-hex", "no-subject", "predicate-array"])
def test_malformed_statements_are_refused(payload: bytes, message: str) -> None:
    with pytest.raises(StatementInvalid, match=message) as refused:
        parse_statement(payload)
    assert refused.value.exit_code == ExitCode.GATE_FAILED


def test_another_payload_type_is_refused() -> None:
    statement = signature_statement(DIGEST, name=NAME)
    with pytest.raises(StatementInvalid, match="payload type"):
        parse_statement(statement.to_json(), payload_type="text/plain")
    assert parse_statement(statement.to_json()) == statement  # control


@pytest.mark.parametrize("predicate,message", [
    ({"buildDefinition": {"externalParameters": {"workflow": {}}, "resolvedDependencies": []}}, "source commit"),
    ({"buildDefinition": "x"}, "buildDefinition must be an object"),
], ids=["no-commit", "not-an-object"])
def test_malformed_provenance_is_refused(predicate: dict[str, Any], message: str) -> None:
    statement = Statement((Subject(DIGEST, NAME),), "https://slsa.dev/provenance/v1", predicate)
    with pytest.raises(PredicateRefused, match=message):
        evidence(statement, DIGEST, EvidenceKind.PROVENANCE)


def test_a_predicate_that_is_not_cyclonedx_is_refused() -> None:
    with pytest.raises(PredicateRefused, match="CycloneDX"):
        sbom_statement(DIGEST, name=NAME, bom={"spdxVersion": "SPDX-2.3"})


def test_versioned_cyclonedx_predicate_types_count_as_sbom() -> None:
    assert kind_of("https://cyclonedx.org/bom/v1.6") is EvidenceKind.SBOM
    assert kind_of("https://example.com/whatever") is None


def test_a_subject_digest_must_be_sha256_hex() -> None:
    with pytest.raises(StatementInvalid):
        Subject("sha256:" + "z" * 64)
    with pytest.raises(StatementInvalid):
        signature_statement("latest", name=NAME)
