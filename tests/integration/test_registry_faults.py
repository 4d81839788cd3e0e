"""Registry faults injected for real: a fault proxy on loopback in front of the real local
registry, and `devops push` through it (the Docker engine talks to the proxy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.faultproxy import FaultProxy, Rule
from tests.support.project import make_project

pytestmark = pytest.mark.docker
ACCEPT = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}


@pytest.fixture
def proxy(registry: str) -> Iterator[FaultProxy]:
    with FaultProxy(registry) as running:
        yield running


@pytest.fixture
def project(tmp_path: Path, proxy: FaultProxy, namespace: str, standin_build_args: dict[str, str],
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = make_project(tmp_path / "shop", namespace=namespace, registry=proxy.address, services=("alpha",))
    monkeypatch.setenv("DEVOPS_BUILD_ARGS", f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}")
    assert run_cli("build", cwd=root).code == 0
    yield root
    import subprocess

    subprocess.run(f"docker images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' | grep '/{namespace}/' | xargs -r docker rmi -f",
                   shell=True, capture_output=True)


def manifest_puts(proxy: FaultProxy) -> list[str]:
    return [what for method, path, what in proxy.log if method == "PUT" and "/manifests/" in path]


def in_registry(registry: str, namespace: str, tag: str) -> str | None:
    answer = requests.head(f"http://{registry}/v2/{namespace}/alpha/manifests/{tag}", headers=ACCEPT, timeout=10)
    return answer.headers.get("Docker-Content-Digest") if answer.status_code == 200 else None


def test_429_then_success(project: Path, proxy: FaultProxy, registry: str, namespace: str) -> None:
    proxy.add(Rule("PUT", "/manifests/", status=429, times=2, headers={"Retry-After": "1"}))
    result = run_cli("--json", "push", cwd=project)
    assert result.code == 0, result.err
    entry = result.json()["services"][0]  # type: ignore[index]
    assert len(entry["push"]["retries"]) == 2 and "toomanyrequests" in entry["push"]["retries"][0]
    tag = entry["image"].rsplit(":", 1)[1]
    assert entry["digest"] == in_registry(registry, namespace, tag)
    assert manifest_puts(proxy)[:3] == ["answered 429", "answered 429", "forwarded"]


def test_429_forever_gives_up_bounded_with_exit_3(project: Path, proxy: FaultProxy) -> None:
    proxy.add(Rule("PUT", "/manifests/", status=429))
    result = run_cli("push", cwd=project)
    assert result.code == 3
    assert "gave up after 3 attempts" in result.err and "toomanyrequests" in result.err
    assert manifest_puts(proxy) == ["answered 429"] * 3


def test_401_is_not_retried(project: Path, proxy: FaultProxy) -> None:
    proxy.add(Rule("PUT", "/manifests/", status=401,
                   headers={"WWW-Authenticate": 'Basic realm="registry"'}))
    result = run_cli("push", cwd=project)
    assert result.code == 3
    assert "check the registry credentials" in result.err
    assert manifest_puts(proxy) == ["answered 401"]


def test_404_is_not_retried(project: Path, proxy: FaultProxy) -> None:
    proxy.add(Rule("PUT", "/manifests/", status=404))
    result = run_cli("push", cwd=project)
    assert result.code == 3
    assert manifest_puts(proxy) == ["answered 404"]


def test_push_interrupted_midway_is_retried_and_lands_intact(
        project: Path, proxy: FaultProxy, registry: str, namespace: str) -> None:
    # Cut the connection after 1000 bytes of the first layer upload, then let it through.
    proxy.add(Rule("PATCH", "/blobs/uploads/", cut_after=1000, times=1))
    result = run_cli("--json", "push", cwd=project)
    assert result.code == 0, result.err
    entry = result.json()["services"][0]  # type: ignore[index]
    assert any(what.startswith("cut after") for _, _, what in proxy.log)
    tag = entry["image"].rsplit(":", 1)[1]
    digest = in_registry(registry, namespace, tag)
    assert entry["digest"] == digest
    # The stored image is whole: every layer of the manifest is in the registry.
    manifest = requests.get(f"http://{registry}/v2/{namespace}/alpha/manifests/{digest}", headers=ACCEPT,
                            timeout=10).json()
    for layer in manifest["layers"]:
        blob = requests.head(f"http://{registry}/v2/{namespace}/alpha/blobs/{layer['digest']}", timeout=10)
        assert blob.status_code == 200
