"""`devops attest` (devops/app/attest.py) on fakes: one bundle per kind per recorded digest,
nothing signed twice by the same signer, kinds without evidence skipped with why, refusals before
anything is asked or signed."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from devops.app.attest import AttestOptions, attest
from devops.domain.attestation.predicates import EvidenceKind
from devops.domain.attestation.release import SigningRun, SonarProject
from devops.errors import ExitCode, ExternalError, GateFailed
from tests.app.release.conftest import record_text
from tests.app.supplychain.conftest import (
    DIGEST_A,
    DIGEST_B,
    RECORD,
    REPOSITORY,
    Gitops,
    Steps,
    entry,
    record_of,
    released,
)
from tests.fakes.attestations import FakeAttestations

RUN = SigningRun("o/r", ".github/workflows/release.yml", "refs/heads/main",
                 "https://github.com/actions/runner/github-hosted", "https://github.com/o/r/actions/runs/1/attempts/1")
ALL = tuple(EvidenceKind)


def options(**changes: object) -> AttestOptions:
    base: dict[str, object] = {"environment": "dev", "services": (), "order": ("alpha", "beta"), "run": RUN,
                               "sonar": SonarProject("shop"), "method": "keyless"}
    base.update(changes)
    return AttestOptions(**base)  # type: ignore[arg-type]


def stored(steps: Steps, service: str, digest: str) -> list[str]:
    return [b.statement.predicate_type for b in steps.attestations.bundles.get((REPOSITORY.format(service=service),
                                                                              digest), [])]


def test_every_kind_of_every_recorded_digest_is_signed_and_attached(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    report = attest(options(), steps)
    assert report.signer == steps.identity and steps.opened == [steps.identity]
    assert [s.service for s in report.services] == ["alpha", "beta"]
    assert [k.status for k in report.services[0].kinds] == ["signed"] * 6
    assert stored(steps, "alpha", DIGEST_A) == [k.predicate_type for k in ALL]
    for bundle in steps.attestations.bundles[(REPOSITORY.format(service="beta"), DIGEST_B)]:
        assert bundle.statement.digests == (DIGEST_B,) and bundle.signer == steps.identity
    assert report.count("signed") == 12 and report.services[0].kinds[0].note == "fallback-tag"


def test_a_rerun_signs_nothing_the_same_signer_already_attested(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    attest(options(), steps)
    again = attest(options(), steps)
    assert {k.status for k in again.services[0].kinds} == {"present"}
    assert len(stored(steps, "alpha", DIGEST_A)) == 6
    forced = attest(options(force=True), steps)
    assert {k.status for k in forced.services[0].kinds} == {"signed"} and len(stored(steps, "alpha", DIGEST_A)) == 12


def test_another_signer_signs_its_own(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    attest(options(), steps)
    steps.identity = "key:demo"
    report = attest(options(), steps)
    assert {k.status for k in report.services[0].kinds} == {"signed"}


def test_the_verification_is_signed_once_it_is_recorded(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", verified=False, alpha=DIGEST_A)
    first = attest(options(), steps)
    kinds = {k.kind: k for k in first.services[0].kinds}
    assert kinds[EvidenceKind.VERIFICATION].status == "skipped"
    assert "not verified yet: run `devops verify --env dev`" in kinds[EvidenceKind.VERIFICATION].note
    released(gitops, "dev", alpha=DIGEST_A)  # `devops verify --record` wrote the verdict
    second = attest(options(), steps)
    assert [(k.kind, k.status) for k in second.services[0].kinds if k.status != "present"] == [
        (EvidenceKind.VERIFICATION, "signed")]


def test_a_dry_run_opens_no_signer_and_stores_nothing(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    steps.identity = "key:other"
    attest(options(kinds=(EvidenceKind.SIGNATURE,)), steps)
    steps.opened.clear()
    report = attest(options(dry_run=True), steps)
    assert steps.opened == [] and report.signer == "" and report.dry_run
    statuses = {k.kind: k.status for k in report.services[0].kinds}
    assert statuses[EvidenceKind.SIGNATURE] == "present" and statuses[EvidenceKind.SBOM] == "would-sign"
    assert len(stored(steps, "alpha", DIGEST_A)) == 1


def test_only_the_asked_kinds_and_services_ask_for_what_they_need(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    report = attest(options(services=("beta",), kinds=(EvidenceKind.SIGNATURE, EvidenceKind.SONAR)), steps)
    assert [s.service for s in report.services] == ["beta"]
    assert not [a for a in steps.asked if a.startswith(("scan", "labels"))]
    assert stored(steps, "beta", DIGEST_B) == [EvidenceKind.SIGNATURE.predicate_type, EvidenceKind.SONAR.predicate_type]


def test_classic_tags_write_one_att_and_one_sig_per_digest(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    report = attest(options(classic_tags=True), steps)
    tag = DIGEST_A.replace(":", "-")
    assert report.services[0].classic == [f"{tag}.att", f"{tag}.sig"]


@pytest.mark.parametrize(("record", "why"), [
    (record_text("dev", alpha=entry("alpha", DIGEST_A, repository="evil.example/shop/alpha")),
     "names repository 'evil.example/shop/alpha'"),
    (record_text("dev", beta=entry("beta", DIGEST_B)), "no entry for alpha"),
], ids=["foreign-repository", "unreleased"])
def test_a_record_that_cannot_be_signed_is_refused_before_anything_is_asked(
        gitops: Gitops, steps: Steps, record: str, why: str) -> None:
    gitops.remote.land("main", {RECORD.format(env="dev"): record}, "edit")
    with pytest.raises(GateFailed, match=why) as refused:
        attest(options(services=("alpha",)), steps)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    assert steps.opened == [] and steps.attestations.bundles == {} and steps.asked == ["open dev"]


def test_an_empty_record_signs_nothing(gitops: Gitops, steps: Steps) -> None:
    report = attest(options(), steps)
    assert report.services == [] and steps.opened == [] and record_of(gitops, "dev")["services"] == {}


def test_nothing_with_evidence_opens_no_signer(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", verified=False, alpha=DIGEST_A)
    report = attest(options(kinds=(EvidenceKind.VERIFICATION,)), steps)
    assert steps.opened == [] and [k.status for k in report.services[0].kinds] == ["skipped"]


class _Meeting(FakeAttestations):
    """Attachments that prove two services are attached at once: alpha's first attachment waits
    (bounded) until beta's has started; one after the other it would time out."""

    def __init__(self, fail_for: str = "") -> None:
        super().__init__()
        self.beta_started = threading.Event()
        self.order: list[tuple[str, str]] = []
        self.fail_for = fail_for

    def attach(self, repository: str, digest: str, statement: Any, identity: str, *, classic: bool) -> Any:
        service = repository.rsplit("/", 1)[-1]
        self.order.append((service, statement.predicate_type))
        if service == "beta":
            self.beta_started.set()
        elif not self.beta_started.wait(timeout=10):
            raise AssertionError("beta was not attached while alpha was")
        if service == self.fail_for:
            raise ExternalError(f"registry refused {service}")
        return super().attach(repository, digest, statement, identity, classic=classic)


def test_services_are_attached_at_once_each_ones_kinds_in_order_results_in_plan_order(
        gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    steps.attestations = meeting = _Meeting()
    report = attest(options(parallelism=2), steps)
    assert [s.service for s in report.services] == ["alpha", "beta"]
    assert report.count("signed") == 12
    for service in ("alpha", "beta"):
        assert [kind for name, kind in meeting.order if name == service] == [k.predicate_type for k in ALL]


def test_a_failed_attachment_is_raised_after_the_other_services_ended(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    steps.attestations = _Meeting(fail_for="alpha")
    with pytest.raises(ExternalError, match="registry refused alpha"):
        attest(options(parallelism=2), steps)
    assert len(stored(steps, "beta", DIGEST_B)) == 6  # beta's evidence is attached; a re-run signs only alpha's
