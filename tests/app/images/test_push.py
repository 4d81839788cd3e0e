"""Pushes on an in-memory engine and registry: the one retry policy, digests confirmed, images
already in the registry only tagged. The real registry's faults are tests/integration/test_registry_faults.py."""

from __future__ import annotations

import pytest

from devops.app.images import push_outcomes
from devops.app.push import RetrySettings, Waits, push_service, push_with_retry
from devops.domain.images.results import BuildResult, PushFailed, ServiceOutcome, Status
from devops.errors import ExternalError
from tests.app.images.support import plan
from tests.fakes.docker import FakeEngine
from tests.fakes.registry import FakeRegistry

SETTINGS = RetrySettings(attempts=4, backoff_seconds=1, max_backoff_seconds=3, deadline_seconds=100)
NO_WAIT = Waits(sleep=lambda s: None)


def throttled(n: int, message: str = "toomanyrequests") -> list[PushFailed]:
    return [PushFailed(message, retryable=True) for _ in range(n)]


def engine_with(*references: str, failures: list[PushFailed] | None = None) -> FakeEngine:
    return FakeEngine(images=dict.fromkeys(references, "sha256:" + "a" * 64), push_failures=failures or [])


def test_throttling_is_retried_with_full_jitter_and_reported() -> None:
    slept: list[float] = []
    retries: list[tuple[int, float, str]] = []
    engine = engine_with("r:t", failures=throttled(3))
    digest, attempts, reasons = push_with_retry(
        engine, "r:t", SETTINGS, Waits(sleep=slept.append, on_retry=lambda n, w, why: retries.append((n, w, why))))
    assert digest == "sha256:" + "a" * 64 and attempts == 4 and reasons == ["toomanyrequests"] * 3
    assert all(0 <= wait <= cap for wait, cap in zip(slept, [1, 2, 3], strict=True))
    assert [(n, why) for n, _, why in retries] == [(1, "toomanyrequests"), (2, "toomanyrequests"),
                                                   (3, "toomanyrequests")]
    assert [w for _, w, _ in retries] == slept


def test_a_refusal_is_not_retried() -> None:
    engine = engine_with("r:t", failures=[PushFailed("unauthorized", retryable=False)])
    with pytest.raises(PushFailed, match="unauthorized"):
        push_with_retry(engine, "r:t", SETTINGS, NO_WAIT)
    assert engine.pushes == ["r:t"]


def test_gives_up_after_the_attempts_saying_why() -> None:
    engine = engine_with("r:t", failures=throttled(10, "503 Service Unavailable"))
    with pytest.raises(ExternalError, match=r"gave up after 4 attempts.*retried because: 503 Service Unavailable"):
        push_with_retry(engine, "r:t", SETTINGS, NO_WAIT)
    assert len(engine.pushes) == 4


def test_gives_up_at_the_deadline() -> None:
    now = [0.0]

    def sleep(_seconds: float) -> None:
        now[0] += 60

    engine = engine_with("r:t", failures=throttled(10, "connection reset"))
    with pytest.raises(ExternalError, match="gave up after 3 attempts in 120 s"):
        push_with_retry(engine, "r:t", SETTINGS, Waits(sleep=sleep, clock=lambda: now[0]))


def test_one_push_per_image_then_the_other_tags_in_the_registry() -> None:
    engine = engine_with("reg/acme/alpha:in-1", "reg/acme/alpha:sha-1")
    registry = FakeRegistry()
    registry.put("acme/alpha", "in-1", "sha256:" + "a" * 64)
    result = push_service("alpha", "reg/acme/alpha", ["reg/acme/alpha:in-1", "reg/acme/alpha:sha-1"], engine,
                          registry, "acme/alpha", SETTINGS, NO_WAIT)
    assert result.ok and result.tags == ["in-1", "sha-1"] and result.attempts == 1
    assert result.reference == "reg/acme/alpha@sha256:" + "a" * 64
    assert engine.pushes == ["reg/acme/alpha:in-1"]  # the identity tag only: one docker push
    assert registry.repositories["acme/alpha"]["sha-1"] == "sha256:" + "a" * 64


def test_a_racing_push_or_a_different_digest_per_tag_is_an_error() -> None:
    engine = engine_with("reg/acme/alpha:in-1")
    registry = FakeRegistry()
    registry.put("acme/alpha", "in-1", "sha256:" + "b" * 64)
    raced = push_service("alpha", "reg/acme/alpha", ["reg/acme/alpha:in-1"], engine, registry, "acme/alpha",
                         SETTINGS, NO_WAIT)
    assert not raced.ok and "the registry reports sha256:bbbb" in raced.error and raced.digest == ""
    missing = push_service("alpha", "reg/acme/alpha", ["reg/acme/alpha:in-1"], engine, FakeRegistry(), "acme/alpha",
                           SETTINGS, NO_WAIT)
    assert "the registry reports no manifest" in missing.error
    assert "sha-1" not in registry.repositories["acme/alpha"]  # nothing tagged after a failed confirmation


def _outcome(service: str, status: Status = Status.BUILT) -> ServiceOutcome:
    p = plan(service)
    tags = [p.image, f"{p.repository}:sha-0123456", f"{p.repository}:1.2.3"]
    return ServiceOutcome(p, BuildResult(service, status, p.image, tags))


def test_push_outcomes_push_new_images_and_only_tag_known_ones() -> None:
    new, known, failed, unbuilt = _outcome("alpha"), _outcome("beta"), _outcome("gamma", Status.FAILED), \
        ServiceOutcome(plan("delta"))
    engine = FakeEngine(images={tag: "sha256:" + "a" * 64 for tag in new.build.tags}, push_failures=throttled(1))  # type: ignore[union-attr]
    registry = FakeRegistry()
    digest = "sha256:" + "b" * 64
    registry.put("acme/beta", known.plan.inputs.tag, digest)
    registry.put("acme/beta", "sha-0123456", digest)
    original = engine.push

    def push(reference: str, *, timeout: float) -> str:  # the registry has what docker pushed
        pushed = original(reference, timeout=timeout)
        repository, tag = reference.removeprefix("registry.test/").rsplit(":", 1)
        registry.put(repository, tag, pushed)
        return pushed

    engine.push = push  # type: ignore[method-assign]
    events: list[tuple[str, str]] = []
    push_outcomes([new, known, failed, unbuilt], engine, registry, lambda s: f"acme/{s}", SETTINGS,
                  on_event=lambda s, m: events.append((s, m)), waits=NO_WAIT)
    assert new.push is not None and new.push.ok and new.push.attempts == 2 and new.push.retries == ["toomanyrequests"]
    assert known.push is not None and known.push.digest == digest and known.push.skipped_reason
    assert registry.repositories["acme/beta"]["1.2.3"] == digest  # tagged in the registry, nothing pushed
    assert failed.push is None and unbuilt.push is None
    assert ("beta", "already in the registry; tagged 1.2.3") in events
    assert ("alpha", "pushing") in events and ("alpha", f"pushed {new.push.digest}") in events
    assert any(s == "alpha" and m.startswith("attempt 1 failed (toomanyrequests); retrying in") for s, m in events)
    assert not any(push.startswith("registry.test/acme/beta") for push in engine.pushes)
    assert engine.pushes == [new.plan.image] * 2  # throttled once, then one push of the identity tag
    assert registry.repositories["acme/alpha"]["1.2.3"] == new.push.digest  # tags added in the registry


def test_a_refused_tag_in_the_registry_fails_that_service() -> None:
    known = _outcome("beta")
    registry = FakeRegistry(tag_errors={"sha-0123456": "PUT manifests/sha-0123456: HTTP 403 denied"})
    registry.put("acme/beta", known.plan.inputs.tag, "sha256:" + "b" * 64)
    events: list[tuple[str, str]] = []
    push_outcomes([known], FakeEngine(), registry, lambda s: f"acme/{s}", SETTINGS,
                  on_event=lambda s, m: events.append((s, m)))
    assert known.push is not None and "HTTP 403 denied" in known.push.error and known.failed
    assert events == [("beta", "already in the registry")]


def test_a_push_that_fails_is_recorded_not_raised() -> None:
    outcome = _outcome("alpha")
    engine = FakeEngine(images={tag: "sha256:" + "a" * 64 for tag in outcome.build.tags},  # type: ignore[union-attr]
                        push_failures=[PushFailed("denied: requested access to the resource is denied",
                                                  retryable=False)])
    events: list[tuple[str, str]] = []
    push_outcomes([outcome], engine, FakeRegistry(), lambda s: f"acme/{s}", SETTINGS,
                  on_event=lambda s, m: events.append((s, m)), waits=NO_WAIT)
    assert outcome.failed and outcome.push is not None and "denied" in outcome.push.error
    assert events[-1] == ("alpha", "push failed")
