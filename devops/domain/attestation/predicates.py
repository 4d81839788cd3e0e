"""The evidence a release attests, one in-toto predicate per kind (pure: no I/O).

| kind          | predicateType                                      | what it says                          |
| ------------- | -------------------------------------------------- | ------------------------------------- |
| signature     | https://sigstore.dev/cosign/sign/v1                 | the image signature cosign v3 writes  |
| provenance    | https://slsa.dev/provenance/v1                     | source commit, workflow, inputs hash  |
| sbom          | https://cyclonedx.org/bom                          | the CycloneDX SBOM Trivy makes        |
| vulnerabilities | https://cosign.sigstore.dev/attestation/vuln/v1  | Trivy's result and the gate's verdict |
| sonar         | SONAR_GATE_V1 (ours, documented in docs/supply-chain.md) | the Sonar quality gate verdict  |
| verification  | https://in-toto.io/attestation/test-result/v0.1    | `devops verify` after the dev release |

Builders return a `Statement` for one digest; `evidence()` reads a verified statement back into
an `Evidence` (kind, verdict, summary) after checking its subject, its predicate type and its
predicate's shape; `require_pass()` refuses anything that is not a pass. Predicates are read
defensively: a field of the wrong type is a refusal naming it, never a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from devops.domain.attestation.errors import PredicateRefused
from devops.domain.attestation.statement import Statement, Subject, require_subject

COSIGN_SIGN_V1 = "https://sigstore.dev/cosign/sign/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
CYCLONEDX_BOM = "https://cyclonedx.org/bom"
COSIGN_VULN_V1 = "https://cosign.sigstore.dev/attestation/vuln/v1"
# Ours: there is no standard predicate for a Sonar quality gate. The URI names its documentation.
SONAR_GATE_V1 = "https://github.com/techitfactory/techitfactory-shop/blob/main/docs/supply-chain.md#sonar-gate-v1"
TEST_RESULT_V01 = "https://in-toto.io/attestation/test-result/v0.1"
# GitHub's build type for a workflow run (actions/attest-build-provenance writes the same).
GITHUB_WORKFLOW_BUILD_TYPE = "https://actions.github.io/buildtypes/workflow/v1"

_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")
_SHA256 = re.compile(r"^sha256:[0-9a-f]{64}$")


class EvidenceKind(StrEnum):
    SIGNATURE = "signature"
    PROVENANCE = "provenance"
    SBOM = "sbom"
    VULNERABILITIES = "vulnerabilities"
    SONAR = "sonar"
    VERIFICATION = "verification"

    @property
    def predicate_type(self) -> str:
        return _PREDICATE_TYPES[self]


_PREDICATE_TYPES: dict[EvidenceKind, str] = {
    EvidenceKind.SIGNATURE: COSIGN_SIGN_V1,
    EvidenceKind.PROVENANCE: SLSA_PROVENANCE_V1,
    EvidenceKind.SBOM: CYCLONEDX_BOM,
    EvidenceKind.VULNERABILITIES: COSIGN_VULN_V1,
    EvidenceKind.SONAR: SONAR_GATE_V1,
    EvidenceKind.VERIFICATION: TEST_RESULT_V01,
}


def kind_of(predicate_type: str) -> EvidenceKind | None:
    """The evidence kind of a predicate type (CycloneDX's versioned form `…/bom/v1.6` too)."""
    for kind, known in _PREDICATE_TYPES.items():
        if predicate_type == known:
            return kind
    if predicate_type.startswith(CYCLONEDX_BOM + "/v"):
        return EvidenceKind.SBOM
    return None


@dataclass(frozen=True)
class Evidence:
    """What one verified statement says about one digest."""

    kind: EvidenceKind
    digest: str
    passed: bool
    summary: str
    details: Mapping[str, Any] = field(default_factory=dict)


# -- builders ---------------------------------------------------------------------------------

def signature_statement(digest: str, *, name: str) -> Statement:
    """The statement `cosign sign` (v3) signs for an image: the digest, an empty predicate.

    cosign writes the subject without a name; sigstore-python refuses to sign a statement whose
    subject has none (in-toto v1 ResourceDescriptor), so ours names the image repository.
    Verifiers (cosign, policy-controller) match the digest only."""
    return Statement((Subject(digest, name),), COSIGN_SIGN_V1, {})


def provenance_statement(digest: str, *, name: str, repository: str, commit: str, workflow_path: str,
                         ref: str, inputs_sha256: str, builder_id: str, invocation_id: str = "",
                         started_on: str = "", finished_on: str = "",
                         event_name: str = "") -> Statement:
    """SLSA v1 provenance of a GitHub Actions workflow run (GitHub's workflow/v1 build type).

    `repository` is `owner/name`; `inputs_sha256` is devops' build identity (the hash of the
    build inputs, docs/architecture.md) so a verifier can tie the image to its inputs."""
    if not _COMMIT.match(commit):
        raise PredicateRefused(f"provenance: source commit {commit[:80]!r} is not a hex commit id")
    if not _SHA256.match(inputs_sha256):
        raise PredicateRefused(f"provenance: inputs hash {inputs_sha256[:80]!r}: expected sha256:<64 hex>")
    repo_url = f"https://github.com/{repository}"
    metadata = {k: v for k, v in (("invocationId", invocation_id), ("startedOn", started_on),
                                  ("finishedOn", finished_on)) if v}
    predicate = {
        "buildDefinition": {
            "buildType": GITHUB_WORKFLOW_BUILD_TYPE,
            "externalParameters": {
                "workflow": {"ref": ref, "repository": repo_url, "path": workflow_path},
                "devops": {"inputs_sha256": inputs_sha256},
            },
            "internalParameters": {"github": {"event_name": event_name}} if event_name else {},
            "resolvedDependencies": [{"uri": f"git+{repo_url}@{ref}", "digest": {"gitCommit": commit}}],
        },
        "runDetails": {"builder": {"id": builder_id}, "metadata": metadata},
    }
    return Statement((Subject(digest, name),), SLSA_PROVENANCE_V1, predicate)


def sbom_statement(digest: str, *, name: str, bom: Mapping[str, Any]) -> Statement:
    """The CycloneDX document (`trivy image --format cyclonedx`) as the predicate."""
    _cyclonedx(bom)
    return Statement((Subject(digest, name),), CYCLONEDX_BOM, bom)


def vulnerability_statement(digest: str, *, name: str, predicate: Mapping[str, Any], verdict: str,
                            counts: Mapping[str, int], threshold: str, invocation_uri: str = "",
                            event_id: str = "", builder_id: str = "") -> Statement:
    """cosign's vulnerability predicate as Trivy writes it (`trivy image --format cosign-vuln`, or
    `trivy convert --format cosign-vuln report.json`), with the run that scanned filled into
    `invocation` and the gate's verdict added under `gate` (consumers ignore keys they do not
    know). The gate counts must be those of the Trivy result inside (checked when read back)."""
    _verdict(verdict, ("PASSED", "FAILED"), "vulnerabilities")
    if not isinstance(predicate.get("scanner"), Mapping) or not isinstance(predicate.get("metadata"), Mapping):
        raise PredicateRefused("vulnerabilities: not a cosign-vuln predicate (scanner, metadata)")
    body = dict(predicate)
    invocation = dict(body.get("invocation") or {})
    invocation.update({k: v for k, v in (("uri", invocation_uri), ("event_id", event_id),
                                         ("builder.id", builder_id)) if v})
    body["invocation"] = invocation
    body["gate"] = {"verdict": verdict, "threshold": threshold,
                    "counts": {k.upper(): int(v) for k, v in counts.items() if v}}
    return Statement((Subject(digest, name),), COSIGN_VULN_V1, body)


def sonar_statement(digest: str, *, name: str, verdict: str, project_key: str, quality_gate: str = "",
                    analysis_id: str = "", server_url: str = "", reason: str = "",
                    checked_at: str = "") -> Statement:
    """Our Sonar predicate: the quality gate status Sonar answered and devops' verdict."""
    _verdict(verdict, ("PASSED", "FAILED", "SKIPPED"), "sonar")
    predicate = {k: v for k, v in (("verdict", verdict), ("projectKey", project_key),
                                   ("qualityGate", quality_gate), ("analysisId", analysis_id),
                                   ("serverUrl", server_url), ("reason", reason), ("checkedAt", checked_at)) if v}
    return Statement((Subject(digest, name),), SONAR_GATE_V1, predicate)


def verification_statement(digest: str, *, name: str, result: str, environment: str,
                           passed: Iterable[str] = (), failed: Iterable[str] = (), warned: Iterable[str] = (),
                           url: str = "") -> Statement:
    """in-toto test-result: the post-release verification of `digest` in `environment`."""
    _verdict(result, ("PASSED", "WARNED", "FAILED"), "verification")
    predicate: dict[str, Any] = {
        "result": result,
        "configuration": [{"name": f"devops verify --env {environment}"}],
        "passedTests": list(passed),
        "warnedTests": list(warned),
        "failedTests": list(failed),
    }
    if url:
        predicate["url"] = url
    return Statement((Subject(digest, name),), TEST_RESULT_V01, predicate)


# -- readers ----------------------------------------------------------------------------------

def evidence(statement: Statement, digest: str, kind: EvidenceKind) -> Evidence:
    """Read `statement` as evidence of `kind` about `digest`; refuse another digest or type."""
    require_subject(statement, digest)
    found = kind_of(statement.predicate_type)
    if found is not kind:
        raise PredicateRefused(f"expected a {kind.value} attestation ({kind.predicate_type}), got "
                               f"predicate type {statement.predicate_type[:120]!r}")
    reader = _READERS[kind]
    passed, summary, details = reader(statement.predicate)
    return Evidence(kind, digest, passed, summary, details)


def require_pass(found: Evidence) -> Evidence:
    if not found.passed:
        raise PredicateRefused(f"{found.kind.value} attestation of {found.digest}: {found.summary}")
    return found


def _read_signature(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    return True, "signed", {}


def _read_provenance(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    definition = _obj(predicate, "buildDefinition", "provenance")
    external = _obj(definition, "externalParameters", "provenance buildDefinition")
    workflow = _obj(external, "workflow", "provenance externalParameters")
    deps = definition.get("resolvedDependencies")
    commit = ""
    if isinstance(deps, list):
        for dep in deps:
            if isinstance(dep, dict) and isinstance(dep.get("digest"), dict):
                commit = str(dep["digest"].get("gitCommit", ""))
                break
    if not _COMMIT.match(commit):
        raise PredicateRefused("provenance: no source commit (resolvedDependencies[].digest.gitCommit)")
    found = external.get("devops")
    devops: Mapping[str, Any] = found if isinstance(found, dict) else {}
    run = predicate.get("runDetails")
    builder = run.get("builder") if isinstance(run, dict) else None
    details = {
        "repository": str(workflow.get("repository", "")),
        "workflow": str(workflow.get("path", "")),
        "ref": str(workflow.get("ref", "")),
        "commit": commit,
        "inputs_sha256": str(devops.get("inputs_sha256", "")),
        "builder": str(builder.get("id", "")) if isinstance(builder, dict) else "",
    }
    return True, f"built from {details['repository']}@{commit[:12]} by {details['workflow']}", details


def _read_sbom(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    components = _cyclonedx(predicate)
    return True, f"CycloneDX {predicate.get('specVersion')} SBOM, {components} components", {
        "spec_version": predicate.get("specVersion"), "components": components}


def _read_vulnerabilities(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    gate = _obj(predicate, "gate", "vulnerabilities")
    verdict = _verdict(gate.get("verdict"), ("PASSED", "FAILED"), "vulnerabilities gate")
    counts = gate.get("counts", {})
    if not isinstance(counts, dict) or not all(isinstance(v, int) and v >= 0 for v in counts.values()):
        raise PredicateRefused("vulnerabilities: gate.counts must map severities to counts")
    scanner = predicate.get("scanner")
    if scanner is None and isinstance(predicate.get("scanners"), list) and predicate["scanners"]:
        scanner = predicate["scanners"][0]  # the spec's plural form
    if not isinstance(scanner, dict):
        raise PredicateRefused("vulnerabilities: no scanner")
    result = scanner.get("result")
    if isinstance(result, dict) and isinstance(result.get("Results"), list):
        # The gate's counts must be those of the report it signed along (no PASSED over a report
        # that says otherwise).
        recounted = trivy_counts(result)
        stated = {k.upper(): v for k, v in counts.items() if v}
        if recounted != stated:
            raise PredicateRefused(f"vulnerabilities: gate counts {stated} disagree with the signed Trivy "
                                   f"result {recounted}")
    db = scanner.get("db")
    details = {"verdict": verdict, "counts": counts, "threshold": gate.get("threshold"),
               "scanner": scanner.get("version"), "db": db.get("version") if isinstance(db, dict) else None}
    summary = f"Trivy {verdict}" + (f" ({_count_text(counts)})" if any(counts.values()) else "")
    return verdict == "PASSED", summary, details


def _read_sonar(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    verdict = _verdict(predicate.get("verdict"), ("PASSED", "FAILED", "SKIPPED"), "sonar")
    reason = str(predicate.get("reason", ""))
    details = {"verdict": verdict, "project": predicate.get("projectKey"), "quality_gate": predicate.get("qualityGate"),
               "reason": reason}
    return verdict == "PASSED", f"Sonar {verdict}" + (f": {reason}" if reason else ""), details


def _read_verification(predicate: Mapping[str, Any]) -> tuple[bool, str, dict[str, Any]]:
    result = _verdict(predicate.get("result"), ("PASSED", "WARNED", "FAILED"), "verification")
    failed = predicate.get("failedTests") or []
    if not isinstance(failed, list):
        raise PredicateRefused("verification: failedTests must be a list")
    details = {"result": result, "failed": [str(f) for f in failed]}
    summary = f"verification {result}" + (f" (failing: {', '.join(map(str, failed))})" if failed else "")
    return result == "PASSED", summary, details


_READERS = {
    EvidenceKind.SIGNATURE: _read_signature,
    EvidenceKind.PROVENANCE: _read_provenance,
    EvidenceKind.SBOM: _read_sbom,
    EvidenceKind.VULNERABILITIES: _read_vulnerabilities,
    EvidenceKind.SONAR: _read_sonar,
    EvidenceKind.VERIFICATION: _read_verification,
}


def trivy_counts(report: Mapping[str, Any]) -> dict[str, int]:
    """Findings per severity in a Trivy JSON report (`SchemaVersion: 2`), zero counts left out."""
    counts: dict[str, int] = {}
    results = report.get("Results") or []
    for result in results if isinstance(results, list) else []:
        vulns = result.get("Vulnerabilities") if isinstance(result, dict) else None
        for vuln in vulns if isinstance(vulns, list) else []:
            severity = str(vuln.get("Severity", "UNKNOWN")).upper() if isinstance(vuln, dict) else "UNKNOWN"
            severity = severity if severity in _SEVERITIES else "UNKNOWN"
            counts[severity] = counts.get(severity, 0) + 1
    return counts


def _count_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items() if v)


def _cyclonedx(bom: Mapping[str, Any]) -> int:
    if not isinstance(bom, Mapping) or bom.get("bomFormat") != "CycloneDX":
        raise PredicateRefused("sbom: the predicate is not a CycloneDX document (bomFormat)")
    if not isinstance(bom.get("specVersion"), str):
        raise PredicateRefused("sbom: the CycloneDX document has no specVersion")
    components = bom.get("components", [])
    if not isinstance(components, list):
        raise PredicateRefused("sbom: components must be a list")
    return len(components)


def _obj(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise PredicateRefused(f"{where}: {key} must be an object")
    return value


def _verdict(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise PredicateRefused(f"{where}: verdict {str(value)[:40]!r} is not one of {', '.join(allowed)}")
    return str(value)
