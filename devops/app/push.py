"""`devops push`: push built images and record their digests, retrying what is worth retrying.

Throttling (429), 5xx and connection resets are retried on the one retry policy of `devops`
(devops/domain/retry.py: exponential backoff with full jitter, bounded by attempts and a
deadline); refusals (401, 403, 404) are not. Docker does not show the registry's Retry-After to
its caller, so pushes back off on their own schedule; HTTP API calls (the digest read-back)
honour Retry-After in the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from devops.domain.images.results import PushFailed, PushResult
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import DevopsError, ExternalError

__all__ = ["DigestReader", "PushResult", "Pusher", "RetrySettings", "push_service", "push_with_retry"]


class Pusher(Protocol):
    """Pushes one local tag; returns the digest; raises `PushFailed` (retryable or not)."""

    def push(self, reference: str, *, timeout: float) -> str: ...


class DigestReader(Protocol):
    """The registry's HTTP API (devops/adapters/registry.py)."""

    def manifest_digest(self, repository: str, reference: str) -> str | None: ...
    def tag(self, repository: str, digest: str, tag: str) -> bool: ...


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 30.0
    deadline_seconds: float = 600.0
    push_timeout_seconds: float = 900.0

    @property
    def policy(self) -> RetryPolicy:
        return RetryPolicy(attempts=self.attempts, base_seconds=self.backoff_seconds,
                           max_seconds=self.max_backoff_seconds, deadline_seconds=self.deadline_seconds)


@dataclass(frozen=True)
class Waits:
    """How retries wait and report: the real clock by default, a fake one in tests."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_retry: Callable[[int, float, str], None] = lambda attempt, wait, why: None


def push_with_retry(pusher: Pusher, reference: str, settings: RetrySettings,
                    waits: Waits = Waits()) -> tuple[str, int, list[str]]:
    """Push `reference`; return (digest, attempts, retry reasons) or raise the last failure."""
    reasons: list[str] = []
    attempts = 0
    started = waits.clock()

    def worth_retrying(error: BaseException) -> bool:
        return isinstance(error, PushFailed) and error.retryable

    def report(attempt: int, error: BaseException, wait: float) -> None:
        waits.on_retry(attempt, wait, str(getattr(error, "message", error)))

    try:
        for attempt in retrying(settings.policy, retry_on=worth_retrying, sleep=waits.sleep, clock=waits.clock,
                                before_sleep=report):
            with attempt:
                attempts += 1
                try:
                    return pusher.push(reference, timeout=settings.push_timeout_seconds), attempts, reasons
                except PushFailed as exc:
                    if exc.retryable:
                        reasons.append(exc.message)
                    raise
    except PushFailed as exc:
        if not exc.retryable:
            raise
        raise ExternalError(
            f"docker push {reference}: gave up after {attempts} attempts in {waits.clock() - started:.0f} s; "
            f"retried because: {exc.message}",
            hint="the registry keeps throttling or failing; wait and rerun, or check its status",
        ) from None
    raise AssertionError("unreachable: retrying() returns or raises")


def push_service(
    service: str,
    repository: str,
    local_tags: Sequence[str],
    pusher: Pusher,
    registry: DigestReader,
    registry_path: str,
    settings: RetrySettings,
    waits: Waits = Waits(),
) -> PushResult:
    """Push one service's image once (its identity tag), confirm the digest with the registry,
    and add the other tags (`sha-<commit>`, semver) in the registry by pointing them at that
    manifest: one `docker push` per image, no layer checked twice."""
    tags = [tag.rsplit(":", 1)[1] for tag in local_tags]
    result = PushResult(service, repository, tags)
    try:
        digest, attempts, reasons = push_with_retry(pusher, local_tags[0], settings, waits)
        result.attempts, result.retries = attempts, reasons
        confirmed = registry.manifest_digest(registry_path, tags[0])
        if confirmed != digest:
            raise ExternalError(
                f"{repository}:{tags[0]}: the registry reports {confirmed or 'no manifest'}, docker pushed {digest}",
                hint="another push raced this one; rerun the push",
            )
        for tag in tags[1:]:
            registry.tag(registry_path, digest, tag)
        result.digest = digest
    except DevopsError as exc:
        result.error = str(exc)
    return result
