"""Soak time on the promotion use case: a digest goes to prod only after it ran verified in dev for
`environments.prod.evidence.min_soak`, counted from the records, on a clock that stands still."""

from __future__ import annotations

import pytest

from devops.app.release_run import ReleaseRequest, run_release
from devops.domain.release.evidence import EvidenceSettings
from devops.errors import ExitCode, GateFailed
from tests.app.governance.conftest import World, governance_config, verification, verified_release
from tests.app.release.conftest import DIGEST_A, DIGEST_B, RECORD, entry, record_text


def test_a_digest_that_has_not_soaked_long_enough_is_refused_with_the_time_left(world: World) -> None:
    world.config = governance_config(min_soak="2h")
    verified_release(world.gitops, "dev", "2026-11-26T08:00:00Z", alpha=DIGEST_A, beta=DIGEST_B)  # NOW - 1h
    commits = world.gitops.commits()
    with pytest.raises(GateFailed) as refused:
        world.release("prod")
    message = str(refused.value)
    assert refused.value.exit_code == ExitCode.GATE_FAILED
    assert ("alpha sha256:aaaaaaaaaaaa: verified in dev 1h ago (since 2026-11-26T08:00:00Z), min_soak is 2h: "
            "1h left (promotable from 2026-11-26T10:00:00Z)") in message
    assert "beta sha256:bbbbbbbbbbbb" in message and world.gitops.commits() == commits
    assert not any(a.startswith("registry") for a in world.steps.asked)  # refused before the registry is asked


def test_a_digest_that_soaked_long_enough_is_promoted(world: World) -> None:
    world.config = governance_config(min_soak="2h")
    verified_release(world.gitops, "dev", "2026-11-26T07:00:00Z", alpha=DIGEST_A, beta=DIGEST_B)  # NOW - 2h exactly
    report, error = world.release("prod")
    assert error is None and report.publish is not None and report.publish.outcome == "committed"
    assert world.gitops.record("prod")["services"]["alpha"]["digest"] == DIGEST_A


def test_the_soak_counts_from_the_first_of_consecutive_passing_verdicts(world: World) -> None:
    world.config = governance_config(min_soak="2h")
    files = {RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A, verification=verification(
        DIGEST_A, "2026-11-26T08:55:00Z", passing_since="2026-11-26T06:30:00Z")))}
    world.gitops.remote.land("main", files)
    report, error = world.release("prod", services=("alpha",))
    assert error is None and report.publish is not None


@pytest.mark.parametrize(("evidence", "why"), [
    ({"verification": verification(DIGEST_A, verdict="FAILED")}, "its verification in dev is FAILED"),
    ({"verification": {**verification(DIGEST_A), "verified_at": None}}, "the record has no time it was verified there"),
])
def test_a_digest_without_a_passing_verification_time_has_not_started_its_soak(
        world: World, evidence: dict[str, object], why: str) -> None:
    world.config = governance_config(min_soak="30m")
    world.gitops.remote.land("main", {RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A,
                                                                                             **evidence))})
    # Verification itself not required here: the soak rule alone refuses it.
    with pytest.raises(GateFailed, match=f"alpha sha256:aaaaaaaaaaaa: has not started its 30m soak in dev .{why}"):
        run_release(world.config, ReleaseRequest("prod", ("alpha",)), world.steps, world.verify_ports(),
                    world.governance("prod", evidence=EvidenceSettings(None, False, False, 1800)))


def test_consecutive_passing_verdicts_keep_when_the_digest_first_passed(world: World) -> None:
    import datetime as dt

    from devops.app.verify_run import verify_environment

    world.gitops.remote.land("main", {RECORD.format(env="dev"): record_text("dev", alpha=entry("alpha", DIGEST_A))})
    from tests.app.release.conftest import VALUES, values_text

    world.gitops.remote.land("main", {VALUES.format(env="dev", service="alpha"): values_text("alpha", "t", DIGEST_A)})
    first = dt.datetime(2026, 11, 26, 6, 0, tzinfo=dt.UTC)
    for hour in (6, 7, 8):
        verify_environment(world.config, "dev", ["alpha"], world.verify_ports(),
                           now=lambda h=hour: first.replace(hour=h))  # type: ignore[misc]
    evidence = world.gitops.record("dev")["services"]["alpha"]["verification"]
    assert (evidence["verified_at"], evidence["passing_since"]) == ("2026-11-26T08:00:00Z", "2026-11-26T06:00:00Z")
    world.prometheus.errors = 0.5  # a failure breaks the run of passing verdicts
    verify_environment(world.config, "dev", ["alpha"], world.verify_ports(), now=lambda: first.replace(hour=9))
    world.prometheus.errors = 0.0
    verify_environment(world.config, "dev", ["alpha"], world.verify_ports(), now=lambda: first.replace(hour=10))
    evidence = world.gitops.record("dev")["services"]["alpha"]["verification"]
    assert evidence["verdict"] == "PASSED" and "passing_since" not in evidence
