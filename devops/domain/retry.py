"""The one retry policy of `devops`: bounded attempts and time, exponential backoff with full
jitter, on tenacity.

Every loop that waits and tries again (registry pushes, GitOps compare-and-swap pushes, health
polls, the Sonar task poll, the cost read-back, attestation index merges) uses `retrying()`, so
"how long, how often, how random" is decided here once. HTTP 429/5xx retries inside one request
stay with urllib3's `Retry` in `devops.adapters.http` (that library's job), configured from the
same numbers.

Jitter is tenacity's `wait_random_exponential`, AWS's "full jitter": the n-th wait is uniform in
[0, min(max_seconds, base_seconds * 2**n)], which spreads racing writers best.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    wait_random_exponential,
)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to try: `attempts` in all (the first included), at most
    `deadline_seconds` from the first try (None: no time bound), waits growing from
    `base_seconds` and capped at `max_seconds`."""

    attempts: int = 5
    base_seconds: float = 1.0
    max_seconds: float = 30.0
    deadline_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.base_seconds < 0 or self.max_seconds < 0:
            raise ValueError("waits cannot be negative")


def retrying(
    policy: RetryPolicy,
    *,
    retry_on: Callable[[BaseException], bool],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    before_sleep: Callable[[int, BaseException, float], None] | None = None,
) -> Retrying:
    """A tenacity `Retrying` for `policy`: `for attempt in retrying(...): with attempt: ...`.

    `retry_on(error)` says which failures are worth another try; anything else is raised at
    once, and the last failure is raised unchanged when the policy is spent (`reraise`), so the
    caller's error (and exit code) is what the user sees. `before_sleep(attempt, error, wait)`
    lets the caller report the retry.
    """
    started = clock()  # make the Retrying right before the loop: the deadline counts from here
    deadline = policy.deadline_seconds

    def spent(state: RetryCallState) -> bool:
        return state.attempt_number >= policy.attempts or (deadline is not None and clock() - started >= deadline)

    def report(state: RetryCallState) -> None:
        if before_sleep is None or state.outcome is None or state.next_action is None:
            return
        error = state.outcome.exception()
        if error is not None:
            before_sleep(state.attempt_number, error, state.next_action.sleep)

    return Retrying(
        stop=spent,
        wait=wait_random_exponential(multiplier=policy.base_seconds, max=policy.max_seconds),
        retry=retry_if_exception(retry_on),
        sleep=sleep,
        reraise=True,
        before_sleep=report,
    )
