"""`devops rescan` on in-memory fakes (devops/app/rescan.py): the GitOps remote of tests/fakes/gitops.py,
the real scan step (devops/app/scan.py) on the fake Trivy and cache, a registry that has or lacks
digests, a notifier that records what it was told."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pytest

from devops.app.promote import promote
from devops.app.rescan import rescan
from devops.app.scan import scan_images
from devops.domain.gates.policy import Policy
from devops.domain.gates.scan import ImageTarget, ScanRun
from devops.domain.gitops.message import parse_trailers
from devops.domain.release.evidence import EvidenceSettings
from devops.domain.release.rescan import RescanReport, RescanTarget, ServiceRescan, rescan_error
from devops.errors import BadInput, ExitCode, ExternalError, GateFailed
from tests.app.release.conftest import (
    DIGEST_A,
    DIGEST_B,
    DIGEST_C,
    RECORD,
    REPOSITORY,
    VALUES,
    Gitops,
    entry,
    record_text,
    values_text,
)
from tests.app.release.test_release import Steps as PromotionSteps
from tests.fakes.trivy import FakeTrivy, MemoryCache, Vuln

NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
ORDER = ["alpha", "beta"]
POLICY = Policy(severities=("CRITICAL", "HIGH"), ignore_unfixed=False, scanners=("vuln",))


def ref(service: str, digest: str) -> str:
    return f"{REPOSITORY.format(service=service)}@{digest}"


@dataclass
class Notified:
    calls: list[tuple[str, list[str]]] = field(default_factory=list)

    def rescan_finding(self, report: RescanReport, newly_failed: Sequence[ServiceRescan]) -> None:
        self.calls.append((report.environment, [s.target.service for s in newly_failed]))


@dataclass
class Steps:
    """RescanSteps on fakes; `asked` lists what reached the outside, in order."""

    gitops: Gitops
    trivy: FakeTrivy = field(default_factory=FakeTrivy)
    registry: set[str] = field(default_factory=set)  # references the registry has
    asked: list[str] = field(default_factory=list)
    bad_ignore: bool = False
    during_scan: list[Callable[[], object]] = field(default_factory=list)

    def open_repo(self, environment: str):  # type: ignore[no-untyped-def]
        return self.gitops.open_repo(environment)

    def repository(self, service: str) -> str | None:
        return REPOSITORY.format(service=service) if service in ORDER else None

    def image_target(self, service: str, reference: str) -> ImageTarget:
        if self.bad_ignore:
            raise BadInput(".trivyignore.yaml: vulnerabilities[0].id: missing")
        return ImageTarget(reference, POLICY, service, f"services/{service}/Dockerfile")

    def pull(self, target: RescanTarget) -> None:
        self.asked.append(f"pull {target.service}")
        if target.reference not in self.registry:
            raise ExternalError(f"{target.reference}: no longer exists in the registry")

    def scan(self, targets: Sequence[ImageTarget]) -> ScanRun:
        self.asked.append("scan " + ",".join(t.service or "" for t in targets))
        for hook in self.during_scan:
            hook()
        self.during_scan.clear()
        return scan_images(targets, self.trivy, MemoryCache(), lambda refs: {r: f"sha256:{'e' * 64}" for r in refs})


def release(gitops: Gitops, env: str = "dev", **digests: str) -> None:
    files = {VALUES.format(env=env, service=s): values_text(s, "t", d) for s, d in digests.items()}
    files[RECORD.format(env=env)] = record_text(env, **{s: entry(s, d) for s, d in digests.items()})
    gitops.remote.land("main", files, f"release({env})")


@pytest.fixture
def steps(gitops: Gitops) -> Steps:
    release(gitops, alpha=DIGEST_A, beta=DIGEST_B)
    steps = Steps(gitops, registry={ref("alpha", DIGEST_A), ref("beta", DIGEST_B)})
    steps.trivy.images = {ref("alpha", DIGEST_A): (f"sha256:{'e' * 64}", [Vuln("CVE-2099-1", "zlib", "MEDIUM")]),
                          ref("beta", DIGEST_B): (f"sha256:{'e' * 64}", [])}
    return steps


def plant(steps: Steps, service: str, digest: str, vuln: Vuln) -> None:
    image_id, vulns = steps.trivy.images[ref(service, digest)]
    steps.trivy.images[ref(service, digest)] = (image_id, [*vulns, vuln])


def test_a_passing_rescan_refreshes_the_evidence_in_one_commit(gitops: Gitops, steps: Steps) -> None:
    before = gitops.commits()
    report = rescan("dev", ORDER, steps, now=NOW)
    assert rescan_error(report) is None and report.verdict == "PASSED"
    assert steps.asked == ["pull alpha", "scan alpha", "pull beta", "scan beta"]
    assert gitops.commits() == before + 1 and report.publish is not None
    scan = gitops.record("dev")["services"]["alpha"]["scan"]
    assert scan == {"verdict": "PASSED", "counts": {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 1, "LOW": 0, "UNKNOWN": 0},
                    "checked_at": "2026-12-01T03:00:00Z", "trivy_version": "0.76.0",
                    "db_updated_at": "2026-05-01T00:00:00Z"}
    head = gitops.remote.commits[gitops.remote.branches["main"]]
    assert head.subject == "rescan(dev): release record"
    assert parse_trailers(head.message)["Devops-Action"] == ["rescan"]
    assert gitops.record("dev")["released_at"] == "2026-11-25T10:00:00Z"  # a rescan is not a release


def test_a_new_advisory_turns_the_evidence_failed_blocks_promotion_and_notifies(gitops: Gitops,
                                                                               steps: Steps) -> None:
    plant(steps, "alpha", DIGEST_A, Vuln("CVE-2099-9", "glibc", "CRITICAL"))
    notified = Notified()
    report = rescan("dev", ORDER, steps, now=NOW, notifier=notified)
    error = rescan_error(report)
    assert error is not None and error.exit_code == ExitCode.GATE_FAILED and "CVE-2099-9" in error.message
    assert [(s.target.service, s.verdict, s.failing) for s in report.services] == [
        ("alpha", "FAILED", ("CVE-2099-9",)), ("beta", "PASSED", ())]
    assert gitops.record("dev")["services"]["alpha"]["scan"]["verdict"] == "FAILED"
    assert gitops.record("dev")["services"]["beta"]["scan"]["verdict"] == "PASSED"
    assert notified.calls == [("dev", ["alpha"])]
    promotion = PromotionSteps(gitops)
    with pytest.raises(GateFailed, match="alpha .*scan verdict is FAILED"):
        promote("prod", "dev", ["alpha"], ORDER, promotion, EvidenceSettings(), now=NOW)
    promote("prod", "dev", ["beta"], ORDER, promotion, EvidenceSettings(), now=NOW)  # the control passes
    # Still failing the next night: exit 1 again, but nobody is told twice.
    again = rescan("dev", ORDER, steps, now=NOW + dt.timedelta(days=1), notifier=notified)
    assert rescan_error(again) is not None and notified.calls == [("dev", ["alpha"])]


def test_a_record_that_moves_to_another_digest_meanwhile_is_exit_3_with_nothing_written(gitops: Gitops,
                                                                                      steps: Steps) -> None:
    plant(steps, "alpha", DIGEST_A, Vuln("CVE-2099-9", "glibc", "CRITICAL"))
    steps.during_scan.append(lambda: release(gitops, alpha=DIGEST_C, beta=DIGEST_B))
    before = gitops.commits()
    report = rescan("dev", ORDER, steps, now=NOW)
    error = rescan_error(report)
    assert error is not None and error.exit_code == ExitCode.EXTERNAL
    assert DIGEST_A in error.message and DIGEST_C in error.message and "CVE-2099-9" in error.message
    assert gitops.commits() == before + 1 and report.publish is None  # only the release that landed
    assert gitops.remote.commits[gitops.remote.branches["main"]].subject == "release(dev)"
    assert gitops.record("dev")["services"]["alpha"]["digest"] == DIGEST_C


def test_a_release_of_another_service_meanwhile_is_kept(gitops: Gitops, steps: Steps) -> None:
    steps.during_scan.append(lambda: gitops.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A), beta=entry("beta", DIGEST_B), gamma=entry("gamma", DIGEST_C))}))
    report = rescan("dev", ORDER, steps, now=NOW)
    assert rescan_error(report) is None
    assert set(gitops.record("dev")["services"]) == {"alpha", "beta", "gamma"}


def test_a_digest_that_cannot_be_pulled_is_unavailable_and_the_others_are_still_recorded(gitops: Gitops,
                                                                                        steps: Steps) -> None:
    steps.registry.discard(ref("beta", DIGEST_B))
    report = rescan("dev", ORDER, steps, now=NOW)
    error = rescan_error(report)
    assert error is not None and error.exit_code == ExitCode.EXTERNAL and "beta" in error.message
    record = gitops.record("dev")["services"]
    assert record["alpha"]["scan"]["checked_at"] == "2026-12-01T03:00:00Z"
    assert record["beta"]["scan"]["checked_at"] == "2026-11-25T10:00:00Z"  # left as it was


def test_trivy_without_a_db_writes_nothing(gitops: Gitops, steps: Steps) -> None:
    steps.trivy.has_db = False
    before = gitops.commits()
    report = rescan("dev", ORDER, steps, now=NOW)
    assert report.verdict == "UNAVAILABLE" and gitops.commits() == before


def test_a_foreign_repository_is_refused_before_anything_is_pulled(gitops: Gitops, steps: Steps) -> None:
    gitops.remote.land("main", {RECORD.format(env="dev"): record_text(
        "dev", alpha=entry("alpha", DIGEST_A, repository="evil.example/shop/alpha"))})
    with pytest.raises(GateFailed, match="evil.example"):
        rescan("dev", ORDER, steps, now=NOW)
    assert steps.asked == []


def test_a_malformed_ignore_file_is_bad_input_before_any_pull(gitops: Gitops, steps: Steps) -> None:
    steps.bad_ignore = True
    with pytest.raises(BadInput):
        rescan("dev", ORDER, steps, now=NOW)
    assert steps.asked == []


def test_a_dry_run_scans_and_writes_nothing(gitops: Gitops, steps: Steps) -> None:
    plant(steps, "beta", DIGEST_B, Vuln("CVE-2099-8", "perl", "HIGH"))
    notified = Notified()
    before = gitops.commits()
    report = rescan("dev", ORDER, steps, now=NOW, dry_run=True, notifier=notified)
    assert report.verdict == "FAILED" and gitops.commits() == before and notified.calls == []


def test_the_values_file_running_another_digest_is_said(gitops: Gitops, steps: Steps) -> None:
    gitops.remote.land("main", {VALUES.format(env="dev", service="beta"): values_text("beta", "t", DIGEST_C)})
    report = rescan("dev", ORDER, steps, now=NOW)
    assert len(report.warnings) == 1 and "beta" in report.warnings[0]
    assert steps.asked[-2:] == ["pull beta", "scan beta"]  # the record's digest is what is rescanned


def test_an_empty_record_has_nothing_to_rescan(gitops: Gitops) -> None:
    steps = Steps(gitops)
    report = rescan("prod", ORDER, steps, now=NOW)
    assert report.services == [] and report.publish is None and rescan_error(report) is None
