"""The per-environment values files of the GitOps folder (gitops/environments/<env>/values/, written
by the GitOps work and by `devops release`) render with the charts exactly as Argo CD layers them:
charts/values/<service>.yaml, then the environment's file, with global.environment set."""

from __future__ import annotations

from pathlib import Path

import helm_python as helm
import pytest

from tests.charts.render import (
    DIGEST,
    KUBERNETES_VERSIONS,
    MONGODB_CHART,
    REPO_ROOT,
    SERVICE_CHART,
    SERVICES,
    kubernetes_errors,
    merge,
    render,
    service_values,
    values_file,
)

ENVIRONMENTS = ("dev", "prod")


def _env_file(environment: str, name: str) -> Path:
    path = REPO_ROOT / "gitops" / "environments" / environment / "values" / f"{name}.yaml"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO_ROOT)} does not exist yet")
    return path


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("service", SERVICES)
def test_service_renders_with_environment_values(environment: str, service: str) -> None:
    env_values = values_file(_env_file(environment, service))
    values = service_values(service, env_values, {"global": {"environment": environment}})
    # The repository named in the environment file is the one of this service.
    assert values["image"]["repository"].endswith(f"/{service}")
    if not values["image"]["digest"]:
        # Not released yet: the render must stop and say what to run, never deploy a tag.
        with pytest.raises(helm.HelmRenderError) as caught:
            render(SERVICE_CHART, values, name=service)
        assert str(caught.value).endswith(
            f"image.digest is empty for {service}: run devops release --env {environment}"
        )
        values = merge(values, {"image": {"digest": DIGEST}})
    rendered = render(SERVICE_CHART, values, name=service)
    assert rendered.container()["image"] == f"{values['image']['repository']}@{values['image']['digest']}"
    assert kubernetes_errors(rendered.docs, KUBERNETES_VERSIONS[0]) == []
    autoscaling = values.get("autoscaling", {}).get("enabled", True)
    assert ("HorizontalPodAutoscaler" in rendered.kinds()) == autoscaling
    if not autoscaling:
        assert rendered.one("Deployment")["spec"]["replicas"] == values["replicaCount"]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_mongodb_renders_with_environment_values(environment: str) -> None:
    values = values_file(_env_file(environment, "mongodb"))
    rendered = render(MONGODB_CHART, values, name="mongodb")
    if values.get("external", {}).get("enabled"):
        assert rendered.docs == []
    else:
        assert "StatefulSet" in rendered.kinds()
        assert kubernetes_errors(rendered.docs, KUBERNETES_VERSIONS[0]) == []
