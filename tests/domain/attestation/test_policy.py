"""The signature policy's rules (pure): every required kind needs one verified bundle about the
digest, passing and agreeing with the release record; a refusal names the kind and why."""

from __future__ import annotations

from typing import Any

import pytest

from devops.domain.attestation.policy import (
    ALL_KINDS,
    FoundBundle,
    KeylessIdentity,
    NamedKey,
    SignaturePolicy,
    judge,
    required_kinds,
    same_claim,
)
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

DIGEST, OTHER = "sha256:" + "a" * 64, "sha256:" + "b" * 64
COMMIT = "1234567890abcdef1234567890abcdef12345678"
NAME = "docker.io/shop/cart"
KEYLESS = KeylessIdentity("https://token.actions.githubusercontent.com",
                          "https://github.com/o/r/.github/workflows/release.yml@refs/heads/main", "o/r")
VULN = {"scanner": {"uri": "pkg:github/aquasecurity/trivy", "version": "0.76.0", "result": {"Results": []}},
        "metadata": {"scanStartedOn": "2026-11-25T10:00:00Z"}}
BOM = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"name": "zlib"}]}


def statements(digest: str = DIGEST, **changes: Any) -> dict[EvidenceKind, Statement]:
    made = {
        EvidenceKind.SIGNATURE: signature_statement(digest, name=NAME),
        EvidenceKind.PROVENANCE: provenance_statement(
            digest, name=NAME, repository="o/r", commit=changes.get("commit", COMMIT),
            workflow_path=".github/workflows/release.yml", ref="refs/heads/main",
            inputs_sha256="sha256:" + "1" * 64, builder_id="https://github.com/actions/runner/github-hosted"),
        EvidenceKind.SBOM: sbom_statement(digest, name=NAME, bom=BOM),
        EvidenceKind.VULNERABILITIES: vulnerability_statement(
            digest, name=NAME, predicate=VULN, verdict=changes.get("scan", "PASSED"), counts={}, threshold="CRITICAL"),
        EvidenceKind.SONAR: sonar_statement(digest, name=NAME, verdict=changes.get("sonar", "SKIPPED"), project_key="p"),
        EvidenceKind.VERIFICATION: verification_statement(digest, name=NAME, result=changes.get("verification", "PASSED"),
                                                          environment="dev"),
    }
    return made


def bundles(made: dict[EvidenceKind, Statement]) -> list[FoundBundle]:
    return [FoundBundle(f"sha256:{str(i) * 64}", s.predicate_type, s) for i, s in enumerate(made.values())]


def entry(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "repository": NAME, "digest": DIGEST, "source_commit": COMMIT,
        "scan": {"verdict": "PASSED"}, "sonar": {"verdict": "SKIPPED"},
        "verification": {"verdict": "PASSED", "digest": DIGEST},
    }
    base.update(changes)
    return base


POLICY = SignaturePolicy(ALL_KINDS, keyless=KEYLESS)


def test_every_kind_verified_passes_and_names_the_bundles() -> None:
    check = judge("cart", DIGEST, bundles(statements()), POLICY, entry())
    assert check.ok and not check.failing
    block = check.record_block()
    assert block["verdict"] == "PASSED" and block["policy"] == POLICY.describe()
    assert set(block["bundles"]) == {k.value for k in ALL_KINDS}
    assert block["bundles"]["sbom"] == "sha256:" + "2" * 64


def test_a_missing_kind_is_named_with_the_policy() -> None:
    made = statements()
    del made[EvidenceKind.SBOM]
    check = judge("cart", DIGEST, bundles(made), POLICY, entry())
    assert not check.ok and [k.kind for k in check.failing] == [EvidenceKind.SBOM]
    assert check.refusal() == (f"cart {DIGEST}: sbom: no sbom attestation signed by identity "
                               f"{KEYLESS.identity} from {KEYLESS.issuer}, repository o/r")


def test_a_bundle_that_did_not_verify_is_named_with_why() -> None:
    made = statements()
    found = bundles(made)
    found[2] = FoundBundle(found[2].referrer, found[2].predicate_type, None, "does not verify for identity X")
    check = judge("cart", DIGEST, found, POLICY, entry())
    assert check.failing[0].kind is EvidenceKind.SBOM and check.failing[0].problem == "does not verify for identity X"
    unnamed = FoundBundle("sha256:" + "9" * 64, EvidenceKind.SBOM.predicate_type, None)
    assert "could not be used" in judge("cart", DIGEST, [unnamed], POLICY, entry()).kinds[2].problem


def test_a_statement_about_another_digest_is_refused() -> None:
    made = statements()
    made[EvidenceKind.SONAR] = statements(OTHER)[EvidenceKind.SONAR]
    check = judge("cart", DIGEST, bundles(made), POLICY, entry())
    assert [k.kind for k in check.failing] == [EvidenceKind.SONAR]
    assert "is about sha256:bbbb" in check.failing[0].problem and f"not {DIGEST}" in check.failing[0].problem


def test_one_passing_bundle_of_a_kind_is_enough_next_to_a_failing_one() -> None:
    failing = statements(scan="FAILED")[EvidenceKind.VULNERABILITIES]
    found = [FoundBundle("sha256:" + "f" * 64, failing.predicate_type, failing), *bundles(statements())]
    assert judge("cart", DIGEST, found, POLICY, entry()).ok
    only_failing = [b for b in bundles(statements()) if b.predicate_type != failing.predicate_type]
    check = judge("cart", DIGEST, [FoundBundle("sha256:" + "f" * 64, failing.predicate_type, failing),
                                   *only_failing], POLICY, entry())
    assert "states Trivy FAILED" in check.failing[0].problem


@pytest.mark.parametrize(("changes", "record", "kind", "why"), [
    ({"commit": "ffffffffffff" + COMMIT[12:]}, {}, EvidenceKind.PROVENANCE, "built from commit ffffffffffff, the record"),
    ({}, {"scan": {"verdict": "FAILED"}}, EvidenceKind.VULNERABILITIES, "attests scan PASSED, the release record says FAILED"),
    ({"sonar": "PASSED"}, {}, EvidenceKind.SONAR, "attests Sonar PASSED, the release record says SKIPPED"),
    ({}, {"sonar": None}, EvidenceKind.SONAR, "the release record says nothing"),
    ({}, {"verification": {"verdict": "FAILED", "digest": DIGEST}}, EvidenceKind.VERIFICATION,
     "attests verification PASSED, the release record says FAILED"),
    ({}, {"verification": {"verdict": "PASSED", "digest": OTHER}}, EvidenceKind.VERIFICATION,
     "the recorded verification is not of this digest"),
    ({"verification": "FAILED"}, {}, EvidenceKind.VERIFICATION, "states verification FAILED"),
], ids=["commit", "scan", "sonar", "sonar-missing", "verification-verdict", "verification-digest", "failed"])
def test_attestations_must_agree_with_the_release_record(changes: dict[str, str], record: dict[str, Any],
                                                         kind: EvidenceKind, why: str) -> None:
    check = judge("cart", DIGEST, bundles(statements(**changes)), POLICY, entry(**record))
    assert [k.kind for k in check.failing] == [kind]
    assert why in check.failing[0].problem


def test_a_record_without_a_source_commit_accepts_any_provenance_commit() -> None:
    assert judge("cart", DIGEST, bundles(statements()), POLICY, entry(source_commit=None)).ok


def test_without_a_record_entry_only_signature_and_sbom_can_pass() -> None:
    check = judge("cart", DIGEST, bundles(statements()), POLICY, None)
    assert {k.kind for k in check.failing} == {EvidenceKind.PROVENANCE, EvidenceKind.VULNERABILITIES,
                                               EvidenceKind.SONAR, EvidenceKind.VERIFICATION}
    assert "no entry for this digest" in check.failing[0].problem


def test_a_skipped_sonar_needs_a_policy_that_accepts_it() -> None:
    strict = SignaturePolicy((EvidenceKind.SONAR,), keyless=KEYLESS, allow_skipped_sonar=False)
    check = judge("cart", DIGEST, bundles(statements()), strict, entry())
    assert "states Sonar SKIPPED" in check.failing[0].problem
    passed = statements(sonar="PASSED")
    assert judge("cart", DIGEST, bundles(passed), strict, entry(sonar={"verdict": "PASSED"})).ok


def test_only_the_required_kinds_are_judged() -> None:
    policy = SignaturePolicy((EvidenceKind.SIGNATURE,), key=NamedKey("demo.pub"))
    check = judge("cart", DIGEST, bundles({EvidenceKind.SIGNATURE: signature_statement(DIGEST, name=NAME)}), policy, None)
    assert check.ok and check.policy == "key demo.pub" and [k.kind for k in check.kinds] == [EvidenceKind.SIGNATURE]


def test_a_policy_names_exactly_one_signer_and_at_least_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        SignaturePolicy(ALL_KINDS)
    with pytest.raises(ValueError, match="exactly one"):
        SignaturePolicy(ALL_KINDS, keyless=KEYLESS, key=NamedKey("k"))
    with pytest.raises(ValueError, match="at least one"):
        SignaturePolicy((), key=NamedKey("k"))
    assert KeylessIdentity("i", "id").describe() == "identity id from i"


def test_required_kinds_default_to_all_with_the_verification_when_required() -> None:
    assert required_kinds(None, verification_required=True) == ALL_KINDS
    assert EvidenceKind.VERIFICATION not in required_kinds(None, verification_required=False)
    assert required_kinds(["sbom", "signature"], verification_required=False) == (EvidenceKind.SIGNATURE,
                                                                                 EvidenceKind.SBOM)
    with pytest.raises(ValueError, match="unknown evidence kind.*sbon"):
        required_kinds(["sbon"], verification_required=True)


def test_same_claim_ignores_volatile_parts_but_not_verdicts() -> None:
    first = statements()[EvidenceKind.PROVENANCE]
    rerun = provenance_statement(DIGEST, name=NAME, repository="o/r", commit=COMMIT,
                                 workflow_path=".github/workflows/release.yml", ref="refs/heads/main",
                                 inputs_sha256="sha256:" + "1" * 64,
                                 builder_id="https://github.com/actions/runner/github-hosted", invocation_id="run 2")
    assert same_claim(first, rerun, DIGEST)
    assert not same_claim(statements()[EvidenceKind.VERIFICATION], statements(verification="FAILED")[
        EvidenceKind.VERIFICATION], DIGEST)
    assert not same_claim(first, statements()[EvidenceKind.SBOM], DIGEST)
    assert not same_claim(statements(OTHER)[EvidenceKind.SBOM], statements()[EvidenceKind.SBOM], DIGEST)
    unknown = Statement(first.subjects, "https://example.com/other")
    assert not same_claim(unknown, unknown, DIGEST)
