"""Shared fixtures: the real local components (see tests/support/stack.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import scheduling, stack
from tests.support.shop_images import build_shop_images

# The token-auth registry (as strict as Docker Hub) and a fault proxy in front of it.
from tests.support.strictregistry import strict_proxy, strict_registry  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_fixtures() -> Path:
    """`../shared/fixtures` (real public sample data); tests skip, saying why, without it."""
    folder = SHARED / "fixtures"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent (it ships beside the project, not in it)")
    return folder


@pytest.fixture(scope="session")
def docker_engine() -> None:
    stack.docker_engine()


@pytest.fixture(scope="session")
def registry(docker_engine: None) -> str:
    """host:port of the real local registry started by .ci/run."""
    return stack.registry_up()


@pytest.fixture(scope="session")
def standin_build_args(docker_engine: None) -> dict[str, str]:
    """Build arguments naming the stand-in base images (built once, cached)."""
    return stack.build_standins()


@pytest.fixture(scope="session")
def shop_images(standin_build_args: dict[str, str]) -> dict[str, str]:
    """The shop's images (frontend, product, cart, order, the MongoDB stand-in), built once per
    run for every module that runs them; the tag of each, by name."""
    return build_shop_images(standin_build_args)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[stack.MotoServer]:
    server = stack.MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def aws_env(moto_server: stack.MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """AWS SDK pointed at the moto server with dummy credentials; state reset after the test."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield moto_server.url
    moto_server.reset()


@pytest.fixture(autouse=True)
def _no_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see a laptop unless they opt into Actions by setting the variables themselves."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "DEVOPS_CONFIG",
                 "DEVOPS_REGISTRY_HOST", "DEVOPS_REGISTRY_NAMESPACE", "DEVOPS_BUILD_ARGS", "DEVOPS_GITOPS_REPO",
                 "GITHUB_TOKEN", "GITHUB_API_URL", "GITHUB_ACTOR", "GITHUB_RUN_ID", "GITHUB_SERVER_URL",
                 "GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_WORKFLOW"):
        monkeypatch.delenv(name, raising=False)
    os.environ.setdefault("TF_CLI_CONFIG_FILE", os.devnull)


# Tiers (docs/architecture.md, "Tests"): folders say what a test needs, so `nox -s unit` can
# select the fast tier and CI can schedule the slow one.
UNIT_FOLDERS = ("tests/domain/", "tests/app/", "tests/contract/", "tests/architecture/")
E2E_FOLDERS = ("tests/demo/", "tests/services/", "tests/release/", "tests/observability/e2e/")
DOCKER_FIXTURES = {"docker_engine", "registry", "standin_build_args", "strict_registry", "shop_images"}


# tryfirst: pytest-xdist's own hook reads the `xdist_group` marks set here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    scheduling.assign_groups(items, REPO_ROOT)
    for item in items:
        where = Path(str(item.fspath)).relative_to(REPO_ROOT).as_posix()
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & DOCKER_FIXTURES:
            item.add_marker(pytest.mark.docker)
        if where.startswith(E2E_FOLDERS):
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("docker") or item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)
        if where.startswith(UNIT_FOLDERS) and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.unit)
