"""The rules of `devops rescan` (devops/domain/release/rescan.py), and the promotion rule it relies
on: a FAILED scan verdict in the source record refuses the promotion of that digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from devops.domain.release.evidence import EvidenceSettings, check_entry
from devops.domain.release.rescan import (
    UNAVAILABLE,
    RescanReport,
    RescanTarget,
    ServiceRescan,
    record_with_evidence,
    rescan_error,
    rescan_targets,
)
from devops.errors import ExitCode, GateFailed

NOW = dt.datetime(2026, 11, 26, 3, 0, tzinfo=dt.UTC)
DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64
CONFIGURED = {"alpha": "127.0.0.1:5000/shop/alpha", "beta": "127.0.0.1:5000/shop/beta"}


def entry(service: str, digest: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"repository": CONFIGURED.get(service, f"127.0.0.1:5000/shop/{service}"), "tag": "t",
                            "digest": digest, "scan": {"verdict": "PASSED", "counts": {},
                                                       "checked_at": "2026-11-25T10:00:00Z"},
                            "sonar": {"verdict": "SKIPPED"}}
    data.update(changes)
    return data


def target(service: str = "alpha", digest: str = DIGEST_A, previous: str = "PASSED") -> RescanTarget:
    return RescanTarget(service, CONFIGURED[service], digest, previous)


def test_a_failed_scan_verdict_refuses_promotion_and_a_passed_one_is_the_control() -> None:
    policy = EvidenceSettings()
    failed = entry("alpha", DIGEST_A, scan={"verdict": "FAILED", "counts": {"CRITICAL": 1},
                                            "checked_at": "2026-11-26T03:00:00Z"})
    check = check_entry("alpha", failed, "dev", policy, NOW)
    assert not check.ok and "scan verdict is FAILED" in check.refusal
    assert check_entry("alpha", entry("alpha", DIGEST_A), "dev", policy, NOW).ok


def test_targets_follow_the_config_order_and_keep_the_previous_verdict() -> None:
    entries = {"zeta": entry("zeta", DIGEST_B, scan=None), "beta": entry("beta", DIGEST_B),
               "alpha": entry("alpha", DIGEST_A)}
    configured = {**CONFIGURED, "zeta": "127.0.0.1:5000/shop/zeta"}
    found = rescan_targets(entries, ["alpha", "beta"], configured.get, "dev")
    assert [(t.service, t.previous) for t in found] == [("alpha", "PASSED"), ("beta", "PASSED"), ("zeta", "")]
    assert found[0].reference == f"127.0.0.1:5000/shop/alpha@{DIGEST_A}"


@pytest.mark.parametrize(("entries", "said"), [
    ({"alpha": entry("alpha", DIGEST_A, repository="evil.example/shop/alpha")}, "evil.example/shop/alpha"),
    ({"gamma": entry("gamma", DIGEST_A)}, "not in the configuration"),
])
def test_a_record_cannot_choose_the_registry(entries: dict[str, Any], said: str) -> None:
    with pytest.raises(GateFailed, match="nothing pulled") as caught:
        rescan_targets(entries, ["alpha"], CONFIGURED.get, "dev")
    assert said in caught.value.message


def test_the_evidence_is_written_for_judged_digests_only_and_bound_to_them() -> None:
    record = {"schema": 1, "environment": "dev", "services": {"alpha": entry("alpha", DIGEST_A),
                                                              "beta": entry("beta", DIGEST_B)}}
    report = RescanReport("dev", NOW, trivy_version="0.76.0", db_updated_at="2026-11-26T00:00:00Z")
    report.services = [ServiceRescan(target(), "FAILED", {"CRITICAL": 1}, ("CVE-1",)),
                       ServiceRescan(target("beta", DIGEST_B), UNAVAILABLE, error="pull failed")]
    data, expected = record_with_evidence(record, report)
    assert expected == (("alpha", DIGEST_A),)
    assert data["services"]["alpha"]["scan"] == {"verdict": "FAILED", "counts": {"CRITICAL": 1},
                                                 "checked_at": "2026-11-26T03:00:00Z", "trivy_version": "0.76.0",
                                                 "db_updated_at": "2026-11-26T00:00:00Z"}
    assert data["services"]["beta"] == record["services"]["beta"]  # not rescanned: left as it was
    assert record["services"]["alpha"]["scan"]["verdict"] == "PASSED"  # the input is not changed


def report_of(*services: ServiceRescan, record_error: str | None = None) -> RescanReport:
    report = RescanReport("dev", NOW, record_error=record_error)
    report.services = list(services)
    return report


def test_verdict_and_exit_codes() -> None:
    passed = ServiceRescan(target(), "PASSED")
    failed = ServiceRescan(target("beta", DIGEST_B), "FAILED", failing=tuple(f"CVE-{i}" for i in range(7)))
    unavailable = ServiceRescan(target(), UNAVAILABLE, error="registry down")
    assert report_of().verdict == "PASSED" and rescan_error(report_of(passed)) is None
    assert report_of(passed, unavailable, failed).verdict == "FAILED"
    assert report_of(passed, unavailable).verdict == UNAVAILABLE

    gate = rescan_error(report_of(passed, failed, unavailable))
    assert gate is not None and gate.exit_code == ExitCode.GATE_FAILED
    assert "CVE-0, CVE-1, CVE-2, CVE-3, CVE-4 ..." in gate.message and "7 finding(s)" in gate.message

    broken = rescan_error(report_of(unavailable))
    assert broken is not None and broken.exit_code == ExitCode.EXTERNAL and "registry down" in broken.message

    unwritten = rescan_error(report_of(failed, record_error="the record moved"))
    assert unwritten is not None and unwritten.exit_code == ExitCode.EXTERNAL
    assert "the record moved" in unwritten.message and "CVE-0" in unwritten.message
    quiet = rescan_error(report_of(passed, record_error="the record moved"))
    assert quiet is not None and "findings" not in quiet.message


def test_newly_failed_is_failed_now_and_not_before() -> None:
    assert ServiceRescan(target(previous="PASSED"), "FAILED").newly_failed
    assert ServiceRescan(target(previous=""), "FAILED").newly_failed
    assert not ServiceRescan(target(previous="FAILED"), "FAILED").newly_failed
    assert not ServiceRescan(target(previous="PASSED"), "PASSED").newly_failed
    report = report_of(ServiceRescan(target(), "PASSED"), ServiceRescan(target(), UNAVAILABLE))
    assert [s.verdict for s in report.scanned] == ["PASSED"]
