"""An in-memory notification channel: the `Channel` port of devops/app/notify.py.

It keeps what it was sent (the same bodies devops/adapters/webhook.py::WebhookChannel posts)
and fails as a receiver would when told to: `answers` is a script of HTTP statuses (2xx
delivered; 408/425/429/5xx retryable; other 4xx not), and `hang` blocks a send until released
(a receiver that never answers). tests/contract/test_notify_channel.py holds the two to the
same assertions.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from devops.domain.notify.event import DeliveryFailed, Event
from devops.domain.notify.payload import json_body, slack_body

RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class FakeChannel:
    name: str = "fake"
    kind: str = "webhook"
    project: str = "shop"
    answers: list[int] = field(default_factory=list)  # statuses, one per send; then 200
    hang: threading.Event | None = None  # set: sends block until it is set... by the test
    sent: list[dict[str, Any]] = field(default_factory=list)  # bodies delivered, as JSON

    def send(self, event: Event) -> None:
        if self.hang is not None:
            self.hang.wait()
        status = self.answers.pop(0) if self.answers else 200
        if 200 <= status < 300:
            body = slack_body(event, self.project) if self.kind == "slack" else json_body(event, self.project)
            self.sent.append(json.loads(body))
            return
        raise DeliveryFailed(f"{self.name}: HTTP {status}", retryable=status in RETRYABLE)
