"""The evidence predicates (devops.domain.attestation.predicates): each kind built for one
digest, read back as a pass or a refusal naming what is wrong, and read defensively (a field
of the wrong type is a refusal, never a crash).

The vulnerability predicate is the shape `trivy convert --format cosign-vuln` writes (recorded
from Trivy 0.76.0: the Trivy JSON report verbatim under scanner.result) around the published
alpine 3.10 report of ../shared/fixtures; tests/supplychain/test_statements.py makes the same
predicates with the real Trivy binary."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from devops.domain.attestation import (
    EvidenceKind,
    PredicateRefused,
    Statement,
    Subject,
    SubjectMismatch,
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
from devops.domain.attestation.predicates import (
    COSIGN_SIGN_V1,
    COSIGN_VULN_V1,
    CYCLONEDX_BOM,
    SLSA_PROVENANCE_V1,
    SONAR_GATE_V1,
    TEST_RESULT_V01,
    trivy_counts,
)
from devops.errors import ExitCode

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
NAME = "docker.io/techitfactory/cart"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
INPUTS = "sha256:" + "1" * 64
BOM: dict[str, Any] = {"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                       "components": [{"type": "library", "name": "ms", "version": "2.1.3",
                                       "purl": "pkg:npm/ms@2.1.3"}, {"type": "application", "name": "app"}]}


@pytest.fixture(scope="module")
def alpine_report(shared_fixtures: Path) -> dict[str, Any]:
    return dict(json.loads((shared_fixtures / "trivy" / "alpine-310.json").read_text()))


@pytest.fixture
def cosign_vuln(alpine_report: dict[str, Any]) -> dict[str, Any]:
    return {"invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
            "scanner": {"uri": "pkg:github/aquasecurity/trivy@0.76.0", "version": "0.76.0",
                        "db": {"uri": "", "version": ""}, "result": copy.deepcopy(alpine_report)},
            "metadata": {"scanStartedOn": "2026-12-06T05:07:36.965531731Z",
                         "scanFinishedOn": "2026-12-06T05:07:36.965531731Z"}}


def roundtrip(statement: Statement) -> Statement:
    return parse_statement(statement.to_json())


def provenance(**changes: str) -> Statement:
    fields = {"name": NAME, "repository": "techitfactory/techitfactory-shop", "commit": COMMIT,
              "workflow_path": ".github/workflows/release.yml", "ref": "refs/heads/main", "inputs_sha256": INPUTS,
              "builder_id": "https://github.com/actions/runner/github-hosted"}
    fields.update(changes)
    return provenance_statement(DIGEST, **fields)  # type: ignore[arg-type]


def read(kind: EvidenceKind, predicate: dict[str, Any]) -> Any:
    return evidence(Statement((Subject(DIGEST, NAME),), kind.predicate_type, predicate), DIGEST, kind)


# -- predicate types ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind,predicate_type", [
    (EvidenceKind.SIGNATURE, COSIGN_SIGN_V1), (EvidenceKind.PROVENANCE, SLSA_PROVENANCE_V1),
    (EvidenceKind.SBOM, CYCLONEDX_BOM), (EvidenceKind.VULNERABILITIES, COSIGN_VULN_V1),
    (EvidenceKind.SONAR, SONAR_GATE_V1), (EvidenceKind.VERIFICATION, TEST_RESULT_V01)])
def test_each_kind_has_one_predicate_type_and_back(kind: EvidenceKind, predicate_type: str) -> None:
    assert kind.predicate_type == predicate_type and kind_of(predicate_type) is kind


def test_versioned_cyclonedx_predicate_types_count_as_sbom() -> None:
    assert kind_of("https://cyclonedx.org/bom/v1.6") is EvidenceKind.SBOM
    assert kind_of("https://cyclonedx.org/bomb") is None
    assert kind_of("https://slsa.dev/provenance/v0.2") is None
    assert kind_of("https://example.com/whatever") is None


def test_every_kind_round_trips_and_reads_back_as_a_pass(cosign_vuln: dict[str, Any]) -> None:
    statements = {
        EvidenceKind.SIGNATURE: signature_statement(DIGEST, name=NAME),
        EvidenceKind.PROVENANCE: provenance(),
        EvidenceKind.SBOM: sbom_statement(DIGEST, name=NAME, bom=BOM),
        EvidenceKind.VULNERABILITIES: vulnerability_statement(
            DIGEST, name=NAME, predicate=cosign_vuln, verdict="PASSED", counts={"MEDIUM": 4}, threshold="HIGH"),
        EvidenceKind.SONAR: sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart", quality_gate="OK"),
        EvidenceKind.VERIFICATION: verification_statement(DIGEST, name=NAME, result="PASSED", environment="dev",
                                                          passed=["health"]),
    }
    summaries = {}
    for kind, statement in statements.items():
        parsed = roundtrip(statement)
        assert parsed == statement and kind_of(parsed.predicate_type) is kind
        found = require_pass(evidence(parsed, DIGEST, kind))
        assert found.kind is kind and found.digest == DIGEST and found.passed
        summaries[kind] = found.summary
    assert summaries == {
        EvidenceKind.SIGNATURE: "signed",
        EvidenceKind.PROVENANCE: ("built from https://github.com/techitfactory/techitfactory-shop@0123456789ab by "
                                  ".github/workflows/release.yml"),
        EvidenceKind.SBOM: "CycloneDX 1.6 SBOM, 2 components",
        EvidenceKind.VULNERABILITIES: "Trivy PASSED (4 MEDIUM)",
        EvidenceKind.SONAR: "Sonar PASSED",
        EvidenceKind.VERIFICATION: "verification PASSED",
    }


def test_a_statement_about_another_digest_is_refused() -> None:
    statement = sonar_statement(OTHER, name=NAME, verdict="PASSED", project_key="cart")
    with pytest.raises(SubjectMismatch, match=OTHER[:19]) as refused:
        evidence(statement, DIGEST, EvidenceKind.SONAR)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    assert evidence(statement, OTHER, EvidenceKind.SONAR).passed  # control


def test_a_statement_of_another_type_is_refused() -> None:
    with pytest.raises(PredicateRefused, match="expected a vulnerabilities attestation") as refused:
        evidence(sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart"), DIGEST,
                 EvidenceKind.VULNERABILITIES)
    assert f"got predicate type {SONAR_GATE_V1!r}" in str(refused.value)
    assert refused.value.exit_code == ExitCode.GATE_FAILED


# -- provenance -----------------------------------------------------------------------------------


def test_provenance_is_slsa_v1_of_a_github_workflow_run() -> None:
    predicate = provenance(invocation_id="https://github.com/o/r/actions/runs/1/attempts/1",
                           started_on="2026-11-25T18:40:00Z", event_name="push").predicate
    definition = predicate["buildDefinition"]
    assert definition["buildType"] == "https://actions.github.io/buildtypes/workflow/v1"
    assert definition["externalParameters"] == {
        "workflow": {"ref": "refs/heads/main", "repository": "https://github.com/techitfactory/techitfactory-shop",
                     "path": ".github/workflows/release.yml"},
        "devops": {"inputs_sha256": INPUTS}}
    assert definition["internalParameters"] == {"github": {"event_name": "push"}}
    assert definition["resolvedDependencies"] == [
        {"uri": "git+https://github.com/techitfactory/techitfactory-shop@refs/heads/main",
         "digest": {"gitCommit": COMMIT}}]
    assert predicate["runDetails"]["metadata"] == {"invocationId": "https://github.com/o/r/actions/runs/1/attempts/1",
                                                   "startedOn": "2026-11-25T18:40:00Z"}  # empty ones left out
    assert provenance().predicate["buildDefinition"]["internalParameters"] == {}


def test_provenance_reads_back_its_source() -> None:
    found = evidence(roundtrip(provenance()), DIGEST, EvidenceKind.PROVENANCE)
    assert dict(found.details) == {"repository": "https://github.com/techitfactory/techitfactory-shop",
                                   "workflow": ".github/workflows/release.yml", "ref": "refs/heads/main",
                                   "commit": COMMIT, "inputs_sha256": INPUTS,
                                   "builder": "https://github.com/actions/runner/github-hosted"}


@pytest.mark.parametrize("changes,message", [
    ({"commit": "main"}, "source commit 'main' is not a hex commit id"),
    ({"commit": COMMIT.upper()}, "is not a hex commit id"),
    ({"commit": "abc123"}, "is not a hex commit id"),
    ({"commit": "x" * 500}, repr("x" * 80)),
    ({"inputs_sha256": "1" * 64}, "inputs hash '" + "1" * 64 + "': expected sha256:<64 hex>"),
    ({"inputs_sha256": "sha256:" + "1" * 63}, "expected sha256:<64 hex>"),
])
def test_provenance_needs_a_commit_id_and_the_inputs_hash(changes: dict[str, str], message: str) -> None:
    with pytest.raises(PredicateRefused, match="^provenance: ") as refused:
        provenance(**changes)
    assert message in str(refused.value) and len(str(refused.value)) < 200


@pytest.mark.parametrize("predicate,message", [
    ({"buildDefinition": {"externalParameters": {"workflow": {}}, "resolvedDependencies": []}}, "source commit"),
    ({"buildDefinition": {"externalParameters": {"workflow": {}}}}, "source commit"),
    ({"buildDefinition": {"externalParameters": {"workflow": {}}, "resolvedDependencies": "x"}}, "source commit"),
    ({"buildDefinition": {"externalParameters": {"workflow": {}},
                          "resolvedDependencies": ["git+https://x", {"digest": "abc"}]}}, "source commit"),
    ({"buildDefinition": {"externalParameters": {"workflow": {}},
                          "resolvedDependencies": [{"digest": {"gitCommit": "HEAD"}}]}}, "source commit"),
    ({"buildDefinition": {"externalParameters": {"workflow": {}},
                          "resolvedDependencies": [{"digest": {"sha1": COMMIT}}]}}, "source commit"),
    ({"buildDefinition": "x"}, "provenance: buildDefinition must be an object"),
    ({}, "provenance: buildDefinition must be an object"),
    ({"buildDefinition": {"externalParameters": []}}, "provenance buildDefinition: externalParameters must be an object"),
    ({"buildDefinition": {"externalParameters": {"workflow": "release.yml"}}},
     "provenance externalParameters: workflow must be an object"),
], ids=["no-dependencies", "dependencies-absent", "dependencies-string", "dependency-not-an-object", "commit-not-hex",
        "no-git-commit", "definition-string", "no-definition", "external-list", "workflow-string"])
def test_malformed_provenance_is_refused(predicate: dict[str, Any], message: str) -> None:
    with pytest.raises(PredicateRefused, match=message):
        read(EvidenceKind.PROVENANCE, predicate)


def test_provenance_fields_of_the_wrong_type_read_as_empty_not_as_a_crash() -> None:
    predicate = {"buildDefinition": {"externalParameters": {"workflow": {"path": "w.yml"}, "devops": "sha256:x"},
                                     "resolvedDependencies": [{"digest": {"gitCommit": COMMIT}}]},
                 "runDetails": {"builder": "https://evil.example"}}
    details = read(EvidenceKind.PROVENANCE, predicate).details
    assert details["inputs_sha256"] == "" and details["builder"] == "" and details["repository"] == ""
    predicate["runDetails"] = "x"
    assert read(EvidenceKind.PROVENANCE, predicate).details["builder"] == ""
    assert read(EvidenceKind.PROVENANCE, predicate).summary == f"built from @{COMMIT[:12]} by w.yml"


# -- SBOM -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("bom,message", [
    ({"spdxVersion": "SPDX-2.3"}, "not a CycloneDX document (bomFormat)"),
    ({"bomFormat": "cyclonedx", "specVersion": "1.6"}, "not a CycloneDX document"),
    ({"bomFormat": "CycloneDX"}, "has no specVersion"),
    ({"bomFormat": "CycloneDX", "specVersion": 1.6}, "has no specVersion"),
    ({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"ms": "2.1.3"}}, "components must be a list"),
])
def test_a_predicate_that_is_not_cyclonedx_is_refused(bom: dict[str, Any], message: str) -> None:
    with pytest.raises(PredicateRefused, match=f"^sbom: .*{re.escape(message)}"):
        sbom_statement(DIGEST, name=NAME, bom=bom)
    with pytest.raises(PredicateRefused, match=re.escape(message)):
        read(EvidenceKind.SBOM, bom)


def test_an_sbom_without_components_has_none() -> None:
    found = read(EvidenceKind.SBOM, {"bomFormat": "CycloneDX", "specVersion": "1.5"})
    assert found.passed and found.details == {"spec_version": "1.5", "components": 0}


# -- vulnerabilities ------------------------------------------------------------------------------


def test_trivy_counts_of_the_published_report(alpine_report: dict[str, Any]) -> None:
    assert trivy_counts(alpine_report) == {"MEDIUM": 4}


@pytest.mark.parametrize("report,counts", [
    ({}, {}),
    ({"Results": None}, {}),
    ({"Results": "x"}, {}),
    ({"Results": ["x", {"Vulnerabilities": None}, {"Vulnerabilities": "x"}]}, {}),
    ({"Results": [{"Vulnerabilities": [{"Severity": "critical"}, {"Severity": "HIGH"}, {"Severity": "HIGH"}]}]},
     {"CRITICAL": 1, "HIGH": 2}),
    ({"Results": [{"Vulnerabilities": [{}, {"Severity": "NEGLIGIBLE"}, "CVE-1", {"Severity": None}]}]},
     {"UNKNOWN": 4}),
    ({"Results": [{"Vulnerabilities": [{"Severity": "LOW"}]}, {"Vulnerabilities": [{"Severity": "LOW"}]}]},
     {"LOW": 2}),
])
def test_trivy_counts_read_any_shape_and_count_the_odd_ones_as_unknown(report: dict[str, Any],
                                                                      counts: dict[str, int]) -> None:
    assert trivy_counts(report) == counts


def test_the_vulnerability_statement_keeps_trivys_predicate_and_adds_the_gate(cosign_vuln: dict[str, Any]) -> None:
    cosign_vuln["invocation"]["parameters"] = {"args": ["image"]}
    body = vulnerability_statement(DIGEST, name=NAME, predicate=cosign_vuln, verdict="PASSED",
                                   counts={"medium": 4, "HIGH": 0}, threshold="HIGH",
                                   invocation_uri="https://github.com/o/r/actions/runs/1", event_id="push",
                                   builder_id="").predicate
    assert body["scanner"] == cosign_vuln["scanner"] and body["metadata"] == cosign_vuln["metadata"]
    assert body["invocation"] == {"parameters": {"args": ["image"]}, "uri": "https://github.com/o/r/actions/runs/1",
                                  "event_id": "push", "builder.id": ""}
    assert body["gate"] == {"verdict": "PASSED", "threshold": "HIGH", "counts": {"MEDIUM": 4}}
    assert cosign_vuln["invocation"]["uri"] == ""  # the caller's predicate is not changed


@pytest.mark.parametrize("predicate", [{}, {"scanner": {}}, {"metadata": {}}, {"scanner": "trivy", "metadata": {}}])
def test_a_vulnerability_predicate_needs_scanner_and_metadata(predicate: dict[str, Any]) -> None:
    with pytest.raises(PredicateRefused, match=r"not a cosign-vuln predicate \(scanner, metadata\)"):
        vulnerability_statement(DIGEST, name=NAME, predicate=predicate, verdict="PASSED", counts={}, threshold="HIGH")


@pytest.mark.parametrize("verdict", ["PASS", "passed", "SKIPPED", ""])
def test_a_vulnerability_verdict_is_passed_or_failed(verdict: str, cosign_vuln: dict[str, Any]) -> None:
    with pytest.raises(PredicateRefused, match=f"vulnerabilities: verdict {verdict!r} is not one of PASSED, FAILED"):
        vulnerability_statement(DIGEST, name=NAME, predicate=cosign_vuln, verdict=verdict, counts={}, threshold="HIGH")


def test_a_failed_scan_reads_back_as_a_refusal_naming_the_counts(cosign_vuln: dict[str, Any]) -> None:
    statement = vulnerability_statement(DIGEST, name=NAME, predicate=cosign_vuln, verdict="FAILED",
                                        counts={"MEDIUM": 4}, threshold="MEDIUM")
    found = evidence(roundtrip(statement), DIGEST, EvidenceKind.VULNERABILITIES)
    assert not found.passed and found.details["threshold"] == "MEDIUM" and found.details["scanner"] == "0.76.0"
    with pytest.raises(PredicateRefused, match=f"^vulnerabilities attestation of {DIGEST}: Trivy FAILED \\(4 MEDIUM\\)$"):
        require_pass(found)


def test_a_passed_gate_over_a_report_that_says_otherwise_is_refused(cosign_vuln: dict[str, Any]) -> None:
    lying = vulnerability_statement(DIGEST, name=NAME, predicate=cosign_vuln, verdict="PASSED", counts={},
                                    threshold="MEDIUM")
    with pytest.raises(PredicateRefused, match=r"gate counts \{\} disagree with the signed Trivy result \{'MEDIUM': 4\}"):
        evidence(roundtrip(lying), DIGEST, EvidenceKind.VULNERABILITIES)


def gated(gate: Any, scanner: Any = None, **extra: Any) -> dict[str, Any]:
    predicate: dict[str, Any] = {"gate": gate, "metadata": {}, **extra}
    if scanner is not None:
        predicate["scanner"] = scanner
    return predicate


PASSED = {"verdict": "PASSED", "threshold": "HIGH", "counts": {}}


@pytest.mark.parametrize("predicate,message", [
    (gated(None, {}), "vulnerabilities: gate must be an object"),
    (gated("PASSED", {}), "vulnerabilities: gate must be an object"),
    (gated({"verdict": "OK"}, {}), "vulnerabilities gate: verdict 'OK' is not one of PASSED, FAILED"),
    (gated({"verdict": "P" * 100}, {}), "verdict '" + "P" * 40 + "' is not"),
    (gated({**PASSED, "counts": [4]}, {}), "gate.counts must map severities to counts"),
    (gated({**PASSED, "counts": {"HIGH": -1}}, {}), "gate.counts must map severities to counts"),
    (gated({**PASSED, "counts": {"HIGH": "2"}}, {}), "gate.counts must map severities to counts"),
    (gated(PASSED), "vulnerabilities: no scanner"),
    (gated(PASSED, "trivy"), "vulnerabilities: no scanner"),
    (gated(PASSED, scanners=[]), "vulnerabilities: no scanner"),
    (gated(PASSED, scanners=["trivy"]), "vulnerabilities: no scanner"),
], ids=["no-gate", "gate-string", "unknown-verdict", "long-verdict", "counts-list", "negative-count", "count-string",
        "no-scanner", "scanner-string", "empty-scanners", "scanners-of-strings"])
def test_malformed_vulnerability_predicates_are_refused(predicate: dict[str, Any], message: str) -> None:
    with pytest.raises(PredicateRefused, match=message):
        read(EvidenceKind.VULNERABILITIES, predicate)


def test_the_plural_scanners_form_of_the_spec_is_read(alpine_report: dict[str, Any]) -> None:
    scanner = {"uri": "pkg:github/aquasecurity/trivy@0.76.0", "version": "0.76.0", "db": {"version": "2"},
               "result": alpine_report}
    found = read(EvidenceKind.VULNERABILITIES,
                 gated({"verdict": "FAILED", "threshold": "MEDIUM", "counts": {"MEDIUM": 4}}, scanners=[scanner]))
    assert not found.passed and found.details["db"] == "2"
    with pytest.raises(PredicateRefused, match="disagree"):  # the counts are checked in this form too
        read(EvidenceKind.VULNERABILITIES, gated(PASSED, scanners=[scanner]))


def test_a_scanner_without_a_trivy_result_is_read_on_the_gate_alone() -> None:
    # Only a Trivy JSON report (with Results) can be recounted; without one the gate is what there is.
    for result in (None, "sarif", {"runs": []}):
        found = read(EvidenceKind.VULNERABILITIES,
                     gated({"verdict": "PASSED", "counts": {"LOW": 2, "HIGH": 0}}, {"result": result, "db": "x"}))
        assert found.passed and found.summary == "Trivy PASSED (2 LOW)" and found.details["db"] is None


# -- Sonar ----------------------------------------------------------------------------------------


def test_the_sonar_predicate_leaves_empty_fields_out() -> None:
    predicate = sonar_statement(DIGEST, name=NAME, verdict="PASSED", project_key="cart", quality_gate="OK",
                                server_url="https://sonarcloud.io").predicate
    assert predicate == {"verdict": "PASSED", "projectKey": "cart", "qualityGate": "OK",
                         "serverUrl": "https://sonarcloud.io"}


@pytest.mark.parametrize("verdict", ["OK", "ERROR", "passed", ""])
def test_a_sonar_verdict_is_passed_failed_or_skipped(verdict: str) -> None:
    with pytest.raises(PredicateRefused, match=f"^sonar: verdict {verdict!r} is not one of PASSED, FAILED, SKIPPED$"):
        sonar_statement(DIGEST, name=NAME, verdict=verdict, project_key="cart")
    with pytest.raises(PredicateRefused, match="is not one of PASSED, FAILED, SKIPPED"):
        read(EvidenceKind.SONAR, {"verdict": verdict})


@pytest.mark.parametrize("verdict,reason,summary", [
    ("SKIPPED", "SONAR_TOKEN not set", "Sonar SKIPPED: SONAR_TOKEN not set"),
    ("FAILED", "", "Sonar FAILED"),
    ("FAILED", "new_coverage 61.2 < 80", "Sonar FAILED: new_coverage 61.2 < 80"),
])
def test_a_sonar_verdict_that_is_not_a_pass_is_refused(verdict: str, reason: str, summary: str) -> None:
    statement = sonar_statement(DIGEST, name=NAME, verdict=verdict, project_key="cart", reason=reason)
    found = evidence(roundtrip(statement), DIGEST, EvidenceKind.SONAR)
    assert not found.passed and found.summary == summary and found.details["project"] == "cart"
    with pytest.raises(PredicateRefused, match=f"^sonar attestation of {DIGEST}: {summary}$"):
        require_pass(found)


# -- verification ---------------------------------------------------------------------------------


def test_the_verification_predicate_is_an_in_toto_test_result() -> None:
    predicate = verification_statement(DIGEST, name=NAME, result="WARNED", environment="dev", passed=iter(["health"]),
                                       warned=("latency",), url="https://github.com/o/r/actions/runs/1").predicate
    assert predicate == {"result": "WARNED", "configuration": [{"name": "devops verify --env dev"}],
                         "passedTests": ["health"], "warnedTests": ["latency"], "failedTests": [],
                         "url": "https://github.com/o/r/actions/runs/1"}
    assert "url" not in verification_statement(DIGEST, name=NAME, result="PASSED", environment="dev").predicate


@pytest.mark.parametrize("result,failed,summary", [
    ("FAILED", ["slo-availability"], "verification FAILED (failing: slo-availability)"),
    ("FAILED", ["health", "slo-latency"], "verification FAILED (failing: health, slo-latency)"),
    ("WARNED", [], "verification WARNED"),  # a warning is not a pass
])
def test_a_verification_that_is_not_a_pass_is_refused(result: str, failed: list[str], summary: str) -> None:
    statement = verification_statement(DIGEST, name=NAME, result=result, environment="dev", failed=failed)
    found = evidence(roundtrip(statement), DIGEST, EvidenceKind.VERIFICATION)
    assert not found.passed and found.summary == summary and found.details["failed"] == failed
    with pytest.raises(PredicateRefused, match="^verification attestation of "):
        require_pass(found)


def test_malformed_verification_predicates_are_refused() -> None:
    with pytest.raises(PredicateRefused, match="^verification: verdict 'SUCCESS' is not one of PASSED, WARNED, FAILED$"):
        verification_statement(DIGEST, name=NAME, result="SUCCESS", environment="dev")
    with pytest.raises(PredicateRefused, match="verdict 'None' is not one of"):
        read(EvidenceKind.VERIFICATION, {})
    with pytest.raises(PredicateRefused, match="^verification: failedTests must be a list$"):
        read(EvidenceKind.VERIFICATION, {"result": "FAILED", "failedTests": "health"})
    assert read(EvidenceKind.VERIFICATION, {"result": "PASSED", "failedTests": None}).passed  # control
