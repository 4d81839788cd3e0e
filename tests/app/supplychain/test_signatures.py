"""The signature step of a promotion and `devops verify-signatures` (devops/app/signatures.py) on
fakes: every refusal names the service, the digest and the attestation, and writes nothing; the
prod record notes which bundles were verified."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devops.app.attest import AttestOptions, attest
from devops.app.promote import promote
from devops.app.signatures import SignatureGate, refusal, verify_signatures
from devops.domain.attestation.policy import ALL_KINDS, KeylessIdentity, NamedKey, SignaturePolicy
from devops.domain.attestation.predicates import EvidenceKind, sonar_statement
from devops.domain.attestation.release import SigningRun, SonarProject
from devops.domain.release.evidence import EvidenceSettings
from devops.errors import ExitCode, GateFailed, HttpError
from tests.app.release.conftest import RECORD, VALUES, record_text, values_text
from tests.app.supplychain.conftest import DIGEST_A, DIGEST_B, KEYLESS, REPOSITORY, Gitops, Steps, entry, released
from tests.fakes.attestations import FakeFinder

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
ORDER = ["alpha", "beta"]
EVIDENCE = EvidenceSettings(scan_max_age_days=None, require_verification=True)
RUN = SigningRun("o/r", ".github/workflows/release.yml", "refs/heads/main", "b")
POLICY = SignaturePolicy(ALL_KINDS, keyless=KeylessIdentity("https://token.actions.githubusercontent.com", KEYLESS))
ALPHA, BETA = REPOSITORY.format(service="alpha"), REPOSITORY.format(service="beta")


def signed(steps: Steps, *kinds: EvidenceKind, services: tuple[str, ...] = ()) -> None:
    attest(AttestOptions("dev", services, ORDER, RUN, SonarProject("shop"), "keyless", kinds=kinds or tuple(EvidenceKind)),
           steps)


def gate(steps: Steps, accepts: str = KEYLESS, policy: SignaturePolicy = POLICY) -> SignatureGate:
    return SignatureGate(policy, FakeFinder(steps.attestations, accepts))


def promote_with(steps: Steps, signatures: SignatureGate | None, services: tuple[str, ...] = ()) -> Any:
    return promote("prod", "dev", list(services), ORDER, steps, EVIDENCE, now=NOW, signatures=signatures)


def test_a_promotion_verifies_every_bundle_and_records_which(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    signed(steps)
    report = promote_with(steps, gate(steps))
    prod = gitops.record("prod")["services"]["alpha"]["signatures"]
    assert prod["verdict"] == "PASSED" and prod["policy"] == POLICY.describe()
    referrers = [b.referrer for b in steps.attestations.bundles[(ALPHA, DIGEST_A)]]
    assert list(prod["bundles"].values()) == referrers and list(prod["bundles"]) == [k.value for k in ALL_KINDS]
    assert report.services[0].signatures == prod and report.services[0].status == "released"
    again = promote_with(steps, gate(steps))
    assert again.publish is None and {s.status for s in again.services} == {"unchanged"}


@pytest.mark.parametrize(("setup", "why"), [
    (lambda s: signed(s, *(k for k in EvidenceKind if k is not EvidenceKind.SBOM)),
     f"alpha {DIGEST_A}: sbom: no sbom attestation signed by identity {KEYLESS}"),
    (lambda s: (signed(s), s.attestations.tamper(ALPHA, DIGEST_A, 3)),
     "vulnerabilities: bundle sha256:"),
    (lambda s: (setattr(s, "identity", "key:demo"), signed(s)),
     "signed by key:demo, not " + KEYLESS),
    (lambda s: (signed(s, *(k for k in EvidenceKind if k is not EvidenceKind.SONAR)),
                s.attestations.attach(ALPHA, DIGEST_A, sonar_statement(DIGEST_B, name=BETA, verdict="SKIPPED",
                                                                       project_key="p"), KEYLESS)),
     f"sonar: bundle sha256:[0-9a-f]+…: the {EvidenceKind.SONAR.predicate_type} statement is about sha256:bbbb"),
], ids=["missing-kind", "tampered", "key-bundle-for-keyless-policy", "another-digest"])
def test_a_promotion_without_the_signed_evidence_is_refused_and_writes_nothing(
        gitops: Gitops, steps: Steps, setup: Any, why: str) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    setup(steps)
    commits = gitops.commits()
    with pytest.raises(GateFailed, match=why) as refused:
        promote_with(steps, gate(steps), ("alpha",))
    assert refused.value.exit_code == ExitCode.GATE_FAILED and "promotion to prod refused" in refused.value.message
    assert gitops.commits() == commits and "open prod" not in steps.asked


def test_a_tampered_bundle_says_it_does_not_verify(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    signed(steps)
    steps.attestations.tamper(ALPHA, DIGEST_A, 0)
    with pytest.raises(GateFailed, match="signature: bundle sha256:[0-9a-f]+…: the signature does not verify"):
        promote_with(steps, gate(steps), ("alpha",))


def test_a_key_policy_accepts_its_key_only(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    steps.identity = "key:demo"
    signed(steps)
    key_policy = SignaturePolicy(ALL_KINDS, key=NamedKey("demo.pub"))
    assert promote_with(steps, gate(steps, "key:demo", key_policy)).services[0].signatures["policy"] == "key demo.pub"
    released(gitops, "dev", alpha=DIGEST_B)
    with pytest.raises(GateFailed, match="no signature attestation signed by key demo.pub"):
        promote_with(steps, gate(steps, "key:demo", key_policy))


def test_a_registry_that_cannot_be_read_is_exit_3_and_writes_nothing(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    signed(steps)
    steps.attestations.unreadable.add(ALPHA)
    commits = gitops.commits()
    with pytest.raises(HttpError) as failed:
        promote_with(steps, gate(steps))
    assert failed.value.exit_code == ExitCode.EXTERNAL and gitops.commits() == commits


def test_evidence_refusals_come_before_any_registry_read(gitops: Gitops, steps: Steps) -> None:
    gitops.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A, scan={"verdict": "FAILED"}))}, "edit")
    with pytest.raises(GateFailed, match="scan verdict is FAILED"):
        promote_with(steps, gate(steps))
    assert not [a for a in steps.attestations.asked if a.startswith("referrers")]


def test_without_a_policy_the_step_is_skipped_and_a_forged_block_never_travels(gitops: Gitops, steps: Steps) -> None:
    forged = {"verdict": "PASSED", "policy": "anything", "bundles": {}}
    gitops.remote.land("main", {
        VALUES.format(env="dev", service="alpha"): values_text("alpha", "sha-x", DIGEST_A),
        RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A, signatures=forged))}, "forge")
    report = promote("prod", "dev", ["alpha"], ORDER, steps, EvidenceSettings(scan_max_age_days=None), now=NOW)
    assert report.services[0].signatures == {"verdict": "SKIPPED",
                                             "reason": "environments.prod.signatures is not set"}
    assert "signatures" not in gitops.record("prod")["services"]["alpha"]


def test_verify_signatures_checks_what_the_environment_runs(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    signed(steps)
    report = verify_signatures("dev", ORDER, steps, gate(steps), policy_environment="prod")
    assert [c.service for c in report.checks] == ["alpha"] and report.ok and refusal(report) is None
    assert report.skipped == {"beta": "nothing deployed (its values file names no digest)"}
    assert report.policy_environment == "prod" and report.policy == POLICY.describe()


def test_verify_signatures_refuses_a_digest_the_record_does_not_vouch_for(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    signed(steps)
    gitops.remote.land("main", {VALUES.format(env="dev", service="alpha"): values_text("alpha", "x", DIGEST_B)},
                       "set-image by hand")
    steps.attestations.bundles[(ALPHA, DIGEST_B)] = steps.attestations.bundles[(ALPHA, DIGEST_A)]
    report = verify_signatures("dev", ["alpha"], steps, gate(steps), policy_environment="dev")
    assert not report.ok
    error = refusal(report)
    assert error is not None and error.exit_code == ExitCode.GATE_FAILED
    assert f"alpha {DIGEST_B}: signature: bundle" in error.message and "is about sha256:aaaa" in error.message
