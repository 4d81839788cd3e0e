"""The push retry policy, with a scripted pusher (the real registry faults are in
tests/integration/test_registry_faults.py)."""

from __future__ import annotations

import pytest

from devops.adapters.docker import PushFailed
from devops.app.push import RetrySettings, Waits, push_with_retry
from devops.errors import ExternalError

SETTINGS = RetrySettings(attempts=4, backoff_seconds=1, max_backoff_seconds=3, deadline_seconds=100)


class Scripted:
    def __init__(self, *failures: PushFailed) -> None:
        self.failures = list(failures)
        self.calls = 0

    def push(self, reference: str, *, timeout: float) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "sha256:" + "a" * 64


def test_retries_throttling_with_growing_jittered_backoff() -> None:
    slept: list[float] = []
    pusher = Scripted(*(PushFailed("toomanyrequests", retryable=True) for _ in range(3)))
    digest, attempts, reasons = push_with_retry(pusher, "r:t", SETTINGS, Waits(sleep=slept.append))
    assert digest.startswith("sha256:") and attempts == 4 and len(reasons) == 3
    assert all(0 <= wait <= cap for wait, cap in zip(slept, [1, 2, 3], strict=True))


def test_refusal_is_not_retried() -> None:
    pusher = Scripted(PushFailed("unauthorized", retryable=False))
    with pytest.raises(PushFailed):
        push_with_retry(pusher, "r:t", SETTINGS, Waits(sleep=lambda s: None))
    assert pusher.calls == 1


def test_gives_up_after_the_attempts_saying_why() -> None:
    pusher = Scripted(*(PushFailed("503 Service Unavailable", retryable=True) for _ in range(10)))
    with pytest.raises(ExternalError, match=r"gave up after 4 attempts.*retried because: 503 Service Unavailable"):
        push_with_retry(pusher, "r:t", SETTINGS, Waits(sleep=lambda s: None))
    assert pusher.calls == 4


def test_gives_up_at_the_deadline() -> None:
    now = [0.0]
    pusher = Scripted(*(PushFailed("connection reset", retryable=True) for _ in range(10)))

    def sleep(seconds: float) -> None:
        now[0] += 60

    with pytest.raises(ExternalError, match="gave up after 3 attempts in 120 s"):
        push_with_retry(pusher, "r:t", SETTINGS, Waits(sleep=sleep, clock=lambda: now[0]))
