"""Fixtures of the release tests: a throw-away project with two tiny services built FROM the
Debian stand-in, a bare GitOps remote with dev and prod, the local registry, and a real Trivy
with a small real vulnerability DB (clean: nothing over the policy; dirty: a planted CRITICAL)."""

from __future__ import annotations

import json
import subprocess
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.gates.trivydb import Advisory, build_db
from tests.support.project import commit_all, config_text, git, make_project

SERVICES = ("alpha", "beta")
VALUES = """\
# {service} in {env}. The image block is written by `devops release`; everything else is yours.
image:
  repository: {repository}
  tag: ""        # human-readable; never used to pull
  digest: ""     # the chart pulls repository@digest
replicaCount: 1  # edited by hand
"""
EMPTY_RECORD = {"schema": 1, "environment": "", "released_at": None, "released_by": None,
                "source_commit": None, "promoted_from": None, "services": {}}


@pytest.fixture(scope="session")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only findings under the CRITICAL/HIGH threshold: the gate passes."""
    return build_db(tmp_path_factory.mktemp("trivy-clean"), [
        Advisory("CVE-2099-2001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="zlib: planted medium"),
    ])


@pytest.fixture(scope="session")
def dirty_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CRITICAL in glibc, which every Debian image has: the gate fails."""
    return build_db(tmp_path_factory.mktemp("trivy-dirty"), [
        Advisory("CVE-2099-2002", "glibc", "CRITICAL", title="glibc: planted critical"),
    ])


@dataclass
class Shop:
    root: Path
    remote: Path
    namespace: str
    registry: str
    trivy_cache: Path

    def config(self, *, trivy_cache: Path | None = None, extra: str = "") -> None:
        """(Re)write pipelines/devops.yaml; dev builds, prod promotes from dev by commits."""
        environments = textwrap.dedent(f"""\
            environments:
              dev:
                url: http://dev.localhost
                cluster: {{name: test-dev}}
                gitops: {{repo: "{self.remote}", branch: main, path: gitops/environments/dev,
                          push: {{attempts: 5, backoff_seconds: 0.05, max_backoff_seconds: 0.2}}}}
              prod:
                url: http://prod.localhost
                cluster: {{name: test-prod}}
                gitops: {{repo: "{self.remote}", branch: main, path: gitops/environments/prod, mode: commit,
                          push: {{attempts: 5, backoff_seconds: 0.05, max_backoff_seconds: 0.2}}}}
                promote_from: dev
                auto_sync: false
            gates:
              cache_dir: .devops/cache/scan
              scan: {{severities: [CRITICAL, HIGH], scanners: [vuln]}}
              trivy: {{cache_dir: "{trivy_cache or self.trivy_cache}", offline: true, timeout_seconds: 120}}
            """)
        text = config_text(namespace=self.namespace, services=SERVICES, registry=self.registry,
                           environments=environments, extra=extra)
        (self.root / "pipelines" / "devops.yaml").write_text(text)

    def remote_file(self, path: str, ref: str = "main") -> str:
        return git(self.remote, "show", f"{ref}:{path}")

    def record(self, env: str) -> dict:  # type: ignore[type-arg]
        return json.loads(self.remote_file(f"gitops/environments/{env}/release.json"))

    def commits(self) -> list[str]:
        return git(self.remote, "log", "--format=%H", "main").split()

    def change_service(self, name: str, text: str) -> None:
        (self.root / "services" / name / "app.txt").write_text(text)
        commit_all(self.root, f"change {name}")

    def push_to_remote(self, files: dict[str, str], message: str) -> None:
        """Commit files to the GitOps remote as a human would (through a clone)."""
        work = self.remote.parent / f"edit-{uuid.uuid4().hex[:6]}"
        git(self.remote.parent, "clone", "-q", str(self.remote), str(work))
        for rel, content in files.items():
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            (work / rel).write_text(content)
        commit_all(work, message)
        git(work, "push", "-q", "origin", "main")


def make_gitops_remote(where: Path, registry: str, namespace: str) -> Path:
    seed = where / "gitops-seed"
    seed.mkdir(parents=True)
    for env in ("dev", "prod"):
        folder = seed / "gitops" / "environments" / env
        (folder / "values").mkdir(parents=True)
        for service in SERVICES:
            (folder / "values" / f"{service}.yaml").write_text(
                VALUES.format(service=service, env=env, repository=f"{registry}/{namespace}/{service}"))
        (folder / "release.json").write_text(json.dumps({**EMPTY_RECORD, "environment": env}, indent=2) + "\n")
    git(seed, "init", "-q", "-b", "main")
    commit_all(seed, "gitops: initial")
    remote = where / "gitops.git"
    git(where, "clone", "-q", "--bare", str(seed), str(remote))
    return remote


@pytest.fixture
def shop(tmp_path: Path, registry: str, standin_build_args: dict[str, str], clean_db: Path,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    namespace = f"r{uuid.uuid4().hex[:10]}"
    root = make_project(tmp_path / "shop", namespace=namespace, registry=registry, services=SERVICES, commit=False)
    remote = make_gitops_remote(tmp_path, registry, namespace)
    shop = Shop(root, remote, namespace, registry, clean_db)
    shop.config()
    (root / ".gitignore").write_text(".devops/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    monkeypatch.setenv("DEVOPS_BUILD_ARGS", f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "t")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.com")
    yield shop
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    mine = [image for image in images if f"/{namespace}/" in image]
    digests = subprocess.run(["docker", "images", "--digests", "--format", "{{.Repository}}@{{.Digest}}"],
                             capture_output=True, text=True).stdout.split()
    mine += [ref for ref in digests if f"/{namespace}/" in ref and not ref.endswith("@<none>")]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)
