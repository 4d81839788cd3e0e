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
