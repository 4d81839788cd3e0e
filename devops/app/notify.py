"""Notifications as a port: `Notifier.notify(event)` tells every channel that wants the event,
and never fails or holds up the delivery that emits it.

Emitting an event (any use case, any helper): take a `Notifier` (the wiring builds one with
devops/wiring/notify.py::notifier) and call `notifier.notify(Event(kind="rescan-finding",
environment="prod", summary="...", details=(...), data={...}, at=now))` (devops/domain/notify/event.py).

`Dispatcher` is the notifier of the CLI: it picks the channels subscribed to the event's kind and
environment, sends to each in its own thread with the one retry policy (devops/domain/retry.py:
a few attempts, full jitter, a small deadline; only failures another try can fix are retried),
waits at most `bound_seconds` for all of them together, and turns every failure (a refused
URL, 4xx/5xx, a timeout, a TLS certificate it cannot verify, a channel still busy at the
bound) into one warning. Nothing it does changes an exit code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from devops.domain.notify.event import DeliveryFailed, Event
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import DevopsError


class Notifier(Protocol):
    def notify(self, event: Event) -> None: ...


class NoNotifier:
    """Tells nobody (a run without `notifications:`, and tests that do not look)."""

    def notify(self, event: Event) -> None:
        return None


NO_NOTIFIER = NoNotifier()


class Channel(Protocol):
    """One destination (devops/adapters/webhook.py::WebhookChannel): send or raise DeliveryFailed."""

    @property
    def name(self) -> str: ...

    def send(self, event: Event) -> None: ...


@dataclass(frozen=True)
class Subscription:
    channel: Channel
    events: frozenset[str] = frozenset()         # empty: every event
    environments: frozenset[str] = frozenset()   # empty: every environment, and events of none

    def wants(self, event: Event) -> bool:
        if self.events and event.kind not in self.events:
            return False
        return not self.environments or event.environment in self.environments


@dataclass
class Delivery:
    """What became of one event on one channel."""

    channel: str
    event: str
    delivered: bool = False
    attempts: int = 0
    error: str = ""


@dataclass
class Dispatcher:
    subscriptions: Sequence[Subscription]
    warn: Callable[[str], None]
    retry: RetryPolicy = field(default_factory=lambda: RetryPolicy(attempts=3, base_seconds=0.5, max_seconds=2.0,
                                                                    deadline_seconds=10.0))
    bound_seconds: float = 15.0  # the longest `notify` waits for all channels together
    sleep: Callable[[float], None] = time.sleep
    deliveries: list[Delivery] = field(default_factory=list)  # every attempt's outcome, for reports and tests

    def notify(self, event: Event) -> None:
        wanted = [s.channel for s in self.subscriptions if s.wants(event)]
        if not wanted:
            return
        deliveries = [Delivery(channel.name, event.kind) for channel in wanted]
        threads = [threading.Thread(target=self._deliver, args=(channel, event, delivery), daemon=True,
                                    name=f"notify-{channel.name}") for channel, delivery in zip(wanted, deliveries,
                                                                                                 strict=True)]
        for thread in threads:
            thread.start()
        stop = time.monotonic() + self.bound_seconds
        for thread in threads:
            # Daemon threads: one still talking to a slow receiver at the bound is left behind and
            # ends with the process; the delivery it serves is reported as not delivered.
            thread.join(max(0.0, stop - time.monotonic()))
        for thread, running in zip(threads, deliveries, strict=True):
            delivery = replace(running)  # a snapshot: an abandoned thread may still change its own
            if thread.is_alive():
                delivery.delivered = False
                delivery.error = f"no answer within {self.bound_seconds:g}s; abandoned"
            self.deliveries.append(delivery)
            if not delivery.delivered:
                self.warn(f"notification {event.kind} to channel {delivery.channel} not delivered "
                          f"({delivery.attempts} attempt(s)): {delivery.error}")

    def _deliver(self, channel: Channel, event: Event, delivery: Delivery) -> None:
        try:
            for attempt in retrying(self.retry, retry_on=lambda e: isinstance(e, DeliveryFailed) and e.retryable,
                                    sleep=self.sleep):
                with attempt:
                    delivery.attempts += 1
                    channel.send(event)
            delivery.delivered = True
        except DevopsError as exc:
            delivery.error = exc.message
        except Exception as exc:  # a notification must never take the delivery down with it
            delivery.error = f"{type(exc).__name__}: {exc}"
