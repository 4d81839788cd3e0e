"""The statements and predicates read back without trusting them (pure; the Trivy-made
predicates and the round trips through real tools are in tests/supplychain/test_statements.py):
every malformed field is a refusal naming it, never a crash."""

from __future__ import annotations

import json
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
    verification_statement,
    vulnerability_statement,
)
from devops.domain.attestation.predicates import CYCLONEDX_BOM, trivy_counts

DIGEST = "sha256:" + "a" * 64
HEX = "a" * 64


def stmt(kind: EvidenceKind, predicate: dict[str, Any]) -> Statement:
    return Statement((Subject(DIGEST, "n"),), kind.predicate_type, predicate)


def test_kind_of_knows_the_versioned_cyclonedx_type_and_nothing_else() -> None:
    assert kind_of(CYCLONEDX_BOM + "/v1.6") is EvidenceKind.SBOM
    assert kind_of("https://example.com/x") is None


def test_builders_refuse_bad_values() -> None:
    with pytest.raises(PredicateRefused, match="not a hex commit"):
        provenance_statement(DIGEST, name="n", repository="o/r", commit="main", workflow_path="w", ref="r",
                             inputs_sha256="sha256:" + HEX, builder_id="b")
    with pytest.raises(PredicateRefused, match="expected sha256"):
        provenance_statement(DIGEST, name="n", repository="o/r", commit="abcdef1", workflow_path="w", ref="r",
                             inputs_sha256="abc", builder_id="b")
    with pytest.raises(PredicateRefused, match="not a cosign-vuln predicate"):
        vulnerability_statement(DIGEST, name="n", predicate={}, verdict="PASSED", counts={}, threshold="HIGH")
    made = verification_statement(DIGEST, name="n", result="PASSED", environment="dev", url="https://ci/run/1")
    assert made.predicate["url"] == "https://ci/run/1"


def test_evidence_refuses_another_type_and_require_pass_a_failure() -> None:
    sonar = stmt(EvidenceKind.SONAR, {"verdict": "FAILED"})
    with pytest.raises(PredicateRefused, match="expected a sbom attestation"):
        evidence(sonar, DIGEST, EvidenceKind.SBOM)
    with pytest.raises(PredicateRefused, match="sonar attestation of sha256:a+: Sonar FAILED"):
        require_pass(evidence(sonar, DIGEST, EvidenceKind.SONAR))


@pytest.mark.parametrize(("kind", "predicate", "why"), [
    (EvidenceKind.PROVENANCE, {"buildDefinition": {"externalParameters": {"workflow": {}},
                                                   "resolvedDependencies": ["x", {"digest": "y"}]}}, "no source commit"),
    (EvidenceKind.PROVENANCE, {"buildDefinition": {"externalParameters": {"workflow": {}},
                                                   "resolvedDependencies": "x"}}, "no source commit"),
    (EvidenceKind.PROVENANCE, {"buildDefinition": []}, "buildDefinition must be an object"),
    (EvidenceKind.VULNERABILITIES, {"gate": {"verdict": "PASSED", "counts": {"HIGH": -1}}}, "gate.counts"),
    (EvidenceKind.VULNERABILITIES, {"gate": {"verdict": "PASSED", "counts": []}}, "gate.counts"),
    (EvidenceKind.VULNERABILITIES, {"gate": {"verdict": "PASSED"}}, "no scanner"),
    (EvidenceKind.VULNERABILITIES, {"gate": {"verdict": "MAYBE"}}, "verdict 'MAYBE' is not one of PASSED, FAILED"),
    (EvidenceKind.VULNERABILITIES, {"gate": {"verdict": "PASSED", "counts": {}},
                                    "scanner": {"result": {"Results": [{"Vulnerabilities": [{"Severity": "HIGH"}]}]}}},
     "disagree with the signed Trivy result"),
    (EvidenceKind.VERIFICATION, {"result": "PASSED", "failedTests": "x"}, "failedTests must be a list"),
    (EvidenceKind.SBOM, {"bomFormat": "SPDX"}, "not a CycloneDX document"),
    (EvidenceKind.SBOM, {"bomFormat": "CycloneDX"}, "no specVersion"),
    (EvidenceKind.SBOM, {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {}}, "components must be a list"),
], ids=["deps-odd", "deps-not-list", "definition", "negative-count", "counts-list", "no-scanner", "verdict",
        "recount", "failed-tests", "spdx", "no-spec", "components"])
def test_malformed_predicates_are_refused_naming_the_field(kind: EvidenceKind, predicate: dict[str, Any],
                                                           why: str) -> None:
    with pytest.raises(PredicateRefused, match=why):
        evidence(stmt(kind, predicate), DIGEST, kind)


def test_the_plural_scanners_form_and_the_db_are_read() -> None:
    read = evidence(stmt(EvidenceKind.VULNERABILITIES, {
        "gate": {"verdict": "FAILED", "counts": {"HIGH": 2}, "threshold": "HIGH"},
        "scanners": [{"version": "0.76.0", "db": {"version": "2"}}]}), DIGEST, EvidenceKind.VULNERABILITIES)
    assert not read.passed and read.summary == "Trivy FAILED (2 HIGH)" and read.details["db"] == "2"
    provenance = evidence(stmt(EvidenceKind.PROVENANCE, {"buildDefinition": {
        "externalParameters": {"workflow": {}, "devops": "x"},
        "resolvedDependencies": [{"digest": {"gitCommit": "abcdef1"}}]}, "runDetails": "x"}),
        DIGEST, EvidenceKind.PROVENANCE)
    assert provenance.details["inputs_sha256"] == "" and provenance.details["builder"] == ""


def test_trivy_counts_tolerates_odd_shapes() -> None:
    assert trivy_counts({"Results": "x"}) == {}
    assert trivy_counts({"Results": ["x", {"Vulnerabilities": "y"}, {"Vulnerabilities": ["z", {"Severity": "odd"}]}]}) \
        == {"UNKNOWN": 2}


@pytest.mark.parametrize(("payload", "why"), [
    (b"[1]", "expected a JSON object"),
    (b"{", "not JSON"),
    (json.dumps({"_type": "x"}).encode(), "_type 'x'"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1"}).encode(), "no predicateType"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "t", "predicate": []}).encode(),
     "predicate: expected an object"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "t"}).encode(), "no subject"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "t", "subject": ["x"]}).encode(),
     r"subject\[0\]: expected an object"),
    (json.dumps({"_type": "https://in-toto.io/Statement/v1", "predicateType": "t",
                 "subject": [{"digest": {"sha256": "AB"}}]}).encode(), "no sha256 digest"),
], ids=["array", "not-json", "type", "no-predicate-type", "predicate-list", "no-subject", "subject-str", "bad-hex"])
def test_parse_statement_refuses_what_is_not_a_statement(payload: bytes, why: str) -> None:
    with pytest.raises(StatementInvalid, match=why):
        parse_statement(payload)


def test_parse_statement_reads_a_good_one_and_checks_its_type_and_size() -> None:
    payload = json.dumps({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "t", "predicate": None,
                          "subject": [{"digest": {"sha256": HEX}, "name": 7}]}).encode()
    parsed = parse_statement(payload)
    assert parsed.predicate == {} and parsed.subjects[0].name == "" and parsed.digests == (DIGEST,)
    with pytest.raises(StatementInvalid, match="payload type"):
        parse_statement(payload, payload_type="text/plain")
    with pytest.raises(StatementInvalid, match="over the"):
        parse_statement(b" " * (32 * 1024 * 1024 + 1))


def test_statements_need_subjects_a_type_and_a_digest_they_name() -> None:
    with pytest.raises(StatementInvalid, match="at least one subject"):
        Statement((), "t")
    with pytest.raises(StatementInvalid, match="needs a predicateType"):
        Statement((Subject(DIGEST),), "")
    with pytest.raises(StatementInvalid, match="expected sha256"):
        Subject("sha256:abc")
    with pytest.raises(SubjectMismatch, match="is about sha256:aaaa"):
        require_subject(Statement((Subject(DIGEST),), "t"), "sha256:" + "b" * 64)
    assert Statement((Subject(DIGEST),), "t").to_dict()["subject"] == [{"digest": {"sha256": HEX}}]


def test_a_pass_is_returned_and_a_named_subject_serialised_with_its_name() -> None:
    read = evidence(stmt(EvidenceKind.SIGNATURE, {}), DIGEST, EvidenceKind.SIGNATURE)
    assert require_pass(read) is read
    named = Statement((Subject(DIGEST, "docker.io/shop/cart"),), "t")
    assert named.to_dict()["subject"][0]["name"] == "docker.io/shop/cart"
    assert json.loads(named.to_json())["_type"] == "https://in-toto.io/Statement/v1"
