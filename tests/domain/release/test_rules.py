"""The pure rules of releases: which evidence a promotion accepts, `rollback --to`, records, ages."""

from __future__ import annotations

import datetime as dt

import pytest

from devops.config.model import VerifyEvidencePolicy
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.evidence import check_entry
from devops.domain.release.rules import age, resolve_target
from devops.errors import BadInput

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
DIGEST = "sha256:" + "a" * 64


def entry(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "repository": "docker.io/shop/cart", "digest": DIGEST,
        "scan": {"verdict": "PASSED", "checked_at": "2026-11-24T12:00:00Z"},
        "sonar": {"verdict": "SKIPPED", "reason": "not configured"},
    }
    base.update(changes)
    return base


@pytest.mark.parametrize(("changes", "refusal"), [
    ({"scan": None}, "cart has no scan evidence"),
    ({"scan": {"verdict": "FAILED", "checked_at": "2026-11-24T12:00:00Z"}}, "scan verdict is FAILED"),
    ({"sonar": {"verdict": "FAILED"}}, "Sonar verdict is FAILED"),
    ({"sonar": None}, "Sonar verdict is missing"),
    ({"scan": {"verdict": "PASSED", "checked_at": "yesterday"}}, "no valid checked_at"),
])
def test_evidence_that_is_missing_failed_or_unreadable_is_refused(changes: dict[str, object], refusal: str) -> None:
    check = check_entry("cart", entry(**changes), "dev", VerifyEvidencePolicy(), NOW)
    assert not check.ok and refusal in check.refusal


@pytest.mark.parametrize("digest", ["sha256:abc", None, 42, "SHA256:" + "A" * 64])
def test_an_entry_without_a_valid_digest_is_a_malformed_record_not_a_refusal(digest: object) -> None:
    # docs/release.md: exit 2 naming the record and key path, as read_record() says it.
    with pytest.raises(BadInput, match=r"dev's release record: services\.cart\.digest: expected sha256:<64 hex>"):
        check_entry("cart", entry(digest=digest), "dev", VerifyEvidencePolicy(), NOW)


def test_scan_evidence_from_the_future_is_refused_beyond_the_clock_skew() -> None:
    future = entry(scan={"verdict": "PASSED", "checked_at": "2026-11-25T12:06:00Z"})
    check = check_entry("cart", future, "dev", VerifyEvidencePolicy(scan_max_age_days=7), NOW)
    assert not check.ok and "dated in the future (checked_at 2026-11-25T12:06:00Z, now 2026-11-25T12:00:00Z)" \
        in check.refusal
    # Control: a few minutes of clock skew between runners is tolerated, and is not expired either.
    skewed = entry(scan={"verdict": "PASSED", "checked_at": "2026-11-25T12:04:59Z"})
    check = check_entry("cart", skewed, "dev", VerifyEvidencePolicy(scan_max_age_days=7), NOW)
    assert check.ok and not check.rescan
    # Without an expiry the future is still refused (it is not a scan that happened).
    assert not check_entry("cart", future, "dev", VerifyEvidencePolicy(scan_max_age_days=None), NOW).ok


def test_no_entry_is_refused_and_says_to_release_to_the_source_first() -> None:
    check = check_entry("cart", None, "dev", VerifyEvidencePolicy(), NOW)
    assert "no entry for cart" in check.refusal and "release it to dev first" in check.refusal


def test_skipped_sonar_passes_unless_required() -> None:
    assert check_entry("cart", entry(), "dev", VerifyEvidencePolicy(), NOW).ok
    strict = check_entry("cart", entry(), "dev", VerifyEvidencePolicy(require_sonar=True), NOW)
    assert "require_sonar" in strict.refusal


def test_old_scan_evidence_asks_for_a_rescan_not_a_refusal() -> None:
    old = entry(scan={"verdict": "PASSED", "checked_at": "2026-11-01T00:00:00Z"})
    check = check_entry("cart", old, "dev", VerifyEvidencePolicy(scan_max_age_days=7), NOW)
    assert check.ok and check.rescan
    never = check_entry("cart", old, "dev", VerifyEvidencePolicy(scan_max_age_days=None), NOW)
    assert never.ok and not never.rescan


HISTORY = [HistoryEntry(c * 40, "2026-11-25", f"release {c}") for c in "cba"]


@pytest.mark.parametrize(("to", "commit"), [("previous", "b" * 40), ("~2", "a" * 40), ("bbbb", "b" * 40),
                                           ("C" * 12, "c" * 40)])
def test_rollback_targets(to: str, commit: str) -> None:
    assert resolve_target(HISTORY, to, "dev") == commit


@pytest.mark.parametrize(("to", "message"), [("~3", "only 2 earlier release"), ("dddd", "not a release of dev"),
                                             ("main", "not a release of dev")])
def test_bad_rollback_targets_name_the_problem(to: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        resolve_target(HISTORY, to, "dev")


def test_age_is_short_and_human() -> None:
    assert [age(NOW - delta, NOW) for delta in (dt.timedelta(seconds=5), dt.timedelta(minutes=12),
                                                dt.timedelta(hours=3), dt.timedelta(days=4))] == ["5s", "12m", "3h", "4d"]
    assert age(None, NOW) == ""


VERIFIED = {"verdict": "PASSED", "verified_at": "2026-11-25T09:00:00Z", "window": "10m", "environment": "dev"}


@pytest.mark.parametrize(("verification", "refusal"), [
    (None, "not verified in dev"),
    ({**VERIFIED, "verdict": "FAILED", "failing": ["availability: 4.00% errors in 10m"]},
     "verification FAILED in dev (availability: 4.00% errors in 10m)"),
    ({**VERIFIED, "digest": "sha256:" + "b" * 64}, "the verification in dev's record is of another digest"),
    # Evidence that names no digest vouches for nothing (it used to pass).
    (VERIFIED, "the verification in dev's record is of no digest"),
])
def test_verification_is_required_when_the_policy_says_so(verification: object, refusal: str) -> None:
    data = entry(verification=verification) if verification is not None else entry()
    policy = VerifyEvidencePolicy(require_verification=True)
    check = check_entry("cart", data, "dev", policy, NOW)
    assert not check.ok
    assert refusal in check.refusal
    # Without the requirement the same entry is promotable (the source does not verify).
    assert check_entry("cart", data, "dev", VerifyEvidencePolicy(require_verification=False), NOW).ok


def test_passed_verification_of_the_same_digest_is_accepted() -> None:
    data = entry(verification={**VERIFIED, "digest": entry()["digest"]})
    assert check_entry("cart", data, "dev", VerifyEvidencePolicy(require_verification=True), NOW).ok
