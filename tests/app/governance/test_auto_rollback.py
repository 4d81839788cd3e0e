"""Automatic rollback on the use cases: a release whose verification fails restores the last
verified release exactly once, never an unverified one, marks itself, and a rollback that cannot
be written is exit 3 with the verification still reported. The verification runs against the
fake Prometheus (errors over the budget fail it)."""

from __future__ import annotations

import pytest

from devops.app.auto_rollback import auto_rollback
from devops.domain.gitops.message import parse_trailers
from devops.domain.release.results import ReleaseReport
from devops.errors import ExitCode, GateFailed
from tests.app.governance.conftest import World, governance_config, verification, verified_release
from tests.app.release.conftest import DIGEST_A, DIGEST_B, DIGEST_C, RECORD, VALUES, entry, record_text, values_text
from tests.fakes.gitops import DENIED


@pytest.fixture
def broken(world: World) -> World:
    """dev runs alpha A and beta B, verified; the next build of alpha is C, and it fails verification."""
    world.good = verified_release(world.gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)  # type: ignore[attr-defined]
    world.steps.known = {"beta": DIGEST_B}
    world.steps.pushed = {"alpha": DIGEST_C, "beta": DIGEST_B}
    world.prometheus.errors = 0.5
    return world


def test_a_failed_verification_restores_the_last_verified_release_exactly_once(broken: World) -> None:
    world = broken
    before = world.gitops.commits()
    report, error = world.release("dev")
    assert isinstance(error, GateFailed) and error.exit_code == ExitCode.GATE_FAILED  # the verification's verdict
    assert report.verification is not None and report.verification.verification.verdict == "FAILED"
    auto = report.auto_rollback
    assert auto is not None and auto.outcome == "rolled-back" and auto.restored == world.good  # type: ignore[attr-defined]
    assert world.gitops.commits() == before + 3  # the release, its FAILED verdict, the rollback
    record = world.gitops.record("dev")
    assert record["services"]["alpha"]["digest"] == DIGEST_A and record["services"]["beta"]["digest"] == DIGEST_B
    assert record["rollback"] == {"automatic": True, "reason": "verification FAILED: alpha (availability); "
                                  "beta (availability)", "failed_commit": report.publish.commit,  # type: ignore[union-attr]
                                  "restored": world.good}  # type: ignore[attr-defined]
    assert record["rolled_back_to"] == world.good  # type: ignore[attr-defined]
    assert record["services"]["alpha"]["rolled_back_from"]["digest"] == DIGEST_C
    assert "rolled_back_from" not in record["services"]["beta"]  # beta did not change
    assert world.gitops.file(VALUES.format(env="dev", service="alpha")) == values_text("alpha", "sha-aaaaaaa", DIGEST_A)
    remote = world.gitops.remote
    message = remote.commits[remote.branches["main"]].message
    assert message.startswith("rollback(dev): alpha sha-aaaaaaa")
    trailers = parse_trailers(message)
    assert trailers["Devops-Automatic-Rollback"] == [report.publish.commit]  # type: ignore[union-attr]
    assert trailers["Devops-Rollback-Reason"][0].startswith("verification FAILED: alpha")
    assert world.told.kinds() == ["release", "verification-failed", "rollback"]
    told = world.told.events[2]
    assert told.data["automatic"] is True and told.severity == "error" and "failed verification" in told.summary

    # The next run of the same source: alpha's broken digest is held back, nothing is released,
    # verified or rolled back again.
    after = world.gitops.commits()
    world.steps.known = {"alpha": DIGEST_C, "beta": DIGEST_B}
    again, error = world.release("dev")
    assert error is None and again.publish is None and again.auto_rollback is None
    alpha = next(s for s in again.services if s.service == "alpha")
    assert alpha.status == "unchanged" and alpha.note.startswith("held: rolled back automatically")
    assert world.gitops.commits() == after and world.told.kinds().count("rollback") == 1


def test_a_new_build_of_the_held_service_is_released_again(broken: World) -> None:
    world = broken
    world.release("dev")
    world.prometheus.errors = 0.0
    world.steps.known = {"beta": DIGEST_B}
    world.steps.pushed = {"alpha": "sha256:" + "d" * 64, "beta": DIGEST_B}
    report, error = world.release("dev")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"
    entry_now = world.gitops.record("dev")["services"]["alpha"]
    assert entry_now["digest"] == "sha256:" + "d" * 64 and "rolled_back_from" not in entry_now


def test_a_passing_verification_rolls_nothing_back(broken: World) -> None:
    broken.prometheus.errors = 0.0
    report, error = broken.release("dev")
    assert error is None and report.auto_rollback is None and "rollback" not in broken.gitops.record("dev")


def test_without_auto_rollback_a_failed_verification_only_fails(broken: World) -> None:
    broken.config = governance_config(auto_rollback=False)
    report, error = broken.release("dev")
    assert isinstance(error, GateFailed) and report.auto_rollback is None
    assert broken.gitops.record("dev")["services"]["alpha"]["digest"] == DIGEST_C


def test_an_unverified_release_is_never_the_target(world: World) -> None:
    # An older release that was never verified, then a verified one of beta only: alpha has no
    # verified digest to go back to.
    files = {VALUES.format(env="dev", service="alpha"): values_text("alpha", "sha-aaaaaaa", DIGEST_A),
             RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A))}
    world.gitops.remote.land("main", files, "release(dev): alpha, never verified")
    world.steps.pushed = {"alpha": DIGEST_C, "beta": DIGEST_B}
    world.prometheus.errors = 0.5
    before = world.gitops.commits()
    report, error = world.release("dev")
    assert isinstance(error, GateFailed) and report.auto_rollback is not None
    assert report.auto_rollback.outcome == "no-target" and "devops rollback --env dev --to REF" in \
        report.auto_rollback.detail
    assert world.gitops.commits() == before + 2  # the release and its verdict, no rollback
    assert world.told.kinds() == ["release", "verification-failed", "rollback"]
    assert world.told.events[2].data["outcome"] == "no-target"


def test_a_rollback_that_cannot_be_written_is_exit_3_with_the_verification_reported(broken: World) -> None:
    world = broken
    opened = []

    def deny_the_rollbacks_push(repo: object) -> None:
        opened.append(repo)
        if len(opened) == 4:  # release, verify, find the target, the rollback
            repo.refusals.append(DENIED)  # type: ignore[attr-defined]

    world.gitops.on_open.append(deny_the_rollbacks_push)
    report, error = world.release("dev")
    assert error is not None and error.exit_code == ExitCode.EXTERNAL
    assert "verification FAILED: alpha (availability)" in str(error)
    assert "the automatic rollback could not be written: push to fake://gitops.git (main) refused" in str(error)
    assert report.verification is not None and report.verification.verification.verdict == "FAILED"
    assert report.auto_rollback is not None and report.auto_rollback.outcome == "failed"
    assert world.gitops.record("dev")["services"]["alpha"]["digest"] == DIGEST_C  # nothing rolled back
    assert world.told.kinds()[-1] == "rollback" and world.told.events[-1].severity == "error"


def test_a_rollback_refused_by_policy_leaves_the_verification_failure(broken: World) -> None:
    broken.steps.in_registry = {DIGEST_B, DIGEST_C}  # alpha's verified digest is gone from the registry
    report, error = broken.release("dev")
    assert isinstance(error, GateFailed) and "is not healthy" in str(error)
    assert report.auto_rollback is not None and report.auto_rollback.outcome == "refused"
    assert "no longer exists in the registry" in report.auto_rollback.detail


def test_an_automatic_rollback_is_never_rolled_back(world: World) -> None:
    verified_release(world.gitops, "dev", alpha=DIGEST_A)
    data = {"schema": 1, "environment": "dev", "released_at": "2026-11-26T08:00:00Z", "released_by": None,
            "source_commit": None, "promoted_from": None,
            "services": {"alpha": entry("alpha", DIGEST_B, verification=verification(DIGEST_B, verdict="FAILED"))},
            "rollback": {"automatic": True, "reason": "verification FAILED", "restored": "a" * 40}}
    import json

    world.gitops.remote.land("main", {RECORD.format(env="dev"): json.dumps(data)})
    report = ReleaseReport("dev", "release")
    assert auto_rollback(report, ["alpha", "beta"], world.steps, now=world.governance("dev").clock(),
                         notifier=world.told) is None
    assert report.auto_rollback is not None and report.auto_rollback.outcome == "not-needed"
    assert world.gitops.record("dev")["services"]["alpha"]["digest"] == DIGEST_B


def test_a_verified_digest_of_another_environment_is_not_verified_here(world: World) -> None:
    files = {VALUES.format(env="dev", service="alpha"): values_text("alpha", "sha-aaaaaaa", DIGEST_A),
             RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A, verification={
                 **verification(DIGEST_A), "environment": "staging"}))}
    world.gitops.remote.land("main", files)
    world.steps.pushed = {"alpha": DIGEST_C, "beta": DIGEST_B}
    world.prometheus.errors = 0.5
    report, _ = world.release("dev")
    assert report.auto_rollback is not None and report.auto_rollback.outcome == "no-target"
