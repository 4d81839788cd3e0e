"""The one retry policy: bounded attempts and time, full jitter, the caller's error kept."""

from __future__ import annotations

import pytest

from devops.domain.retry import RetryPolicy, retrying


class Flaky(Exception):
    pass


class Refused(Exception):
    pass


def run(policy: RetryPolicy, failures: list[BaseException], *, clock: list[float] | None = None) -> tuple[int, list[float]]:
    waits: list[float] = []
    calls = 0
    now = clock if clock is not None else [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    for attempt in retrying(policy, retry_on=lambda e: isinstance(e, Flaky), sleep=sleep, clock=lambda: now[0]):
        with attempt:
            calls += 1
            if failures:
                raise failures.pop(0)
    return calls, waits


def test_retries_until_success_with_waits_in_the_full_jitter_range() -> None:
    calls, waits = run(RetryPolicy(attempts=5, base_seconds=1, max_seconds=3), [Flaky(), Flaky(), Flaky()])
    assert calls == 4
    assert len(waits) == 3
    for n, wait in enumerate(waits):
        assert 0 <= wait <= min(3, 1 * 2 ** (n + 1))


def test_the_last_error_is_raised_unchanged_when_attempts_are_spent() -> None:
    last = Flaky("third")
    with pytest.raises(Flaky, match="third"):
        run(RetryPolicy(attempts=3, base_seconds=0), [Flaky(), Flaky(), last, Flaky()])


def test_an_error_not_worth_retrying_is_raised_at_once() -> None:
    with pytest.raises(Refused):
        run(RetryPolicy(attempts=5, base_seconds=0), [Refused()])


def test_the_deadline_stops_retries_before_the_attempts_run_out() -> None:
    now = [0.0]
    with pytest.raises(Flaky):
        run(RetryPolicy(attempts=100, base_seconds=10, max_seconds=10, deadline_seconds=25), [Flaky()] * 100, clock=now)
    assert now[0] < 25 + 10  # never a wait started after the deadline


def test_a_policy_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(base_seconds=-1)


def test_before_sleep_reports_each_retry() -> None:
    seen: list[tuple[int, str]] = []
    failures: list[BaseException] = [Flaky("a"), Flaky("b")]
    for attempt in retrying(RetryPolicy(attempts=3, base_seconds=0), retry_on=lambda e: True, sleep=lambda s: None,
                            before_sleep=lambda n, error, wait: seen.append((n, str(error)))):
        with attempt:
            if failures:
                raise failures.pop(0)
    assert seen == [(1, "a"), (2, "b")]
