"""`devops push`: push built images and record their digests, retrying what is worth retrying.

Throttling (429), 5xx and connection resets are retried with exponential backoff and full
jitter, within a bounded number of attempts and seconds; refusals (401, 403, 404) are not.
Docker does not show the registry's Retry-After to its caller, so pushes back off on their
own schedule; HTTP API calls (the digest read-back) honour Retry-After in the session.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from devops.errors import DevopsError, ExternalError


class Pusher(Protocol):
    def push(self, reference: str, *, timeout: float) -> str: ...


class DigestReader(Protocol):
    def manifest_digest(self, repository: str, reference: str) -> str | None: ...
    def tag(self, repository: str, digest: str, tag: str) -> bool: ...


@dataclass(frozen=True)
class RetrySettings:
    attempts: int = 5
    backoff_seconds: float = 2.0
    max_backoff_seconds: float = 30.0
    deadline_seconds: float = 600.0
    push_timeout_seconds: float = 900.0


@dataclass
class PushResult:
    service: str
    repository: str
    tags: list[str]
    digest: str = ""
    attempts: int = 0
    skipped_reason: str = ""
    error: str = ""
    retries: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """`repo@sha256:...`: what GitOps and promotion use, never a tag."""
        return f"{self.repository}@{self.digest}" if self.digest else ""

    @property
    def ok(self) -> bool:
        return bool(self.digest) and not self.error

    def to_dict(self) -> dict[str, object]:
        return {"service": self.service, "repository": self.repository, "tags": self.tags,
                "digest": self.digest, "reference": self.reference, "attempts": self.attempts,
                "skipped": self.skipped_reason or None, "error": self.error or None, "retries": self.retries}


def push_with_retry(
    pusher: Pusher,
    reference: str,
    settings: RetrySettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    on_retry: Callable[[int, float, str], None] = lambda attempt, wait, why: None,
) -> tuple[str, int, list[str]]:
    """Push `reference`; return (digest, attempts, retry reasons) or raise the last failure."""
    from devops.adapters.docker import PushFailed

    rng = rng or random.Random()
    started = clock()
    reasons: list[str] = []
    for attempt in range(1, settings.attempts + 1):
        try:
            return pusher.push(reference, timeout=settings.push_timeout_seconds), attempt, reasons
        except PushFailed as exc:
            if not exc.retryable:
                raise
            reasons.append(exc.message)
            wait = rng.uniform(0, min(settings.max_backoff_seconds, settings.backoff_seconds * 2 ** (attempt - 1)))
            elapsed = clock() - started
            if attempt == settings.attempts or elapsed + wait > settings.deadline_seconds:
                raise ExternalError(
                    f"docker push {reference}: gave up after {attempt} attempts in {elapsed:.0f} s; "
                    f"retried because: {exc.message}",
                    hint="the registry keeps throttling or failing; wait and rerun, or check its status",
                ) from None
            on_retry(attempt, wait, exc.message)
            sleep(wait)
    raise AssertionError("unreachable")


def push_service(
    service: str,
    repository: str,
    local_tags: Sequence[str],
    pusher: Pusher,
    registry: DigestReader,
    registry_path: str,
    settings: RetrySettings,
    **retry_kwargs: object,
) -> PushResult:
    """Push every tag of one service (identity tag first) and confirm the digest with the registry."""
    tags = [tag.rsplit(":", 1)[1] for tag in local_tags]
    result = PushResult(service, repository, tags)
    try:
        digest, attempts, reasons = push_with_retry(pusher, local_tags[0], settings, **retry_kwargs)  # type: ignore[arg-type]
        result.attempts, result.retries = attempts, reasons
        for tag in local_tags[1:]:
            other, more, why = push_with_retry(pusher, tag, settings, **retry_kwargs)  # type: ignore[arg-type]
            result.attempts += more
            result.retries += why
            if other != digest:
                raise ExternalError(f"docker push {tag}: digest {other} differs from {digest} of {local_tags[0]}")
        confirmed = registry.manifest_digest(registry_path, tags[0])
        if confirmed != digest:
            raise ExternalError(
                f"{repository}:{tags[0]}: the registry reports {confirmed or 'no manifest'}, docker pushed {digest}",
                hint="another push raced this one; rerun the push",
            )
        result.digest = digest
    except DevopsError as exc:
        result.error = str(exc)
    return result
