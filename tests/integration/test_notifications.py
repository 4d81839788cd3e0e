"""Notifications against a local receiver (tests/support/receiver.py), through the real adapter
(devops/adapters/webhook.py) and the run's dispatcher: Slack and signed JSON bodies, injected
5xx, a receiver slower than the timeout, a self-signed certificate the client must refuse, a
redirect that must not be followed. A notification that fails is a warning, within a bound.

Slack's incoming-webhook API cannot be reached from here; its contract is a POST of JSON
(`text`, `blocks`) answered 200, which the receiver stands in for.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from devops.adapters.webhook import WebhookChannel
from devops.app.notify import Dispatcher, Subscription
from devops.config import load_config
from devops.domain.notify.event import Event
from devops.domain.retry import RetryPolicy
from devops.report.console import Reporter
from devops.report.github import GitHubActions
from devops.wiring.notify import notifier
from devops.wiring.settings import RuntimeSettings
from tests.app.governance.conftest import NOW
from tests.support.project import make_project
from tests.support.receiver import Receiver, receiving, self_signed

SECRET = "s3cret-signing-key"
CLOCK = 1_790_000_000.0  # the sender's clock (X-Devops-Timestamp), fixed


def event(kind: str = "release") -> Event:
    return Event(kind, "Promoted to prod from dev: alpha (commit 1234567890ab)", NOW, "prod",
                 ("alpha: aaaaaaaaaaaa -> sha-1 bbbbbbbbbbbb",), {"services": [{"service": "alpha"}]})


def channel(url: str, *, kind: str = "webhook", timeout: float = 2.0, verify: bool | str = True) -> WebhookChannel:
    return WebhookChannel("team", url, kind=kind, project="shop", secret=SECRET if kind == "webhook" else None,  # type: ignore[arg-type]
                          timeout=timeout, verify=verify, clock=lambda: CLOCK)


def deliver(target: WebhookChannel, *, attempts: int = 3, deadline: float = 30.0,
            bound: float = 30.0) -> tuple[Dispatcher, list[str], list[float]]:
    warnings: list[str] = []
    slept: list[float] = []
    dispatcher = Dispatcher([Subscription(target)], warn=warnings.append,
                            retry=RetryPolicy(attempts=attempts, base_seconds=0.5, max_seconds=2.0,
                                              deadline_seconds=deadline),
                            bound_seconds=bound, sleep=slept.append)
    dispatcher.notify(event())
    return dispatcher, warnings, slept


def test_a_signed_webhook_is_delivered_and_its_receiver_can_verify_it() -> None:
    with receiving() as receiver:
        _, warnings, _ = deliver(channel(receiver.url))
    assert warnings == [] and len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request.path == "/hooks/T000/B000/secret-path" and request.method == "POST"
    assert request.headers["Content-Type"] == "application/json" and request.headers["X-Devops-Event"] == "release"
    assert request.headers["X-Devops-Timestamp"] == str(int(CLOCK))
    assert receiver.verified(SECRET, now=CLOCK + 10) == [True]
    assert receiver.verified(SECRET, now=CLOCK + 3600) == [False]  # replayed an hour later: refused
    assert receiver.verified("not-the-secret", now=CLOCK) == [False]
    body = receiver.bodies()[0]
    assert (body["event"], body["environment"], body["project"]) == ("release", "prod", "shop")
    assert SECRET not in request.body.decode() and SECRET not in str(request.headers)


def test_slack_gets_its_message_shape_and_no_signature() -> None:
    with receiving() as receiver:
        _, warnings, _ = deliver(channel(receiver.url, kind="slack"))
    assert warnings == []
    body = receiver.bodies()[0]
    assert body["text"].startswith("shop: Promoted to prod") and body["blocks"][0]["type"] == "section"
    assert "X-Devops-Signature" not in receiver.requests[0].headers


def test_injected_5xx_are_retried_and_the_same_delivery_arrives_once_it_passes() -> None:
    with receiving([503, 502]) as receiver:
        dispatcher, warnings, slept = deliver(channel(receiver.url))
    assert warnings == [] and len(receiver.requests) == 3 and dispatcher.deliveries[0].delivered
    assert len({r.headers["X-Devops-Delivery"] for r in receiver.requests}) == 1  # one id: receivers dedupe
    assert len(slept) == 2


def test_a_receiver_that_keeps_failing_is_a_warning_after_the_policys_attempts() -> None:
    with receiving([500] * 10) as receiver:
        _, warnings, _ = deliver(channel(receiver.url))
    assert len(receiver.requests) == 3
    assert warnings == ["notification release to channel team not delivered (3 attempt(s)): team "
                        f"(http://127.0.0.1:{receiver.server.port}/…): HTTP 500 receiver says no"]
    assert "secret-path" not in warnings[0]  # the URL is a secret: only its origin is shown


def test_a_client_error_is_not_retried() -> None:
    with receiving([404, 200]) as receiver:
        _, warnings, _ = deliver(channel(receiver.url))
    assert len(receiver.requests) == 1 and "HTTP 404" in warnings[0]


def test_a_receiver_slower_than_the_timeout_is_given_up_on() -> None:
    with receiving(hold=5.0) as receiver:
        dispatcher, warnings, _ = deliver(channel(receiver.url, timeout=0.3), attempts=2)
    assert dispatcher.deliveries[0].attempts == 2 and not dispatcher.deliveries[0].delivered
    assert warnings[0].endswith("no answer within 0.3s")


def test_the_dispatcher_bound_leaves_a_hanging_receiver_behind() -> None:
    with receiving(hold=5.0) as receiver:
        _, warnings, _ = deliver(channel(receiver.url, timeout=4.0), bound=0.5)
    assert warnings == ["notification release to channel team not delivered (1 attempt(s)): no answer within 0.5s; "
                        "abandoned"]


def test_a_self_signed_certificate_is_refused_and_trusted_only_when_given_as_the_ca(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with receiving(tls=(cert, key)) as receiver:
        assert receiver.url.startswith("https://127.0.0.1:")
        dispatcher, warnings, slept = deliver(channel(receiver.url))
        assert receiver.requests == [] and slept == [] and dispatcher.deliveries[0].attempts == 1
        assert "the TLS certificate could not be verified; not sent" in warnings[0]
        # Control: the same receiver, its certificate given as the CA, takes it.
        _, warnings, _ = deliver(channel(receiver.url, verify=str(cert)))
    assert warnings == [] and len(receiver.requests) == 1


def test_a_redirect_is_not_followed_so_nothing_reaches_another_host() -> None:
    with receiving() as elsewhere, receiving([307], location=f"{elsewhere.url}/stolen") as receiver:
        _, warnings, _ = deliver(channel(receiver.url))
    assert len(receiver.requests) == 1 and elsewhere.requests == []
    assert "answered a redirect (HTTP 307), not followed" in warnings[0]


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.example.invalid/in", "is plain http"),
    ("https://user:pw@hooks.example.invalid/in", "must not contain a user or password"),
])
def test_a_url_that_may_not_receive_it_is_refused_before_any_connection(url: str, why: str) -> None:
    _, warnings, _ = deliver(channel(url))
    assert why in warnings[0] and "(https://hooks.example.invalid/…)" in warnings[0] or "(http://hooks" in warnings[0]


def test_an_unreachable_receiver_is_retried_then_a_warning() -> None:
    receiver = Receiver()
    url = receiver.url
    receiver.server._server.server_close()  # bound, never served, closed: connection refused
    # (not stop(): socketserver's shutdown() waits forever for a serve_forever that never ran)
    dispatcher, warnings, _ = deliver(channel(url), attempts=2)
    assert dispatcher.deliveries[0].attempts == 2 and "cannot connect" in warnings[0] and "secret-path" not in \
        warnings[0]


def test_the_wiring_reads_urls_and_secrets_from_the_environment_only_and_masks_them(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", commit=False, extra="""
notifications:
  timeout_seconds: 2
  deadline_seconds: 5
  channels:
    team: {kind: slack, url_env: TEAM_HOOK, events: [release]}
    audit: {kind: webhook, url_env: AUDIT_HOOK, secret_env: AUDIT_SECRET, environments: [dev]}
""")
    config = load_config(root / "pipelines" / "devops.yaml")
    out, err = io.StringIO(), io.StringIO()
    with receiving() as receiver:
        settings = RuntimeSettings.from_environ({"TEAM_HOOK": receiver.url, "AUDIT_HOOK": receiver.url,
                                                 "GITHUB_ACTIONS": "true"})
        reporter = Reporter(out=out, err=err, github=GitHubActions(enabled=True, stream=out))
        notifier(config, settings, reporter, sleep=lambda _s: None).notify(event())  # prod: only `team` wants it
        started = time.monotonic()
        notifier(config, settings, reporter, sleep=lambda _s: None).notify(
            Event("release", "dev release", NOW, "dev"))  # dev: team and audit; audit has no secret set
        assert time.monotonic() - started < 30  # a sanity bound, not a speed claim
    assert [b.get("text", "")[:20] for b in receiver.bodies()] == ["shop: Promoted to pr"[:20].replace("shop", "testshop")[:20],
                                                                   "testshop: dev releas"]
    assert f"::add-mask::{receiver.url}" in out.getvalue()
    assert "$AUDIT_SECRET is not set; set it to send channel audit's notifications" in err.getvalue()
