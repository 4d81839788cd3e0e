"""The `rescan-finding` and `cost-run` events (devops/domain/notify/run_events.py)."""

from __future__ import annotations

import datetime as dt

from devops.domain.cost.outcome import CostRun, Outcome, RunResult
from devops.domain.gitops.change import PublishResult
from devops.domain.notify.run_events import cost_run_event, rescan_finding_event
from devops.domain.release.rescan import RescanReport, RescanTarget, ServiceRescan

AT = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
DIGEST = "sha256:" + "a" * 64


def finding(service: str, previous: str = "PASSED") -> ServiceRescan:
    target = RescanTarget(service, f"127.0.0.1:5000/shop/{service}", DIGEST, previous)
    return ServiceRescan(target, "FAILED", {"CRITICAL": 1}, ("CVE-2099-1",))


def test_a_rescan_finding_names_the_services_digests_and_findings() -> None:
    report = RescanReport("prod", AT)
    report.publish = PublishResult(outcome="committed", branch="main", commit="c" * 40, changes=())
    event = rescan_finding_event(report, [finding("alpha"), finding("beta", "")], AT)
    assert (event.kind, event.environment, event.severity) == ("rescan-finding", "prod", "error")
    assert event.summary == "Rescan of prod: alpha, beta now FAILED the scan policy; promotion of those digests stops"
    assert event.details[0] == f"alpha {DIGEST[:19]}: CVE-2099-1"
    assert event.data["evidence_commit"] == "c" * 40
    assert [s["previous"] for s in event.data["services"]] == ["PASSED", None]
    assert event.data["services"][0]["counts"] == {"CRITICAL": 1}


def test_a_rescan_whose_evidence_was_not_written_says_so() -> None:
    report = RescanReport("dev", AT, record_error="the record moved")
    event = rescan_finding_event(report, [finding("alpha")], AT)
    assert event.data["evidence_commit"] is None and event.data["record_error"] == "the record moved"


def outcome(action: str, message: str = "") -> Outcome:
    return Outcome("dev", "shop-dev", "eu-west-1", "general", "down", "night", action, message=message)  # type: ignore[arg-type]


def test_a_cost_run_that_resized_node_groups_is_told() -> None:
    run = CostRun("devops cost schedule", RunResult(AT, False, [outcome("scale-down"), outcome("none")]))
    event = cost_run_event(run)
    assert event is not None and (event.kind, event.severity, event.environment) == ("cost-run", "info", None)
    assert event.summary == "devops cost schedule: 1 change(s), 0 failure(s) (done)"
    assert event.details == ("shop-dev/general: scale-down",)
    assert event.data["outcomes"][0]["action"] == "scale-down"


def test_a_cost_run_that_failed_is_an_error_event() -> None:
    run = CostRun("devops cost down shop-dev", RunResult(AT, False, [outcome("failed", "EKS said no")]))
    event = cost_run_event(run, "dev")
    assert event is not None and event.severity == "error" and event.environment == "dev"
    assert event.details == ("shop-dev/general: failed (EKS said no)",) and "(failed)" in event.summary


def test_quiet_runs_and_dry_runs_are_not_told() -> None:
    assert cost_run_event(CostRun("s", RunResult(AT, False, [outcome("none"), outcome("confirm")]))) is None
    assert cost_run_event(CostRun("s", RunResult(AT, True, [outcome("scale-down")]))) is None
