"""Plans for the build and push use cases, made without a configuration."""

from __future__ import annotations

from pathlib import Path

from devops.domain.images.identity import BuildInputs
from devops.domain.images.plan import ServicePlan
from devops.domain.images.results import Revision

COMMIT = Revision("0123456789abcdef0123456789abcdef01234567", dirty=False, version_tag=None)
RELEASE = Revision(COMMIT.commit, dirty=False, version_tag="v1.2.3")


def plan(service: str, digest: str | None = None) -> ServicePlan:
    inputs = BuildInputs(Path(f"/p/services/{service}"), Path(f"/p/services/{service}/Dockerfile"), {"A": "1"},
                         ("debian",), 2, digest or (service[0] * 64))
    return ServicePlan(service, f"services/{service}", f"registry.test/acme/{service}", inputs, True, "new")
