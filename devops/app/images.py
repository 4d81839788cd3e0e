"""Push the built images of a build-and-push, shared by `devops build --push`, `devops push`
and releases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from devops.app.push import DigestReader, Pusher, PushResult, RetrySettings, Waits, push_service
from devops.domain.images.results import ImagesReport, ServiceOutcome, Status
from devops.errors import DevopsError

__all__ = ["ImagesReport", "ServiceOutcome", "push_outcomes"]


def push_outcomes(
    outcomes: Sequence[ServiceOutcome],
    pusher: Pusher,
    registry: DigestReader,
    registry_path: Callable[[str], str],
    settings: RetrySettings,
    *,
    on_event: Callable[[str, str], None] = lambda service, message: None,
    waits: Waits | None = None,
    parallelism: int = 1,
) -> None:
    """Push every outcome whose build succeeded, `parallelism` at a time; an image already in the
    registry is only read (and given the new tags)."""
    todo = [o for o in outcomes if o.build is not None and o.build.status is not Status.FAILED]
    workers = max(1, min(parallelism, len(todo)))
    if workers == 1:
        for outcome in todo:
            _push_one(outcome, pusher, registry, registry_path, settings, on_event, waits)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="push") as pool:
        list(pool.map(lambda o: _push_one(o, pusher, registry, registry_path, settings, on_event, waits), todo))


def _push_one(outcome: ServiceOutcome, pusher: Pusher, registry: DigestReader, registry_path: Callable[[str], str],
              settings: RetrySettings, on_event: Callable[[str, str], None], waits: Waits | None) -> None:
    build = outcome.build
    assert build is not None
    plan = outcome.plan
    path = registry_path(plan.service)
    # The identity tag names the inputs: if the registry has it, it has this image.
    digest = registry.manifest_digest(path, plan.inputs.tag)
    if digest:
        # Same inputs, maybe a new commit or release tag: add those tags in the registry
        # without pushing anything again.
        tags = [tag.rsplit(":", 1)[1] for tag in build.tags]
        outcome.push = PushResult(plan.service, plan.repository, tags, digest=digest,
                                  skipped_reason="already in the registry")
        try:
            added = [tag for tag in tags[1:] if registry.tag(path, digest, tag)]
        except DevopsError as exc:
            outcome.push.error = str(exc)
            added = []
        note = f"; tagged {', '.join(added)}" if added else ""
        on_event(plan.service, f"already in the registry{note}")
        return
    on_event(plan.service, "pushing")

    def retried(attempt: int, wait: float, why: str, service: str = plan.service) -> None:
        on_event(service, f"attempt {attempt} failed ({why}); retrying in {wait:.1f} s")

    outcome.push = push_service(plan.service, plan.repository, build.tags, pusher, registry, path,
                                settings, replace(waits or Waits(), on_retry=retried))
    on_event(plan.service, f"pushed {outcome.push.digest}" if outcome.push.ok else "push failed")
