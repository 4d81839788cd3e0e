"""The notifier of a run, built from `notifications:` of the config and the environment read
once (RuntimeSettings): each channel's URL and signing secret come from the variables the
config names, are masked in GitHub Actions logs, and go to that URL only.

Any area emits an event with `notifier(config, settings, reporter).notify(Event(...))`
(devops/app/notify.py, devops/domain/notify/event.py). A channel whose variable is unset is
still subscribed: each event it wants becomes a warning saying which variable to set.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from devops.app.notify import NO_NOTIFIER, Dispatcher, Notifier, Subscription
from devops.config import Config
from devops.domain.notify.event import DeliveryFailed, Event
from devops.domain.retry import RetryPolicy
from devops.report.console import Reporter
from devops.wiring.settings import RuntimeSettings


class Unset:
    """A channel whose URL (or secret) variable is not set in this run."""

    def __init__(self, name: str, missing: str) -> None:
        self.name = name
        self.missing = missing

    def send(self, event: Event) -> None:
        raise DeliveryFailed(f"${self.missing} is not set; set it to send channel {self.name}'s notifications",
                             retryable=False)


def notifier(config: Config, settings: RuntimeSettings, reporter: Reporter, *,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time) -> Notifier:
    """The run's notifier; NO_NOTIFIER when no channel is configured."""
    block = config.notifications
    if not block.channels:
        return NO_NOTIFIER
    from devops.adapters.webhook import WebhookChannel  # only a run with channels needs HTTP

    subscriptions = []
    for name, channel in sorted(block.channels.items()):
        url = settings.get(channel.url_env)
        secret = settings.get(channel.secret_env)
        for value in (url, secret):
            reporter.github.mask(value)
        target: WebhookChannel | Unset
        if not url:
            target = Unset(name, channel.url_env)
        elif channel.secret_env and not secret:
            target = Unset(name, channel.secret_env)
        else:
            target = WebhookChannel(name, url, kind=channel.kind, project=config.project, secret=secret,
                                    timeout=block.timeout_seconds, clock=clock)
        subscriptions.append(Subscription(target, frozenset(channel.events), frozenset(channel.environments)))
    retry = RetryPolicy(attempts=block.attempts, base_seconds=0.5, max_seconds=2.0,
                        deadline_seconds=block.deadline_seconds)
    # One attempt may still be running at the deadline: the run waits at most one timeout more.
    return Dispatcher(subscriptions, warn=reporter.warn, retry=retry,
                      bound_seconds=block.deadline_seconds + block.timeout_seconds, sleep=sleep)
