"""The notification `Channel` port: the same assertions against tests/fakes/notify.py and the
real channel (devops/adapters/webhook.py) posting to a local receiver (tests/support/receiver.py)
that answers with the scripted statuses. Both deliver the same body, and both fail the same way:
5xx/429 retryable, other 4xx not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from devops.adapters.webhook import WebhookChannel
from devops.domain.notify.event import DeliveryFailed, Event
from tests.app.governance.conftest import NOW
from tests.fakes.notify import FakeChannel
from tests.support.receiver import receiving

EVENT = Event("freeze", "prod frozen until 2026-12-27T09:00:00Z by alice: incident", NOW, "prod",
              ("through freeze: x",), {"freeze": {"frozen": True}}, "warning")


class Side(Protocol):
    def send(self, event: Event) -> None: ...


class Sent(Protocol):
    def __call__(self) -> list[dict[str, Any]]: ...


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def side(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A factory: (statuses, kind) -> (channel, what the receiving end got)."""
    if request.param == "fake":
        def fake(statuses: list[int], kind: str) -> tuple[Side, Sent]:
            channel = FakeChannel("c", kind=kind, project="shop", answers=list(statuses))
            return channel, lambda: channel.sent

        yield fake
        return
    servers: list[Any] = []

    def real(statuses: list[int], kind: str) -> tuple[Side, Sent]:
        server = receiving(statuses)
        receiver = server.__enter__()
        servers.append(server)
        channel = WebhookChannel("c", receiver.url, kind=kind, project="shop",  # type: ignore[arg-type]
                                 secret="k" if kind == "webhook" else None, timeout=2.0)
        return channel, lambda: [json.loads(r.body) for r, status in zip(receiver.requests, receiver.answered,
                                                                          strict=True) if 200 <= status < 300]

    yield real
    for server in servers:
        server.__exit__(None, None, None)


@pytest.mark.parametrize("kind", ["webhook", "slack"])
def test_a_delivered_event_has_the_same_body(side: Any, kind: str) -> None:
    channel, sent = side([], kind)
    channel.send(EVENT)
    [body] = sent()
    if kind == "webhook":
        assert (body["event"], body["environment"], body["severity"], body["project"]) == (
            "freeze", "prod", "warning", "shop")
        assert body["details"] == ["through freeze: x"] and body["data"] == {"freeze": {"frozen": True}}
    else:
        assert body["text"] == "shop: " + EVENT.summary and body["blocks"][0]["type"] == "section"


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (429, True), (404, False),
                                                   (400, False)])
def test_failures_say_whether_another_try_can_help(side: Any, status: int, retryable: bool) -> None:
    channel, sent = side([status], "webhook")
    with pytest.raises(DeliveryFailed) as caught:
        channel.send(EVENT)
    assert caught.value.retryable is retryable and f"HTTP {status}" in caught.value.message
    assert sent() == []
    channel.send(EVENT)  # the next answer is 200: delivered
    assert len(sent()) == 1
