"""Records, repositories, previews and verdicts (devops/domain/release): the rules release,
promote, rollback, status and verify apply, on plain data."""

from __future__ import annotations

import datetime as dt

import pytest

from devops.domain.gitops.change import PublishResult
from devops.domain.gitops.record import ReleaseRecord, validate
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.evidence import iso, parse_iso, scan_evidence, sonar_evidence
from devops.domain.release.results import ReleaseReport, ServiceRelease
from devops.domain.release.rules import new_record, promotion_preview, repository_refusal, resolve_target
from devops.domain.release.verification import Check, ServiceVerification, Verification, failure
from devops.errors import BadInput, ExitCode

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
DIGEST_A, DIGEST_B = "sha256:" + "a" * 64, "sha256:" + "b" * 64


def entry(digest: str, repository: str = "r/alpha") -> dict[str, object]:
    return {"repository": repository, "tag": "v1", "digest": digest}


def test_a_new_record_keeps_earlier_entries_and_orders_them_as_the_config() -> None:
    previous = validate({"schema": 1, "environment": "dev", "services": {"beta": entry(DIGEST_A, "r/beta"),
                                                                         "zeta": entry(DIGEST_A, "r/zeta")}}, "r")
    data = new_record("dev", ["alpha", "beta"], previous, {"alpha": entry(DIGEST_B)}, source_commit="c" * 40,
                      now=NOW, released_by={"actor": "alice", "via": "cli"},
                      promoted_from={"environment": "dev", "gitops_commit": "f" * 40})
    assert list(data["services"]) == ["alpha", "beta", "zeta"]  # config order, then the rest
    assert data["released_at"] == "2026-11-25T12:00:00Z" and data["promoted_from"]["environment"] == "dev"
    validate(data, "r")  # a valid record
    assert new_record("dev", [], ReleaseRecord.empty("dev"), {}, source_commit=None, now=NOW,
                      released_by={})["promoted_from"] is None


@pytest.mark.parametrize(("recorded", "configured", "refusal"), [
    ("r/alpha", "r/alpha", ""),
    ("evil.example/alpha", "r/alpha", "alpha: the record names repository 'evil.example/alpha', not the configured "
                                      "'r/alpha' (registry.host/namespace/image)"),
    (None, "r/alpha", "names repository no repository"),
    ("r/alpha", None, "alpha: the record names a service that is not in the configuration"),
])
def test_a_record_may_only_name_the_configured_repository(recorded: object, configured: str | None,
                                                          refusal: str) -> None:
    found = repository_refusal("alpha", recorded, configured, "the record")
    assert (refusal in found) if refusal else found == ""


def test_a_promotion_preview_lists_what_would_change() -> None:
    source = {"alpha": {"digest": DIGEST_A}, "beta": {"digest": DIGEST_B}, "gamma": {"digest": ""}}
    assert promotion_preview(source, {"alpha": DIGEST_A, "beta": DIGEST_A}) == {"beta": (DIGEST_A, DIGEST_B)}
    assert promotion_preview(source, {}) == {"alpha": ("", DIGEST_A), "beta": ("", DIGEST_B)}


def test_rollback_targets_need_a_history_and_enough_digits() -> None:
    with pytest.raises(BadInput, match="dev has no release history to roll back to"):
        resolve_target([], "previous", "dev")
    twins = [HistoryEntry("abcd" + "1" * 36, "d", "s"), HistoryEntry("abcd" + "2" * 36, "d", "s")]
    with pytest.raises(BadInput, match="--to abcd: ambiguous, matches 2 releases of dev; give more digits"):
        resolve_target(twins, "abcd", "dev")
    with pytest.raises(BadInput, match="not a release of dev"):
        resolve_target(twins, "abc", "dev")  # fewer than 4 digits is never a commit


def test_evidence_blocks_as_the_record_keeps_them() -> None:
    assert scan_evidence(False, {"CRITICAL": 1}, NOW, "0.76.0", None) == {
        "verdict": "FAILED", "counts": {"CRITICAL": 1}, "checked_at": "2026-11-25T12:00:00Z",
        "trivy_version": "0.76.0", "db_updated_at": None}
    assert sonar_evidence("SKIPPED", "skipped", "SONAR_TOKEN is not set", NOW) == {
        "verdict": "SKIPPED", "reason": "SONAR_TOKEN is not set", "checked_at": "2026-11-25T12:00:00Z"}
    passed = sonar_evidence("OK", "pass", "", NOW, "https://sonar.example/d")
    assert (passed["verdict"], passed["status"], passed["reason"], passed["dashboard_url"]) == (
        "PASSED", "OK", None, "https://sonar.example/d")
    assert sonar_evidence("WARN", "surprise", "", NOW)["verdict"] == "FAILED"  # anything else fails closed


@pytest.mark.parametrize(("value", "parsed"), [
    ("2026-11-25T12:00:00Z", NOW), ("2026-11-25T12:00:00", NOW), ("2026-11-25T13:00:00+01:00", NOW),
    ("yesterday", None), ("", None), (None, None), (42, None),
])
def test_timestamps_are_read_leniently_and_written_in_utc(value: object, parsed: dt.datetime | None) -> None:
    assert parse_iso(value) == parsed
    assert iso(dt.datetime(2026, 11, 25, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))) == "2026-11-25T12:00:00Z"


def verification(*services: ServiceVerification) -> Verification:
    return Verification("dev", "10m", "http://p", NOW, list(services))


def test_a_verdict_passes_only_with_checks_that_all_passed() -> None:
    ok = ServiceVerification("alpha", [Check("up", "PASSED", "1 of 1 targets up")])
    bad = ServiceVerification("beta", [Check("health", "PASSED", "200"), Check("ready", "FAILED", "HTTP 503")])
    assert ok.verdict == "PASSED" and ServiceVerification("gamma").verdict == "FAILED"  # nothing checked
    assert verification().verdict == "FAILED" and verification(ok).verdict == "PASSED"
    both = verification(ok, bad)
    assert both.verdict == "FAILED" and [c.name for c in bad.failing] == ["ready"]
    assert both.evidence("beta") == {"verdict": "FAILED", "verified_at": "2026-11-25T12:00:00Z", "window": "10m",
                                     "failing": ["ready: HTTP 503"]}
    error = failure(both)
    assert error.message == "dev is not healthy: beta: ready HTTP 503" and error.exit_code == ExitCode.GATE_FAILED


def test_a_report_knows_what_it_changed() -> None:
    report = ReleaseReport("dev", "release", [ServiceRelease("a", "released"), ServiceRelease("b", "unchanged"),
                                              ServiceRelease("c", "would-release")],
                           publish=PublishResult("committed", (), "c", "main"))
    assert [s.service for s in report.changed] == ["a", "c"]
