"""What happened, as a notification tells it: one event, whatever the channel.

Emit one through the `Notifier` port (devops/app/notify.py): `notifier.notify(Event(kind=...,
environment=..., summary=..., details=(...), data={...}, at=now))`. The wiring builds the
notifier from `notifications:` of the config (devops/wiring/notify.py::notifier); a channel
gets the events it subscribes to, for the environments it names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from devops.errors import ExternalError

# The events a channel can subscribe to (`notifications.channels.<name>.events`).
EVENTS = ("release", "promotion", "rollback", "verification-failed", "freeze", "break-glass", "rescan-finding",
          "cost-run")
SEVERITIES = ("info", "warning", "error")


@dataclass(frozen=True)
class Event:
    kind: str                          # one of EVENTS
    summary: str                       # one line a person reads first
    at: dt.datetime                    # aware
    environment: str | None = None     # None: not about one environment (e.g. a cost run of several)
    details: tuple[str, ...] = ()      # more lines (services, digests, reasons)
    data: Mapping[str, Any] = field(default_factory=dict)  # machine-readable, JSON-serialisable
    severity: str = "info"             # info, warning, error
    link: str | None = None            # e.g. the pull request or the CI run

    def __post_init__(self) -> None:
        if self.kind not in EVENTS:
            raise ValueError(f"unknown notification event {self.kind!r}; known: {', '.join(EVENTS)}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")
        if self.at.tzinfo is None:
            raise ValueError("Event.at must be an aware datetime")


class DeliveryFailed(ExternalError):
    """A channel did not take a notification; `retryable` when another try may (5xx, 429, timeout).
    Only ever a warning: the dispatcher (devops/app/notify.py) never lets it end a run."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable
