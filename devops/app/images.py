"""Build and push as one step, shared by `devops build --push`, `devops push` and releases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devops.app.build import BuildResult, Status
from devops.app.plan import ServicePlan
from devops.app.push import DigestReader, Pusher, PushResult, RetrySettings, push_service
from devops.errors import DevopsError


@dataclass
class ServiceOutcome:
    plan: ServicePlan
    build: BuildResult | None = None
    push: PushResult | None = None

    @property
    def failed(self) -> bool:
        return bool((self.build and self.build.status is Status.FAILED) or (self.push and self.push.error))

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"service": self.plan.service, "input_hash": self.plan.inputs.digest,
                                   "image": self.plan.image}
        if self.build:
            data["build"] = self.build.to_dict()
        if self.push:
            data["push"] = self.push.to_dict()
            data["digest"] = self.push.digest or None
            data["reference"] = self.push.reference or None
        return data


@dataclass
class ImagesReport:
    outcomes: list[ServiceOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ServiceOutcome]:
        return [o for o in self.outcomes if o.failed]

    def to_dict(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for outcome in self.outcomes:
            if outcome.build:
                counts[outcome.build.status.value] = counts.get(outcome.build.status.value, 0) + 1
        return {"services": [o.to_dict() for o in self.outcomes], "summary": counts,
                "failed": [o.plan.service for o in self.failed]}


def push_outcomes(
    outcomes: Sequence[ServiceOutcome],
    pusher: Pusher,
    registry: DigestReader,
    registry_path: Callable[[str], str],
    settings: RetrySettings,
    *,
    on_event: Callable[[str, str], None] = lambda service, message: None,
    **retry_kwargs: object,
) -> None:
    """Push every outcome whose build succeeded; an image already in the registry is only read."""
    for outcome in outcomes:
        build = outcome.build
        if build is None or build.status is Status.FAILED:
            continue
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
            continue
        on_event(plan.service, "pushing")

        def retried(attempt: int, wait: float, why: str, service: str = plan.service) -> None:
            on_event(service, f"attempt {attempt} failed ({why}); retrying in {wait:.1f} s")

        outcome.push = push_service(plan.service, plan.repository, build.tags, pusher, registry, path,
                                    settings, on_retry=retried, **retry_kwargs)
        on_event(plan.service, f"pushed {outcome.push.digest}" if outcome.push.ok else "push failed")
