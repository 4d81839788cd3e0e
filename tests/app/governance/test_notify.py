"""The notifier of a run (devops/app/notify.py::Dispatcher) on in-memory channels: who gets which
event, retries only of what another try can fix and within the one retry policy, a bound on the
time it holds a run up, and every failure a warning, never an error."""

from __future__ import annotations

import threading

from devops.app.notify import NO_NOTIFIER, Dispatcher, Subscription
from devops.domain.notify.event import Event
from devops.domain.retry import RetryPolicy
from tests.app.governance.conftest import NOW
from tests.fakes.notify import FakeChannel

RETRY = RetryPolicy(attempts=3, base_seconds=0.5, max_seconds=2.0, deadline_seconds=60.0)


def event(kind: str = "release", environment: str | None = "prod") -> Event:
    return Event(kind, f"{kind} happened", NOW, environment)


def dispatcher(*subscriptions: Subscription, bound: float = 30.0) -> tuple[Dispatcher, list[str], list[float]]:
    warnings: list[str] = []
    slept: list[float] = []
    return Dispatcher(subscriptions, warn=warnings.append, retry=RETRY, bound_seconds=bound,
                      sleep=slept.append), warnings, slept


def test_channels_get_the_events_and_environments_they_subscribe_to() -> None:
    everything, releases, prod = FakeChannel("all"), FakeChannel("releases"), FakeChannel("prod")
    notify, warnings, _ = dispatcher(Subscription(everything), Subscription(releases, frozenset({"release"})),
                                     Subscription(prod, environments=frozenset({"prod"})))
    for told in (event(), event("freeze", "dev"), event("cost-run", None)):
        notify.notify(told)
    assert [b["event"] for b in everything.sent] == ["release", "freeze", "cost-run"]
    assert [b["event"] for b in releases.sent] == ["release"]
    assert [b["event"] for b in prod.sent] == ["release"]  # an event of no environment is not prod's
    assert warnings == [] and {d.channel for d in notify.deliveries} == {"all", "releases", "prod"}


def test_what_another_try_can_fix_is_retried_within_the_policy() -> None:
    flaky = FakeChannel("flaky", answers=[503, 429])
    notify, warnings, slept = dispatcher(Subscription(flaky))
    notify.notify(event())
    assert len(flaky.sent) == 1 and warnings == [] and len(slept) == 2 and all(0 <= s <= 2.0 for s in slept)
    assert notify.deliveries[0].attempts == 3 and notify.deliveries[0].delivered


def test_a_channel_that_keeps_failing_is_one_warning_after_the_attempts() -> None:
    down = FakeChannel("down", answers=[503] * 10)
    notify, warnings, slept = dispatcher(Subscription(down))
    notify.notify(event())
    assert warnings == ["notification release to channel down not delivered (3 attempt(s)): down: HTTP 503"]
    assert len(slept) == 2 and down.answers == [503] * 7  # exactly the policy's attempts, no storm


def test_a_refusal_is_not_retried() -> None:
    refused = FakeChannel("refused", answers=[403, 200])
    notify, warnings, slept = dispatcher(Subscription(refused))
    notify.notify(event())
    assert slept == [] and refused.answers == [200] and "(1 attempt(s)): refused: HTTP 403" in warnings[0]


def test_a_channel_that_never_answers_is_left_behind_at_the_bound_and_the_others_still_get_it() -> None:
    release = threading.Event()
    stuck, fine = FakeChannel("stuck", hang=release), FakeChannel("fine")
    notify, warnings, _ = dispatcher(Subscription(stuck), Subscription(fine), bound=0.2)
    try:
        notify.notify(event())
    finally:
        release.set()
    assert len(fine.sent) == 1
    assert warnings == ["notification release to channel stuck not delivered (1 attempt(s)): no answer within 0.2s; "
                        "abandoned"]


def test_a_channel_that_crashes_is_a_warning_too() -> None:
    class Broken:
        name = "broken"

        def send(self, event: Event) -> None:
            raise RuntimeError("bug in a channel")

    notify, warnings, _ = dispatcher(Subscription(Broken()))
    notify.notify(event())
    assert warnings == ["notification release to channel broken not delivered (1 attempt(s)): RuntimeError: bug in "
                        "a channel"]


def test_no_channel_no_work() -> None:
    notify, warnings, _ = dispatcher(Subscription(FakeChannel("x"), frozenset({"freeze"})))
    notify.notify(event())
    assert notify.deliveries == [] and warnings == []
    assert NO_NOTIFIER.notify(event()) is None


def test_a_rescan_finding_reaches_the_channels_that_want_it() -> None:
    """devops/wiring/rescan.py hands the rescan's findings to the run's notifier as one event."""
    from devops.domain.release.rescan import RescanReport, RescanTarget, ServiceRescan
    from devops.wiring.rescan import RescanFindings

    security, releases = FakeChannel("security"), FakeChannel("releases")
    notify, warnings, _ = dispatcher(Subscription(security, frozenset({"rescan-finding"})),
                                     Subscription(releases, frozenset({"release"})))
    target = RescanTarget("alpha", "127.0.0.1:5000/shop/alpha", "sha256:" + "a" * 64, "PASSED")
    report = RescanReport("prod", NOW)
    RescanFindings(notify).rescan_finding(report, [ServiceRescan(target, "FAILED", {}, ("CVE-2099-1",))])
    [body] = security.sent
    assert body["event"] == "rescan-finding" and body["environment"] == "prod" and releases.sent == []
    assert warnings == []
