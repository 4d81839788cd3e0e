"""The pure rules of freezes, break-glass, soak time and automatic rollback."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from devops.domain.calendars.model import Calendar, entry
from devops.domain.gitops import record as records
from devops.domain.gitops.freeze import FreezeFile, parse, validate
from devops.domain.release.auto_rollback import Target, candidate, held, is_automatic_rollback, marked, verified
from devops.domain.release.freeze import (
    ActiveFreeze,
    FreezePolicy,
    break_glass,
    freeze_document,
    parse_until,
    refusal,
    resumes_at,
    until_instant,
)
from devops.domain.release.moments import parse_iso
from devops.domain.release.soak import human, soak_refusal, soak_start
from devops.errors import BadInput

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
A, B, C = ("sha256:" + c * 64 for c in "abc")
BY = {"actor": "alice", "via": "cli", "run_url": None}


def manual(**changes: Any) -> FreezeFile:
    data = {"schema": 1, "environment": "prod", "frozen": True, "until": "2026-11-26T12:00:00Z", "reason": "incident",
            "by": BY, "at": "2026-11-26T08:00:00Z", **changes}
    return validate(data, "freeze.json")


# -- freezes --------------------------------------------------------------------------------


def test_the_freeze_file_is_active_until_its_end() -> None:
    assert manual().active(NOW) and not manual().active(NOW.replace(hour=12))
    assert manual(until=None).active(NOW.replace(year=2030))  # no end: until unfrozen
    assert not manual(frozen=False, until=None, reason=None).active(NOW)


def test_freezes_in_force_the_file_first_then_calendars() -> None:
    utc = ZoneInfo("UTC")
    calendar = Calendar.build("ops", "UTC", [entry("window", "freeze", dt.datetime(2026, 11, 26, 8),
                                                   dt.datetime(2026, 11, 26, 20), utc),
                                             entry("holiday", "holiday", dt.date(2026, 11, 26), None, utc)])
    found = FreezePolicy("prod", (calendar,)).active(manual(), NOW)
    assert [(f.name, f.source) for f in found] == [("devops freeze", "the GitOps repository"),
                                                   ("window", "calendar ops, freeze"), ("holiday", "calendar ops, holiday")]
    assert resumes_at(found) == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
    without_holidays = FreezePolicy("prod", (calendar,), holidays=False).active(None, NOW)
    assert [f.name for f in without_holidays] == ["window"]
    assert FreezePolicy("prod").active(None, NOW) == []


def test_the_refusal_names_each_freeze_and_when_releases_resume() -> None:
    freezes = [ActiveFreeze("devops freeze", "the GitOps repository", NOW + dt.timedelta(hours=3), "incident", "bob"),
               ActiveFreeze("year end", "calendar ops, freeze", NOW + dt.timedelta(days=2, hours=1))]
    assert refusal("prod", freezes, NOW) == (
        "prod is frozen: devops freeze (the GitOps repository) until 2026-11-26T12:00:00Z (by bob): incident; "
        "year end (calendar ops, freeze) until 2026-11-28T10:00:00Z; releases resume at 2026-11-28T10:00:00Z "
        "(in 2d 1h)")
    endless = [ActiveFreeze("devops freeze", "the GitOps repository", None)]
    assert resumes_at(endless) is None and refusal("prod", endless, NOW).endswith("until `devops unfreeze`")
    assert resumes_at([]) is None


def test_break_glass_and_freeze_documents() -> None:
    freezes = [ActiveFreeze("year end", "calendar ops, freeze", NOW)]
    assert break_glass("  hotfix \t INC-1 ", BY, NOW, freezes) == {
        "reason": "hotfix INC-1", "by": BY, "at": "2026-11-26T09:00:00Z",
        "freezes": ["year end (calendar ops, freeze) until 2026-11-26T09:00:00Z"]}
    frozen = freeze_document("prod", frozen=True, until=NOW, reason="x  y", by=BY, now=NOW)
    assert validate(frozen, "f").until == "2026-11-26T09:00:00Z" and frozen["reason"] == "x y"
    lifted = freeze_document("prod", frozen=False, until=NOW, reason="x", by=BY, now=NOW)
    assert (lifted["until"], lifted["reason"]) == (None, None)


@pytest.mark.parametrize(("text", "expected"), [
    ("4h", dt.timedelta(hours=4)),
    ("2d", dt.timedelta(days=2)),
    ("2026-11-27T09:00:00Z", dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)),
    ("2026-11-27T09:00", dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)),
])
def test_until_is_a_time_or_a_duration_from_now(text: str, expected: object) -> None:
    assert parse_until(text) == expected
    assert until_instant(parse_until(text), NOW) == (NOW + expected if isinstance(expected, dt.timedelta) else expected)


@pytest.mark.parametrize("text", ["soon", "4 hours", "0h", "2026-13-01", "2200-01-01T00:00Z"])
def test_a_bad_until_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="expected an ISO 8601 time like 2026-12-27T09:00Z or a duration"):
        parse_until(text)


@pytest.mark.parametrize(("text", "why"), [
    ('{"schema": 1, "environment": "prod"}', "frozen: Field required"),
    ('{"schema": 2, "environment": "prod", "frozen": false}', "schema 2 is not supported"),
    ('{"schema": 1, "environment": "dev", "frozen": false}', "the file says 'dev', expected 'prod'"),
    ('{"schema": 1, "environment": "prod", "frozen": true, "until": "tomorrow"}', "until: expected an ISO 8601"),
    ('{"schema": 1, "environment": "prod", "frozen": "yes"}', "frozen: Input should be a valid boolean"),
    ('{"schema": 1, "environment": "prod", "frozen": true, "extra": 1}', "extra: Extra inputs are not permitted"),
    ('{"schema": 1, "environment": "prod", "frozen": true, "reason": "a\\nb"}', "reason: "),
    ("[1]", "expected a JSON object, got list"),
    ('{"a": {"b": {"c": {"d": {"e": 1}}}}}', "nested more than 4 levels"),
])
def test_a_malformed_freeze_file_is_bad_input_naming_the_key(text: str, why: str) -> None:
    with pytest.raises(BadInput) as refused:
        parse(text, "env/prod/freeze.json", environment="prod")
    assert why in str(refused.value) and str(refused.value).startswith("env/prod/freeze.json")


def test_a_freeze_file_round_trips() -> None:
    assert parse(manual().to_json(), "f", environment="prod") == manual()
    assert manual().until_instant == dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)
    assert manual(until="2026-11-26T12:00:00").until_instant == dt.datetime(2026, 11, 26, 12, tzinfo=dt.UTC)


# -- soak -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "shown"), [
    (0, "0s"), (0.2, "1s"), (59, "59s"), (60, "1m"), (330, "5m 30s"), (660, "11m"), (3600, "1h"), (4320, "1h 12m"),
    (86400, "1d"), (97200, "1d 3h"), (-5, "0s"),
])
def test_durations_as_people_read_them(seconds: float, shown: str) -> None:
    assert human(seconds) == shown


def verified_entry(digest: str = A, **verification: Any) -> dict[str, Any]:
    evidence = {"verdict": "PASSED", "verified_at": "2026-11-26T08:00:00Z", "digest": digest, "environment": "dev",
                **verification}
    return {"digest": digest, "built_at": "2026-11-26T07:00:00Z", "verification": evidence}


def test_the_soak_starts_at_the_first_passing_verdict_else_at_the_release() -> None:
    assert soak_start(verified_entry(), "dev") == (parse_iso("2026-11-26T08:00:00Z"), "verified")
    assert soak_start(verified_entry(passing_since="2026-11-26T05:00:00Z"), "dev")[0] == parse_iso(
        "2026-11-26T05:00:00Z")
    assert soak_start({"digest": A, "built_at": "2026-11-26T07:00:00Z"}, "dev") == (parse_iso("2026-11-26T07:00:00Z"),
                                                                                   "released")
    # Evidence about another digest, or another environment, is not about this one.
    assert soak_start(verified_entry(digest=A) | {"digest": B}, "dev")[1] == "released"
    assert soak_start(verified_entry(environment="staging"), "dev")[1] == "released"
    assert soak_start(verified_entry(verdict="FAILED"), "dev") == (None, "its verification in dev is FAILED")


def test_the_soak_refusal_says_how_long_is_left_and_when() -> None:
    assert soak_refusal("cart", verified_entry(), "dev", 3600, NOW) == ""
    assert soak_refusal("cart", verified_entry(), "dev", 7200, NOW) == (
        f"cart {A[:19]}: verified in dev 1h ago (since 2026-11-26T08:00:00Z), min_soak is 2h: 1h left "
        "(promotable from 2026-11-26T10:00:00Z)")
    future = soak_refusal("cart", verified_entry(verified_at="2026-11-26T10:00:00Z"), "dev", 60, NOW)
    assert "verified in dev 0s ago" in future and "2h 1m left" not in future and "1h 1m left" in future
    assert soak_refusal("cart", {"digest": A}, "dev", 60, NOW) == (
        f"cart {A[:19]}: has not started its 1m soak in dev (the record has no time it was released there)")
    assert "(its verification in dev is FAILED)" in soak_refusal("cart", verified_entry(verdict="FAILED"), "dev", 60,
                                                                  NOW)


# -- automatic rollback ---------------------------------------------------------------------


def record(**entries: dict[str, Any]) -> records.ReleaseRecord:
    base = {"repository": "r.test/shop/x", "tag": "t"}
    return records.validate({"schema": 1, "environment": "dev",
                             "services": {k: {**base, **v} for k, v in entries.items()}}, "release.json")


def test_only_a_release_whose_changed_services_are_all_verified_is_a_target() -> None:
    now = record(alpha={"digest": C}, beta={"digest": B})
    good = record(alpha=verified_entry(A), beta={"digest": B})
    assert candidate(now, good, "dev") == ("alpha",)
    assert candidate(now, record(alpha={"digest": A}, beta={"digest": B}), "dev") is None  # unverified
    assert candidate(now, now, "dev") is None  # changes nothing
    assert candidate(now, record(alpha=verified_entry(A), beta={"digest": A}), "dev") is None  # beta unverified
    assert candidate(now, good, "prod") is None  # verified elsewhere


def test_the_rollback_marks_itself_and_what_it_replaced() -> None:
    data: dict[str, Any] = {"services": {"alpha": {"digest": A}, "beta": {"digest": B}}}
    done = marked(data, Target("f" * 40, ("alpha",)), reason="verification FAILED: alpha", failed_commit="e" * 40,
                  replaced={"alpha": C, "beta": B, "gone": A}, now=NOW)
    assert done["rollback"] == {"automatic": True, "reason": "verification FAILED: alpha", "failed_commit": "e" * 40,
                                "restored": "f" * 40}
    assert done["services"]["alpha"]["rolled_back_from"] == {"digest": C, "at": "2026-11-26T09:00:00Z",
                                                             "reason": "verification FAILED: alpha"}
    assert "rolled_back_from" not in done["services"]["beta"]  # the same digest: nothing replaced
    data["environment"], data["schema"] = "dev", 1
    for entry_ in data["services"].values():
        entry_["repository"] = "r.test/shop/x"
    written = records.validate(data, "release.json")
    assert is_automatic_rollback(written) and held(written) == {"alpha": C}
    assert not is_automatic_rollback(record(alpha={"digest": A})) and held(record(alpha={"digest": A})) == {}
    assert verified(verified_entry(A), "dev") and not verified({"digest": A}, "dev")
