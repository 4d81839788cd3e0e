"""Which services must be rebuilt: a service's plan names its inputs and whether they changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from devops.domain.images.identity import BuildInputs


@dataclass(frozen=True)
class ServicePlan:
    service: str
    path: str
    repository: str
    inputs: BuildInputs
    changed: bool
    reason: str

    @property
    def image(self) -> str:
        """Local reference of the image these inputs produce: `repository:in-<hash>`."""
        return f"{self.repository}:{self.inputs.tag}"


@dataclass(frozen=True)
class Plan:
    services: list[ServicePlan] = field(default_factory=list)
    base: str | None = None

    @property
    def changed(self) -> list[ServicePlan]:
        return [s for s in self.services if s.changed]

    def matrix(self) -> dict[str, list[dict[str, str]]]:
        """A GitHub Actions matrix of the services to rebuild."""
        return {"include": [{"service": s.service, "path": s.path, "tag": s.inputs.tag} for s in self.changed]}


def push_first_order(plans: list[ServicePlan]) -> list[ServicePlan]:
    """The plans in the order their builds should start when each image is pushed as it is ready
    (a release): first each image whose runtime base (its last `FROM` image) no plan before it
    has, then the images that reuse a base already in that first group.

    The first push of an image compresses and uploads its base layers; an image whose base was
    pushed before only adds its own layers (the registry mounts the rest). Built early, the
    images that bring new base layers push while the others build, and the release's last
    step is a cheap push. The configuration's order otherwise; only speed depends on it."""
    seen: set[str] = set()
    first: list[ServicePlan] = []
    later: list[ServicePlan] = []
    for plan in plans:
        base = plan.inputs.base_images[-1] if plan.inputs.base_images else None
        (later if base is not None and base in seen else first).append(plan)
        if base is not None:
            seen.add(base)
    return first + later
