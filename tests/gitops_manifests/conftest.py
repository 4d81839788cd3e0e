"""Fixtures of the gitops/ manifest tests: the validated configuration, the rendered app-of-apps
of every environment, the bootstrap documents and the CRD schemas of ../shared/schemas/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devops.config import load_config
from devops.config.model import Config
from tests.gitops_manifests.manifests import SchemaSet, load_docs, render_apps

# What issue 5's contract fixes (docs/gitops.md): where the charts live and what they are called.
CONTRACT_SERVICE_CHART = "charts/service"
CONTRACT_MONGODB_CHART = "charts/mongodb"
CONTRACT_SERVICE_DEFAULTS = "charts/values/{service}.yaml"
REPO_URL = "https://github.com/techitfactory/techitfactory-shop.git"


@pytest.fixture(scope="session")
def config(repo_root: Path) -> Config:
    return load_config(repo_root / "pipelines" / "devops.yaml")


@pytest.fixture(scope="session")
def gitops(repo_root: Path) -> Path:
    return repo_root / "gitops"


@pytest.fixture(scope="session")
def environments(config: Config) -> list[str]:
    return sorted(config.environments)


@pytest.fixture(scope="session")
def rendered(gitops: Path, environments: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The child Applications of each environment, rendered by Helm's engine."""
    return {env: render_apps(gitops / "apps", env) for env in environments}


@pytest.fixture(scope="session")
def bootstrap(gitops: Path, environments: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The documents of gitops/bootstrap/<env>.yaml."""
    return {env: load_docs((gitops / "bootstrap" / f"{env}.yaml").read_text()) for env in environments}


@pytest.fixture(scope="session")
def schema_dir(repo_root: Path) -> Path:
    folder = repo_root.parent / "shared" / "schemas"
    if not (folder / "argoproj.io_Application_v1alpha1.json").is_file():
        pytest.skip(f"{folder} is absent (the CRD schemas ship beside the project, not in it)")
    return folder


@pytest.fixture(scope="session")
def schemas(schema_dir: Path) -> SchemaSet:
    """Strict: unknown fields are errors, as for the API server's strict field validation."""
    return SchemaSet(schema_dir, strict=True)


@pytest.fixture(scope="session")
def upstream_schemas(schema_dir: Path) -> SchemaSet:
    """The schemas exactly as converted from the CRDs (open objects)."""
    return SchemaSet(schema_dir, strict=False)
