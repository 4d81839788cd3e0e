"""`devops build` and `devops push` on the real Docker engine and the real local registry.

Digests are read back from the registry's HTTP API, not from devops' own output.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import requests

from tests.support.cli import run_cli
from tests.support.project import commit_all, git

pytestmark = pytest.mark.docker
ACCEPT = {"Accept": "application/vnd.docker.distribution.manifest.v2+json"}


def registry_digest(registry: str, repo: str, tag: str) -> str | None:
    answer = requests.head(f"http://{registry}/v2/{repo}/manifests/{tag}", headers=ACCEPT, timeout=10)
    return answer.headers["Docker-Content-Digest"] if answer.status_code == 200 else None


def labels(image: str) -> dict[str, str]:
    out = subprocess.run(["docker", "image", "inspect", image, "--format", "{{json .Config.Labels}}"],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_build_push_digests_match_the_registry_and_second_run_builds_nothing(
        built_project: Path, registry: str, namespace: str) -> None:
    first = run_cli("--json", "build", "--push", cwd=built_project)
    assert first.code == 0, first.err
    result = first.json()
    assert result["summary"] == {"built": 2}  # type: ignore[index]
    commit = git(built_project, "rev-parse", "HEAD").strip()
    for entry in result["services"]:  # type: ignore[index]
        repo = f"{namespace}/{entry['service']}"
        tag = entry["image"].rsplit(":", 1)[1]
        assert entry["digest"] == registry_digest(registry, repo, tag)
        assert entry["reference"] == f"{registry}/{repo}@{entry['digest']}"
        assert registry_digest(registry, repo, f"sha-{commit[:7]}") == entry["digest"]
        found = labels(entry["image"])
        assert found["org.opencontainers.image.revision"] == commit
        assert found["org.opencontainers.image.title"] == entry["service"]
        assert found["org.opencontainers.image.version"] == f"sha-{commit[:7]}"
        assert found["org.opencontainers.image.created"].endswith("Z")

    again = run_cli("--json", "build", "--push", cwd=built_project)
    assert again.code == 0, again.err
    second = again.json()
    assert second["summary"] == {"skipped": 2}  # type: ignore[index]
    for before, after in zip(result["services"], second["services"], strict=True):  # type: ignore[index]
        assert after["push"]["skipped"] == "already in the registry"
        assert after["digest"] == before["digest"]


def test_only_the_changed_service_is_rebuilt(built_project: Path) -> None:
    assert run_cli("build", cwd=built_project).code == 0
    (built_project / "services" / "beta" / "app.txt").write_text("beta v2\n")
    result = run_cli("--json", "build", cwd=built_project)
    statuses = {s["service"]: s["build"]["status"] for s in result.json()["services"]}  # type: ignore[index]
    assert statuses == {"alpha": "skipped", "beta": "built"}


def test_image_present_only_in_the_registry_is_not_rebuilt(built_project: Path, namespace: str) -> None:
    assert run_cli("build", "alpha", "--push", cwd=built_project).code == 0
    subprocess.run(f"docker images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' | grep /{namespace}/alpha | xargs docker rmi -f",
                   shell=True, check=True, capture_output=True)
    result = run_cli("--json", "build", "alpha", "--push", cwd=built_project)
    entry = result.json()["services"][0]  # type: ignore[index]
    assert entry["build"]["status"] == "skipped"
    assert entry["build"]["reason"] == "image with these inputs exists in the registry"
    assert entry["digest"].startswith("sha256:")


def test_semver_tags_on_a_release_tag(built_project: Path, registry: str, namespace: str) -> None:
    git(built_project, "tag", "v1.4.2")
    result = run_cli("--json", "build", "alpha", "--push", cwd=built_project)
    assert result.code == 0, result.err
    digest = result.json()["services"][0]["digest"]  # type: ignore[index]
    for tag in ("1.4.2", "1.4", "1"):
        assert registry_digest(registry, f"{namespace}/alpha", tag) == digest


def test_a_failing_build_shows_the_failing_step_and_exits_3(built_project: Path) -> None:
    dockerfile = built_project / "services" / "beta" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "RUN echo compiling-the-thing && exit 7\n")
    result = run_cli("--json", "build", cwd=built_project)
    assert result.code == 3
    assert "returned a non-zero code: 7" in result.err
    assert "compiling-the-thing" in result.err  # the failing step's own output
    statuses = {s["service"]: s["build"]["status"] for s in result.json()["services"]}  # type: ignore[index]
    assert statuses == {"alpha": "built", "beta": "failed"}  # the other service still built


def test_dry_run_builds_nothing(built_project: Path, namespace: str) -> None:
    result = run_cli("--json", "build", "--push", "--dry-run", cwd=built_project)
    assert result.code == 0
    assert all(s["changed"] for s in result.json()["services"])  # type: ignore[index]
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}"], capture_output=True, text=True).stdout
    assert f"/{namespace}/" not in images


def test_no_docker_daemon_is_exit_3(built_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    result = run_cli("build", cwd=built_project)
    assert result.code == 3
    assert "no Docker daemon answers at unix:///nonexistent/docker.sock" in result.err


def test_push_without_a_build_says_to_build_first(built_project: Path) -> None:
    result = run_cli("push", "alpha", cwd=built_project)
    assert result.code == 2 and "run `devops build alpha` first" in result.err


def test_push_to_docker_hub_needs_credentials(built_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_cli("build", "alpha", cwd=built_project).code == 0
    monkeypatch.setenv("DEVOPS_REGISTRY_HOST", "docker.io")
    result = run_cli("build", "alpha", "--push", cwd=built_project)
    assert result.code == 2 and "needs $DOCKERHUB_USERNAME and $DOCKERHUB_TOKEN" in result.err


def test_plan_without_base_uses_built_images(built_project: Path) -> None:
    assert run_cli("build", "alpha", cwd=built_project).code == 0
    result = run_cli("--json", "plan", cwd=built_project)
    assert [e["service"] for e in result.json()["include"]] == ["beta"]  # type: ignore[index]


def _layer_times(image: str) -> list[str]:
    out = subprocess.run(["docker", "history", "--no-trunc", "--format", "{{.CreatedAt}} {{.CreatedBy}}", image],
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "COPY" in line]


def test_no_cache_rebuilds_every_layer(built_project: Path) -> None:
    first = run_cli("--json", "build", "alpha", cwd=built_project)
    image = first.json()["services"][0]["image"]  # type: ignore[index]
    copied_before = _layer_times(image)
    import time

    time.sleep(1.1)  # history times have one-second resolution
    (built_project / "services" / "alpha" / "Dockerfile").write_text(
        (built_project / "services" / "alpha" / "Dockerfile").read_text() + "ENV REBUILT=1\n")
    cached = run_cli("--json", "build", "alpha", cwd=built_project).json()["services"][0]["image"]  # type: ignore[index]
    assert _layer_times(cached) == copied_before  # the COPY layer came from the cache
    (built_project / "services" / "alpha" / "Dockerfile").write_text(
        (built_project / "services" / "alpha" / "Dockerfile").read_text() + "ENV REBUILT=2\n")
    fresh = run_cli("--json", "build", "alpha", "--no-cache", cwd=built_project)
    assert fresh.code == 0, fresh.err
    rebuilt = fresh.json()["services"][0]["image"]  # type: ignore[index]
    assert _layer_times(rebuilt) != copied_before


def test_new_commit_with_the_same_inputs_gets_its_tags_without_a_push(
        built_project: Path, registry: str, namespace: str) -> None:
    first = run_cli("--json", "build", "alpha", "--push", cwd=built_project).json()["services"][0]  # type: ignore[index]
    (built_project / "NOTES.md").write_text("not a build input\n")
    commit_all(built_project, "docs only")
    git(built_project, "tag", "v2.0.0")
    commit = git(built_project, "rev-parse", "HEAD").strip()
    again = run_cli("--json", "build", "alpha", "--push", cwd=built_project)
    assert again.code == 0, again.err
    entry = again.json()["services"][0]  # type: ignore[index]
    assert entry["build"]["status"] == "skipped" and entry["push"]["skipped"] == "already in the registry"
    for tag in (f"sha-{commit[:7]}", "2.0.0", "2.0", "2"):
        assert registry_digest(registry, f"{namespace}/alpha", tag) == first["digest"]
