"""`release`, `promote`, `rollback` and `status` (devops/app) on in-memory fakes: every refusal
writes nothing, and what is written is exactly what the gates and the records vouch for."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devops.app.gitops_publish import GitOpsSession
from devops.app.plan import ServicePlan
from devops.app.promote import promote
from devops.app.release import Delivered, MayPush, ScanOutcome, SonarResult, release
from devops.app.rollback import releases, rollback
from devops.app.status import environment_status
from devops.domain.images.identity import BuildInputs
from devops.domain.release.evidence import EvidenceSettings
from devops.errors import BadInput, DevopsError, ExitCode, ExternalError, GateFailed, GateUnavailable
from tests.app.release.conftest import (
    DIGEST_A,
    DIGEST_B,
    DIGEST_C,
    RECORD,
    REPOSITORY,
    SERVICES,
    SOURCE,
    VALUES,
    Gitops,
    entry,
    record_text,
    values_text,
)

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
ORDER = list(SERVICES)
CLEAN = ScanOutcome(True, {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 1}, 0, "0.76.0", "2026-11-26T00:00:00Z")
DIRTY = ScanOutcome(False, {"CRITICAL": 1}, 1, "0.76.0", None)


@dataclass
class Steps:
    """ReleaseSteps, PromotionSteps and RollbackSteps in memory, recording what was asked."""

    gitops: Gitops
    pushed: dict[str, str] = field(default_factory=lambda: {"alpha": DIGEST_A, "beta": DIGEST_B})
    known: dict[str, str | None] = field(default_factory=dict)  # what the registry has for the inputs
    scans: dict[str, ScanOutcome] = field(default_factory=dict)
    sonars: dict[str, SonarResult] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # service -> build error
    push_errors: dict[str, str] = field(default_factory=dict)  # service -> why its push failed
    sonar_errors: dict[str, DevopsError] = field(default_factory=dict)  # service -> Sonar could not be evaluated
    in_registry: set[str] = field(default_factory=lambda: {DIGEST_A, DIGEST_B, DIGEST_C})
    asked: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # service -> its input hash (default: letter x 64)
    registry_asked: list[str] = field(default_factory=list)  # services whose digest the registry was asked for

    def released_by(self) -> dict[str, Any]:
        return {"actor": "alice", "via": "cli", "run_url": None}

    @contextmanager
    def open_repo(self, environment: str) -> Iterator[GitOpsSession]:
        self.asked.append(f"open {environment}")
        with self.gitops.open_repo(environment) as repo:
            yield repo

    def plan(self, services: Sequence[str]) -> list[ServicePlan]:
        return [ServicePlan(s, f"services/{s}", REPOSITORY.format(service=s), inputs_of(s, self.inputs.get(s)), True,
                            "new") for s in services]

    def registry_digest(self, plan: ServicePlan) -> str | None:
        self.registry_asked.append(plan.service)
        return self.known.get(plan.service)

    def deliver(self, plans: Sequence[ServicePlan], known: Mapping[str, str | None],
                may_push: MayPush) -> list[Delivered]:
        """Build (or `broken`), scan (`scans`, else CLEAN), and push each image that `may_push` lets
        through, one after the other in the order asked, as the real steps do as each scan ends."""
        self.asked.append("deliver " + ",".join(p.service for p in plans))
        delivered = []
        for p in plans:
            if p.service in self.broken:
                delivered.append(Delivered(p.service, f"local/{p.service}", "built", error=self.broken[p.service]))
                continue
            scan = self.scans.get(p.service, CLEAN)
            if not may_push(p.service, scan):
                delivered.append(Delivered(p.service, f"local/{p.service}", "built", scan=scan))
                continue
            self.asked.append(f"push {p.service}")
            failure = self.push_errors.get(p.service, "")
            delivered.append(Delivered(p.service, f"local/{p.service}", "built", scan=scan, push_error=failure,
                                       digest="" if failure else self.pushed[p.service], pushed=not failure))
        return delivered

    def sonar(self, service: str) -> SonarResult:
        self.asked.append(f"sonar {service}")
        if service in self.sonar_errors:
            raise self.sonar_errors[service]
        return self.sonars.get(service, SonarResult("SKIPPED", "SONAR_TOKEN is not set", outcome="skipped"))

    def tag_release(self, plans: Sequence[ServicePlan], digests: Mapping[str, str]) -> None:
        self.asked.append("tag " + ",".join(f"{p.service}@{digests[p.service][7:10]}" for p in plans))

    def human_tag(self, plan: ServicePlan) -> str:
        return "sha-1234567"

    def source_commit(self) -> str | None:
        return SOURCE

    def source_committed_at(self) -> str | None:
        return "2026-11-25T09:00:00Z"

    def repository(self, service: str) -> str | None:
        return REPOSITORY.format(service=service) if service in SERVICES else None

    def registry_has(self, repository: str, digest: str) -> bool:
        self.asked.append(f"registry {digest[7:10]}")
        return digest in self.in_registry

    def rescan(self, service: str, repository: str, digest: str) -> ScanOutcome:
        self.asked.append(f"rescan {service}")
        return self.scans.get(service, CLEAN)


def inputs_of(service: str, digest: str | None = None) -> BuildInputs:
    return BuildInputs(Path(f"/p/services/{service}"), Path(f"/p/services/{service}/Dockerfile"), {}, ("debian",), 1,
                       digest or service[0] * 64)


@pytest.fixture
def steps(gitops: Gitops) -> Steps:
    return Steps(gitops)


def released(gitops: Gitops, env: str, **digests: str) -> None:
    """The environment runs `digests` with passing evidence (values and record), as a release leaves it."""
    files = {VALUES.format(env=env, service=s): values_text(s, f"sha-{d[7:14]}", d) for s, d in digests.items()}
    files[RECORD.format(env=env)] = record_text(env, **{s: entry(s, d) for s, d in digests.items()})
    gitops.remote.land("main", files, f"release({env})")


# -- release ---------------------------------------------------------------------------------


def test_a_release_gates_pushes_and_commits_values_and_record(gitops: Gitops, steps: Steps) -> None:
    report = release("dev", ["beta", "alpha"], ORDER, steps, now=NOW)
    assert [s.service for s in report.services] == ["alpha", "beta"]  # config order
    assert {s.status for s in report.services} == {"released"} and report.publish is not None
    assert report.publish.outcome == "committed" and len(report.changed) == 2
    written = gitops.record("dev")
    assert written["released_by"]["actor"] == "alice" and written["source_commit"] == SOURCE
    alpha = written["services"]["alpha"]
    assert (alpha["digest"], alpha["scan"]["verdict"], alpha["sonar"]["verdict"]) == (DIGEST_A, "PASSED", "SKIPPED")
    assert alpha["source_committed_at"] == "2026-11-25T09:00:00Z"  # where DORA's lead time starts
    # Each image is pushed (identity tag) after its own gates, Sonar's verdicts first; the human
    # tags only once every gate of every service passed, then the one commit.
    assert [a for a in steps.asked if not a.startswith("sonar")] == [
        "open dev", "deliver beta,alpha", "push beta", "push alpha", "tag beta@bbb,alpha@aaa"]
    assert max(steps.asked.index(f"sonar {s}") for s in ORDER) < steps.asked.index("push beta")


def test_the_record_knows_the_inputs_it_runs_so_nothing_is_asked(gitops: Gitops, steps: Steps) -> None:
    first = release("dev", ORDER, ORDER, steps, now=NOW)
    assert first.publish is not None and gitops.record("dev")["services"]["alpha"]["inputs"] == "a" * 64
    steps.registry_asked.clear()
    again = release("dev", ORDER, ORDER, steps, now=NOW)
    assert [s.status for s in again.services] == ["unchanged", "unchanged"] and again.publish is None
    assert steps.registry_asked == []  # the record vouches for both: no registry request
    steps.inputs["beta"] = "f" * 64  # beta's inputs changed: only beta is asked about
    steps.known = {"beta": DIGEST_C}
    steps.pushed["beta"] = DIGEST_C
    third = release("dev", ORDER, ORDER, steps, now=NOW)
    assert steps.registry_asked == ["beta"] and [s.status for s in third.services] == ["unchanged", "released"]


def test_a_record_entry_for_another_digest_is_not_trusted(gitops: Gitops, steps: Steps) -> None:
    release("dev", ORDER, ORDER, steps, now=NOW)
    # Someone edits beta's values file by hand (a rollback, an emergency pin): same inputs, other digest.
    gitops.remote.land("main", {VALUES.format(env="dev", service="beta"): values_text("beta", "pin", DIGEST_C)}, "pin")
    steps.registry_asked.clear()
    steps.known = {"beta": DIGEST_B}
    report = release("dev", ORDER, ORDER, steps, now=NOW)
    assert steps.registry_asked == ["beta"]
    assert [(s.service, s.status) for s in report.services] == [("alpha", "unchanged"), ("beta", "released")]


def test_what_the_environment_runs_already_is_unchanged_and_not_rebuilt(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    steps.known = {"alpha": DIGEST_A}
    report = release("dev", ORDER, ORDER, steps, now=NOW)
    assert [(s.service, s.status) for s in report.services] == [("alpha", "unchanged"), ("beta", "released")]
    assert "deliver beta" in steps.asked and "deliver alpha,beta" not in steps.asked


def test_nothing_to_release_publishes_nothing(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    steps.known = {"alpha": DIGEST_A, "beta": DIGEST_B}
    report = release("dev", ORDER, ORDER, steps, now=NOW)
    assert report.publish is None and report.changed == [] and steps.asked == ["open dev"]


def test_a_dry_run_with_known_digests_shows_the_change_and_writes_nothing(gitops: Gitops, steps: Steps) -> None:
    steps.known = {"alpha": DIGEST_A, "beta": DIGEST_B}
    before = gitops.commits()
    report = release("dev", ORDER, ORDER, steps, now=NOW, dry_run=True)
    assert report.publish is not None and report.publish.outcome == "dry-run"
    assert {s.status for s in report.services} == {"would-release"} and gitops.commits() == before


def test_a_dry_run_with_new_inputs_says_they_are_built_on_release(steps: Steps) -> None:
    report = release("dev", ["alpha"], ORDER, steps, now=NOW, dry_run=True)
    assert report.publish is None and report.services[0].note.startswith("new inputs")
    assert steps.asked == ["open dev"]


def identity(service: str) -> str:
    """Where an image that passed its own gates is kept when a sibling fails: its identity tag."""
    return f"{REPOSITORY.format(service=service)}:{inputs_of(service).tag}"


def assert_nothing_released(gitops: Gitops, steps: Steps, message: str, *, kept: list[str]) -> None:
    """The precise rule when a release stops: only the images that passed their own gates were
    pushed, under their identity tag alone (no human tags), the message names exactly those,
    and the GitOps branch is unchanged."""
    assert message.startswith("release to dev stopped, nothing released: "), message
    assert [a.removeprefix("push ") for a in steps.asked if a.startswith("push ")] == kept
    assert not [a for a in steps.asked if a.startswith("tag ")], "no human tag without every gate"
    for service in ORDER:
        assert (identity(service) in message) == (service in kept), message
    assert ("no image was pushed" in message) == (not kept)
    assert gitops.commits() == 1 and gitops.record("dev")["services"] == {}


def test_a_build_that_failed_stops_the_release_and_only_its_siblings_that_passed_are_kept(
        gitops: Gitops, steps: Steps) -> None:
    steps.broken = {"beta": "COPY failed: no such file\nmore"}
    with pytest.raises(ExternalError) as caught:
        release("dev", ORDER, ORDER, steps, now=NOW)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert str(caught.value).startswith("release to dev stopped, nothing released: beta: COPY failed: no such file; ")
    assert_nothing_released(gitops, steps, str(caught.value), kept=["alpha"])


@pytest.mark.parametrize(("scans", "sonars", "why", "kept"), [
    ({"alpha": DIRTY}, {}, "alpha: 1 finding(s) over the scan policy", ["beta"]),
    ({"alpha": DIRTY, "beta": DIRTY}, {}, "beta: 1 finding(s) over the scan policy", []),
    ({}, {"beta": SonarResult("ERROR", failing="coverage < 80", outcome="fail")},
     "beta: Sonar quality gate ERROR (coverage < 80)", ["alpha"]),
    ({}, {"beta": SonarResult("ERROR")}, "beta: Sonar quality gate ERROR", ["alpha"]),  # outcome unset: fail closed
])
def test_a_gate_that_says_no_refuses_the_whole_release(gitops: Gitops, steps: Steps, scans: dict[str, ScanOutcome],
                                                      sonars: dict[str, SonarResult], why: str,
                                                      kept: list[str]) -> None:
    steps.scans, steps.sonars = scans, sonars
    with pytest.raises(GateFailed) as caught:
        release("dev", ORDER, ORDER, steps, now=NOW)
    assert caught.value.exit_code == ExitCode.GATE_FAILED and why in str(caught.value)
    assert_nothing_released(gitops, steps, str(caught.value), kept=kept)


def test_a_sonar_that_cannot_be_evaluated_keeps_every_image_out_with_its_exit_code(
        gitops: Gitops, steps: Steps) -> None:
    steps.sonar_errors = {"alpha": GateUnavailable("api/qualitygates/project_status: 503 after 5 attempts")}
    with pytest.raises(DevopsError) as caught:
        release("dev", ORDER, ORDER, steps, now=NOW)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "Sonar: api/qualitygates/project_status: 503 after 5 attempts" in str(caught.value)
    assert_nothing_released(gitops, steps, str(caught.value), kept=[])


def test_a_push_that_failed_stops_the_release_and_names_what_was_kept(gitops: Gitops, steps: Steps) -> None:
    steps.push_errors = {"alpha": "docker push: unauthorized: authentication required"}
    with pytest.raises(ExternalError) as caught:
        release("dev", ORDER, ORDER, steps, now=NOW)
    assert caught.value.exit_code == ExitCode.EXTERNAL
    assert "alpha: push failed: docker push: unauthorized" in str(caught.value)
    # alpha's push was tried (and failed): not in the registry, so not named as kept.
    assert identity("alpha") not in str(caught.value) and identity("beta") in str(caught.value)
    assert not [a for a in steps.asked if a.startswith("tag ")] and gitops.commits() == 1


def test_a_gate_refusal_wins_over_a_failed_step(gitops: Gitops, steps: Steps) -> None:
    """A build failed (exit 3) and a scan said no (exit 1): exit 1, and both are named."""
    steps.broken, steps.scans = {"beta": "COPY failed"}, {"alpha": DIRTY}
    with pytest.raises(GateFailed) as caught:
        release("dev", ORDER, ORDER, steps, now=NOW)
    assert "alpha: 1 finding(s) over the scan policy" in str(caught.value) and "beta: COPY failed" in str(caught.value)
    assert_nothing_released(gitops, steps, str(caught.value), kept=[])


def test_a_sonar_pass_is_recorded_as_passed(gitops: Gitops, steps: Steps) -> None:
    steps.sonars = {"alpha": SonarResult("OK", dashboard_url="https://sonar.example/d", outcome="pass")}
    release("dev", ["alpha"], ORDER, steps, now=NOW)
    sonar = gitops.record("dev")["services"]["alpha"]["sonar"]
    assert (sonar["verdict"], sonar["status"], sonar["dashboard_url"]) == ("PASSED", "OK", "https://sonar.example/d")


# -- promote ---------------------------------------------------------------------------------


def test_a_promotion_writes_the_source_digests_with_their_evidence(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    report = promote("prod", "dev", [], ORDER, steps, EvidenceSettings(scan_max_age_days=None), now=NOW)
    assert report.source == "dev" and {s.status for s in report.services} == {"released"}
    prod = gitops.record("prod")
    assert prod["promoted_from"]["environment"] == "dev"
    assert prod["services"]["alpha"]["scan"] == {k: v for k, v in entry("alpha", DIGEST_A)["scan"].items() if v}
    assert f'digest: "{DIGEST_B}"' in (gitops.file(VALUES.format(env="prod", service="beta")) or "")


def test_a_promotion_of_what_prod_runs_publishes_nothing(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    policy = EvidenceSettings(scan_max_age_days=None)
    promote("prod", "dev", ["alpha"], ORDER, steps, policy, now=NOW)
    commits = gitops.commits()
    again = promote("prod", "dev", ["alpha"], ORDER, steps, policy, now=NOW)
    assert again.publish is None and again.services[0].status == "unchanged" and gitops.commits() == commits


@pytest.mark.parametrize(("setup", "policy", "why"), [
    (lambda g: None, EvidenceSettings(), "dev's release record lists no service"),
    (lambda g: released(g, "dev", beta=DIGEST_B), EvidenceSettings(), "no entry for alpha"),
    (lambda g: g.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A, repository="evil.example/shop/alpha"))}),
     EvidenceSettings(), "names repository 'evil.example/shop/alpha', not the configured"),
    (lambda g: g.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A, scan={"verdict": "FAILED"}))}),
     EvidenceSettings(), "scan verdict is FAILED"),
    (lambda g: released(g, "dev", alpha=DIGEST_A), EvidenceSettings(scan_max_age_days=None, require_verification=True),
     "not verified in dev"),
])
def test_a_promotion_without_the_evidence_is_refused_before_anything_is_written(
        gitops: Gitops, steps: Steps, setup: Any, policy: EvidenceSettings, why: str) -> None:
    setup(gitops)
    commits = gitops.commits()
    with pytest.raises(GateFailed, match=why):
        promote("prod", "dev", ["alpha"], ORDER, steps, policy, now=NOW)
    assert gitops.commits() == commits and "open prod" not in steps.asked


def test_a_digest_gone_from_the_registry_is_refused(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    steps.in_registry = set()
    with pytest.raises(GateFailed, match=r"recorded in dev no longer exists in the registry"):
        promote("prod", "dev", ["alpha"], ORDER, steps, EvidenceSettings(scan_max_age_days=None), now=NOW)


def test_expired_scan_evidence_is_renewed_by_a_rescan_of_the_same_digest(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    later = NOW + dt.timedelta(days=2)
    report = promote("prod", "dev", ["alpha"], ORDER, steps, EvidenceSettings(scan_max_age_days=1), now=later)
    assert "rescan alpha" in steps.asked
    assert gitops.record("prod")["services"]["alpha"]["scan"]["checked_at"] == "2026-11-28T09:00:00Z"
    assert report.services[0].status == "released"
    steps.scans = {"alpha": DIRTY}
    with pytest.raises(GateFailed, match="the scan evidence expired and a rescan found 1 finding"):
        promote("prod", "dev", ["alpha"], ORDER, steps, EvidenceSettings(scan_max_age_days=1),
                now=NOW + dt.timedelta(days=3))
    assert gitops.record("prod")["services"]["alpha"]["scan"]["checked_at"] == "2026-11-28T09:00:00Z"  # unchanged


# -- rollback --------------------------------------------------------------------------------


def test_a_rollback_restores_an_earlier_record_as_a_new_commit(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    released(gitops, "dev", alpha=DIGEST_C)
    report = rollback("dev", "previous", ORDER, steps, now=NOW)
    assert report.services[0].status == "released" and report.services[0].previous_digest == DIGEST_C
    written = gitops.record("dev")
    assert written["services"]["alpha"]["digest"] == DIGEST_A and len(written["rolled_back_to"]) == 40
    assert [h.subject for h in releases("dev", steps)][0] == "rollback(dev): alpha sha-aaaaaaa"


def test_rolling_back_to_what_runs_is_unchanged(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    report = rollback("dev", "~1", ORDER, steps, now=NOW)
    assert report.publish is None and report.services[0].status == "unchanged"


@pytest.mark.parametrize(("setup", "error", "why"), [
    (lambda g: None, BadInput, "lists no service; nothing to restore"),  # back to the initial record
    (lambda g: g.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A, repository="evil.example/a"))}), GateFailed,
     "names repository 'evil.example/a'"),
])
def test_a_rollback_to_a_record_that_cannot_be_restored_is_refused(gitops: Gitops, steps: Steps, setup: Any,
                                                                   error: type[Exception], why: str) -> None:
    setup(gitops)
    released(gitops, "dev", alpha=DIGEST_B)
    commits = gitops.commits()
    with pytest.raises(error, match=why):
        rollback("dev", "previous", ORDER, steps, now=NOW)
    assert gitops.commits() == commits


def test_a_rollback_to_a_digest_gone_from_the_registry_is_refused(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A)
    released(gitops, "dev", alpha=DIGEST_B)
    steps.in_registry = {DIGEST_B}
    with pytest.raises(GateFailed, match="no longer exists in the registry"):
        rollback("dev", "previous", ORDER, steps, now=NOW)


# -- status ----------------------------------------------------------------------------------


def test_status_shows_what_runs_its_evidence_and_what_a_promotion_would_change(gitops: Gitops, steps: Steps) -> None:
    released(gitops, "dev", alpha=DIGEST_A, beta=DIGEST_B)
    released(gitops, "prod", alpha=DIGEST_A)
    gitops.remote.land("main", {VALUES.format(env="prod", service="beta"): values_text("beta", "hand", DIGEST_C)})
    dev, prod = environment_status(["dev", "prod"], {"prod": "dev"}, ORDER, steps, now=NOW)
    alpha = dev.services[0]
    assert (alpha.digest, alpha.scan, alpha.sonar, alpha.age, alpha.source_commit) == (
        DIGEST_A, "PASSED", "SKIPPED", "23h", SOURCE)
    assert prod.pending == {"beta": (DIGEST_C, DIGEST_B)} and prod.services[1].promotion == f"-> {DIGEST_B[:19]}"
    hand = prod.services[1]  # edited by hand: the record does not vouch for it
    assert (hand.scan, hand.sonar, hand.released_at) == ("no evidence", "", "")
    assert json.loads(json.dumps(prod.pending))  # plain data for the JSON result
    assert prod.released_by == "alice" and dev.promote_from is None
