"""What `devops attest` plans to sign for a release record entry (pure): a statement per kind,
or the kind skipped with the reason when its evidence does not exist yet."""

from __future__ import annotations

from typing import Any

import pytest

from devops.domain.attestation.predicates import EvidenceKind, evidence
from devops.domain.attestation.release import INPUTS_LABEL, ScanMaterial, SigningRun, SonarProject, plan_statements

DIGEST = "sha256:" + "a" * 64
COMMIT = "1234567890abcdef1234567890abcdef12345678"
RUN = SigningRun("o/r", ".github/workflows/release.yml", "refs/heads/main",
                 "https://github.com/actions/runner/github-hosted", "https://github.com/o/r/actions/runs/7/attempts/1",
                 "push")
SCAN = ScanMaterial(sbom={"bomFormat": "CycloneDX", "specVersion": "1.6", "components": []},
                    vulnerabilities={"scanner": {"version": "0.76.0", "result": {
                        "Results": [{"Vulnerabilities": [{"Severity": "MEDIUM"}]}]}}, "metadata": {}},
                    passed=True, counts={"CRITICAL": 0, "MEDIUM": 1}, threshold="CRITICAL,HIGH")
LABELS = {INPUTS_LABEL: "b" * 64}


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "repository": "docker.io/shop/cart", "digest": DIGEST, "source_commit": COMMIT,
        "scan": {"verdict": "PASSED"},
        "sonar": {"verdict": "PASSED", "status": "OK", "checked_at": "2026-11-25T10:00:00Z"},
        "verification": {"verdict": "PASSED", "digest": DIGEST, "environment": "dev", "failing": []},
    }
    base.update(changes)
    return base


def plan(scan: ScanMaterial | None = SCAN, labels: dict[str, str] | None = None, **changes: Any):  # type: ignore[no-untyped-def]
    return plan_statements("cart", entry(**changes), run=RUN, labels=LABELS if labels is None else labels, scan=scan,
                           sonar=SonarProject("shop_cart", "https://sonarcloud.io"), environment="dev")


def test_every_kind_is_planned_from_the_record_the_labels_and_trivy() -> None:
    planned = plan()
    assert set(planned.statements) == set(EvidenceKind) and not planned.skipped
    read = {k: evidence(s, DIGEST, k) for k, s in planned.statements.items()}
    assert all(r.passed for r in read.values())
    assert read[EvidenceKind.PROVENANCE].details["inputs_sha256"] == "sha256:" + "b" * 64
    assert read[EvidenceKind.PROVENANCE].details["commit"] == COMMIT
    assert read[EvidenceKind.VULNERABILITIES].details["counts"] == {"MEDIUM": 1}
    assert planned.statements[EvidenceKind.VULNERABILITIES].predicate["invocation"]["uri"] == RUN.invocation_id
    assert planned.statements[EvidenceKind.SONAR].predicate["serverUrl"] == "https://sonarcloud.io"
    assert planned.statements[EvidenceKind.SONAR].predicate["qualityGate"] == "OK"


def test_a_sonar_skipped_names_no_server_and_a_prefixed_label_is_kept() -> None:
    planned = plan(labels={INPUTS_LABEL: "sha256:" + "c" * 64}, sonar={"verdict": "SKIPPED", "reason": "no token"})
    assert "serverUrl" not in planned.statements[EvidenceKind.SONAR].predicate
    assert planned.statements[EvidenceKind.SONAR].predicate["reason"] == "no token"
    assert evidence(planned.statements[EvidenceKind.PROVENANCE], DIGEST,
                    EvidenceKind.PROVENANCE).details["inputs_sha256"] == "sha256:" + "c" * 64


@pytest.mark.parametrize(("kwargs", "kind", "why"), [
    ({"verification": None}, EvidenceKind.VERIFICATION, "not verified yet: run `devops verify --env dev`"),
    ({"verification": {"verdict": "PASSED", "digest": "sha256:" + "f" * 64}}, EvidenceKind.VERIFICATION,
     "not of this digest"),
    ({"source_commit": None}, EvidenceKind.PROVENANCE, "names no source commit"),
    ({"labels": {}}, EvidenceKind.PROVENANCE, "no dev.techitfactory.devops.inputs label"),
    ({"labels": {INPUTS_LABEL: "not-a-hash"}}, EvidenceKind.PROVENANCE, "inputs hash"),
    ({"sonar": None}, EvidenceKind.SONAR, "no Sonar verdict"),
], ids=["unverified", "verified-other", "no-commit", "no-label", "bad-label", "no-sonar"])
def test_a_kind_without_its_evidence_is_skipped_with_why(kwargs: dict[str, Any], kind: EvidenceKind, why: str) -> None:
    planned = plan(**kwargs)
    assert kind not in planned.statements and why in planned.skipped[kind]
    assert len(planned.statements) == len(EvidenceKind) - 1


def test_without_a_trivy_report_sbom_and_vulnerabilities_are_skipped() -> None:
    planned = plan(scan=None)
    assert planned.skipped == {EvidenceKind.SBOM: "no Trivy report for this digest",
                               EvidenceKind.VULNERABILITIES: "no Trivy report for this digest"}


def test_a_failed_verification_and_scan_are_signed_as_they_are() -> None:
    failing = ScanMaterial(SCAN.sbom, SCAN.vulnerabilities, False, {"MEDIUM": 1}, "MEDIUM")
    planned = plan(scan=failing, verification={"verdict": "FAILED", "digest": DIGEST, "failing": ["cart: up 0"]})
    assert not evidence(planned.statements[EvidenceKind.VULNERABILITIES], DIGEST, EvidenceKind.VULNERABILITIES).passed
    verified = evidence(planned.statements[EvidenceKind.VERIFICATION], DIGEST, EvidenceKind.VERIFICATION)
    assert not verified.passed and verified.details["failed"] == ["cart: up 0"]


def test_only_the_asked_kinds_are_planned() -> None:
    planned = plan_statements("cart", entry(), run=RUN, labels={}, scan=None, sonar=SonarProject("p"),
                              environment="dev", kinds=(EvidenceKind.SIGNATURE,))
    assert list(planned.statements) == [EvidenceKind.SIGNATURE] and not planned.skipped
