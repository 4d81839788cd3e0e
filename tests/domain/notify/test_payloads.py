"""Notification events, what each channel is sent, the webhook signature a receiver checks, and
where a notification may go."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from devops.domain.gitops.change import PublishResult
from devops.domain.notify.event import Event
from devops.domain.notify.payload import (
    delivery_id,
    json_body,
    sign,
    signed_headers,
    slack_body,
    slack_escape,
    verify_signature,
)
from devops.domain.notify.release_events import (
    auto_rollback_event,
    break_glass_event,
    freeze_event,
    release_event,
    verification_failed_event,
)
from devops.domain.notify.url import shown, url_problem
from devops.domain.release.results import AutoRollback, ReleaseReport, ServiceRelease
from devops.domain.release.verification import Check, ServiceVerification, Verification

NOW = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
A, B = ("sha256:" + c * 64 for c in "ab")


def event(**changes: object) -> Event:
    fields: dict[str, object] = {"kind": "release", "summary": "Released to dev: alpha", "at": NOW,
                                 "environment": "dev", "details": ("alpha: aaa -> bbb",), "data": {"n": 1}}
    fields.update(changes)
    return Event(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(("changes", "why"), [
    ({"kind": "deploy"}, "unknown notification event 'deploy'"),
    ({"severity": "fatal"}, "unknown severity"),
    ({"at": dt.datetime(2026, 1, 1)}, "aware datetime"),
])
def test_an_event_is_one_of_the_documented_kinds(changes: dict[str, object], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        event(**changes)


def test_the_json_body_is_the_documented_document() -> None:
    body = json.loads(json_body(event(link="https://x.test/pr/1"), "shop"))
    assert body == {"schema": 1, "project": "shop", "event": "release", "environment": "dev", "severity": "info",
                    "at": "2026-11-26T09:00:00Z", "summary": "Released to dev: alpha", "details": ["alpha: aaa -> bbb"],
                    "link": "https://x.test/pr/1", "data": {"n": 1}}


def test_slack_text_from_data_is_shown_never_acted_on() -> None:
    body = json.loads(slack_body(event(summary="<!channel> & <https://evil|click>", link="https://x.test/<1>"), "shop"))
    section = body["blocks"][0]["text"]["text"]
    assert "<!channel>" not in section and "&lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in section
    assert "https://x.test/&lt;1&gt;" in section and body["text"].startswith("shop: <!channel>")
    assert slack_escape("a<b>&c") == "a&lt;b&gt;&amp;c"
    quiet = json.loads(slack_body(event(environment=None, details=()), "shop"))["blocks"][0]["text"]["text"]
    assert quiet.splitlines()[1] == "_shop · release_"


def test_a_signature_verifies_only_for_its_secret_body_and_time() -> None:
    body = json_body(event(), "shop")
    timestamp = int(NOW.timestamp())
    headers = signed_headers("s3cret", timestamp, body, "release")
    assert headers["X-Devops-Signature"] == sign("s3cret", timestamp, body) and headers["X-Devops-Event"] == "release"
    assert headers["X-Devops-Delivery"] == delivery_id(body, timestamp) != delivery_id(body, timestamp + 1)
    signature, stamp = headers["X-Devops-Signature"], headers["X-Devops-Timestamp"]
    assert signature.startswith("v1=") and len(signature) == 3 + 64
    assert verify_signature("s3cret", stamp, body, signature, now=timestamp + 299)
    assert not verify_signature("s3cret", stamp, body, signature, now=timestamp + 301)  # replayed too late
    assert not verify_signature("s3cret", stamp, body, signature, now=timestamp - 301)
    assert not verify_signature("other", stamp, body, signature, now=timestamp)
    assert not verify_signature("s3cret", stamp, body + b" ", signature, now=timestamp)
    assert not verify_signature("s3cret", "12ab", body, signature, now=timestamp)


@pytest.mark.parametrize(("url", "why"), [
    ("https://hooks.slack.com/services/T0/B0/XXX", None),
    ("https://hooks.example.com/in?token=abc", None),
    ("http://127.0.0.1:8080/hook", None),
    ("http://hooks.example.com/in", "is plain http"),
    ("ftp://hooks.example.com/in", "must be an https:// URL"),
    ("https://user:pw@hooks.example.com/in", "must not contain a user or password"),
    ("https://hooks.example.com/in#x", "must not have a fragment"),
    ("https://hooks.example.com:99999/in", "is not a valid URL"),
    (" https://hooks.example.com/in", "is empty or contains spaces"),
    ("", "is empty"),
])
def test_where_a_notification_may_go(url: str, why: str | None) -> None:
    problem = url_problem(url)
    assert (problem is None) if why is None else (why in (problem or ""))


def test_a_url_is_shown_as_its_origin_only() -> None:
    assert shown("https://hooks.slack.com/services/T0/B0/XXX") == "https://hooks.slack.com/…"
    assert shown("http://[::1") == "(not a URL)"


# -- the events of releases -----------------------------------------------------------------


def report(action: str = "release", outcome: str = "committed", **changes: object) -> ReleaseReport:
    made = ReleaseReport("prod", action, source="dev" if action == "promote" else None)
    made.services = [ServiceRelease("alpha", "released", "r/alpha", "sha-1", B, A),
                     ServiceRelease("beta", "unchanged", "r/beta", "sha-1", A, A)]
    made.publish = PublishResult(outcome, (), "c" * 40, "main", pull_request_url="https://gh/pr/1"
                                 if outcome == "pull-request" else None)
    for key, value in changes.items():
        setattr(made, key, value)
    return made


def test_a_release_event_lists_what_changed() -> None:
    told = release_event(report("promote", "pull-request"), NOW)
    assert told is not None and told.kind == "promotion" and told.severity == "info"
    assert told.summary == "Promoted to prod from dev: alpha (pull request)" and told.link == "https://gh/pr/1"
    assert told.details == ("alpha: aaaaaaaaaaaa -> sha-1 bbbbbbbbbbbb",)
    assert told.data["services"] == [{"service": "alpha", "tag": "sha-1", "digest": B, "previous_digest": A}]
    assert release_event(report(outcome="noop"), NOW) is None
    rollback = release_event(report("rollback", auto_rollback=AutoRollback("rolled-back", "x")), NOW)
    assert rollback is not None and rollback.severity == "warning" and rollback.data["automatic"] is True
    assert release_event(report("release"), NOW).summary.startswith("Released to prod: alpha (commit cccccccccccc)")  # type: ignore[union-attr]


def test_break_glass_is_in_the_release_event_and_an_event_of_its_own() -> None:
    glass = {"reason": "INC-42", "by": {"actor": "alice"}, "at": "x", "freezes": ["year end (calendar ops)"]}
    told = release_event(report(break_glass=glass), NOW)
    assert told is not None and told.severity == "warning" and "break-glass: INC-42 (by alice)" in told.details
    own = break_glass_event(report(break_glass=glass), NOW)
    assert own is not None and own.kind == "break-glass" and own.summary == "Break-glass release to prod by alice: INC-42"
    assert own.details == ("through freeze: year end (calendar ops)",)
    assert break_glass_event(report(), NOW) is None
    assert break_glass_event(report(outcome="dry-run", break_glass=glass), NOW) is None
    assert break_glass_event(report(break_glass={**glass, "by": None}), NOW).summary.endswith("by ?: INC-42")  # type: ignore[union-attr]


def test_a_failed_verification_event_names_the_failing_checks() -> None:
    verification = Verification("dev", "10m", "http://p", NOW, [
        ServiceVerification("alpha", [Check("availability", "FAILED", "5% errors")]),
        ServiceVerification("beta", [Check("up", "PASSED", "1 of 1")])], digests={"alpha": A})
    told = verification_failed_event(verification, NOW)
    assert told.summary == "Verification of dev FAILED: alpha" and told.severity == "error"
    assert told.details == ("alpha: availability 5% errors",)
    assert told.data["services"][0] == {"service": "alpha", "verdict": "FAILED", "digest": A,
                                        "failing": ["availability: 5% errors"]}


def test_an_automatic_rollback_that_wrote_nothing_is_told_too() -> None:
    assert auto_rollback_event(report(), NOW) is None
    assert auto_rollback_event(report(auto_rollback=AutoRollback("rolled-back", "restored")), NOW) is None
    failed = auto_rollback_event(report(auto_rollback=AutoRollback("failed", "push refused")), NOW)
    assert failed is not None and failed.severity == "error" and failed.details == ("push refused",)
    none = auto_rollback_event(report(auto_rollback=AutoRollback("no-target", "none verified")), NOW)
    assert none is not None and none.severity == "warning" and none.summary.endswith("no-target")


def test_freeze_events() -> None:
    frozen = freeze_event("prod", {"frozen": True, "until": "u", "reason": "r", "by": {"actor": "bob"}}, "c", NOW)
    assert frozen.summary == "prod frozen until u by bob: r" and frozen.severity == "warning"
    lifted = freeze_event("prod", {"frozen": False, "by": None}, None, NOW)
    assert lifted.summary == "prod unfrozen by ?" and lifted.severity == "info"
