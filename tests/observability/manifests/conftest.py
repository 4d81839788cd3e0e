"""Fixtures of the observability manifest tests: the chart gitops/platform/observability rendered
with each environment's values as the `observability-<env>` Application passes them, the CRD
schemas of ../shared/schemas (skipped, saying why, without them) and the real promtool/amtool."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from devops.config import load_config
from devops.config.model import Config
from tests.gitops_manifests.manifests import SchemaSet, applications, render_apps, render_chart, sources
from tests.observability.manifests.catalogue import CHART, REPO_ROOT

SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(REPO_ROOT / "pipelines" / "devops.yaml")


@pytest.fixture(scope="session")
def environments(config: Config) -> list[str]:
    return sorted(config.environments)


@pytest.fixture(scope="session")
def apps(environments: list[str]) -> dict[str, dict[str, Any]]:
    """The child Applications of gitops/apps per environment, by name without the -<env> suffix."""
    found: dict[str, dict[str, Any]] = {}
    for env in environments:
        docs = render_apps(REPO_ROOT / "gitops" / "apps", env)
        found[env] = {name.removesuffix(f"-{env}"): dict(app) for name, app in applications(docs).items()}
    return found


def observability_values(app: dict[str, Any]) -> dict[str, Any]:
    """What Argo CD gives Helm on top of the chart's values.yaml: the Application's valuesObject."""
    [source] = [s for s in sources(app) if "path" in s]
    values: dict[str, Any] = dict(source.get("helm", {}).get("valuesObject") or {})
    return values


@pytest.fixture(scope="session")
def rendered(apps: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The observability chart per environment, rendered by Helm's engine as Argo CD would."""
    return {
        env: render_chart(CHART, observability_values(by_name["observability"]), release="observability",
                          namespace="monitoring")
        for env, by_name in apps.items()
    }


@pytest.fixture(scope="session")
def schema_dir() -> Path:
    needed = ("monitoring.coreos.com_PrometheusRule_v1.json", "monitoring.coreos.com_ServiceMonitor_v1.json")
    if not all((SCHEMAS / name).is_file() for name in needed):
        pytest.skip(f"{SCHEMAS} is absent (the CRD schemas ship beside the project, not in it)")
    return SCHEMAS


@pytest.fixture(scope="session")
def schemas(schema_dir: Path) -> SchemaSet:
    """Strict: unknown fields are errors, as for the API server's strict field validation."""
    return SchemaSet(schema_dir, strict=True)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return path


@pytest.fixture(scope="session")
def promtool() -> str:
    return _tool("promtool", "prometheus")


@pytest.fixture(scope="session")
def amtool() -> str:
    return _tool("amtool", "prometheus-alertmanager")


@pytest.fixture
def chart_copy(tmp_path: Path) -> Path:
    """A throw-away copy of the chart for bad-input tests (never touch the real rules/)."""
    copy = tmp_path / "observability"
    shutil.copytree(CHART, copy)
    return copy
