"""A synthetic monorepo with N services and a GitOps repository with M environments.

    project = make_scale_project(where, services=100, environments=20, namespace="bench1234",
                                 registry="127.0.0.1:5000", trivy_cache=db_dir)

The monorepo (`project.root`) is a git repository laid out like the shop: `pipelines/devops.yaml`
and `services/svcNNN/` with a tiny Dockerfile FROM the Debian stand-in (the `DEBIAN_IMAGE`
build argument, as tests/support/project.py does), an `app.txt` and `files_per_service` small
source files, so hashing the build inputs has real files to read. The GitOps repository is a
local bare remote (`project.remote`) with `gitops/environments/<env>/values/<service>.yaml` and
`release.json` per environment, shaped like tests/release/conftest.py's.

Environments: `dev` builds; `prod` and, for M > 2, `region03`..`regionMM` promote from dev
(mode commit, so a promotion is a commit rather than a pull request nobody can open here).

Service contents depend only on the service's name, so two projects of one namespace share
their images: the first release builds `svc007`, the next project finds it already built.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# A values file and an empty release record, shaped like tests/release/conftest.py's (copied,
# so the benchmark does not depend on a test module's fixtures).
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
DOCKERFILE = """\
ARG DEBIAN_IMAGE=debian:bookworm-slim
FROM ${DEBIAN_IMAGE}
COPY . /srv/app/
CMD ["cat", "/srv/app/app.txt"]
"""
DOCKERIGNORE = "*.log\nnode_modules\n.git\n"
SOURCE = '''\
"""{service}: module {index} (synthetic, for the scale benchmark)."""


def handler_{index}(request: dict) -> dict:
    return {{"service": "{service}", "module": {index}, "echo": request}}
'''


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def commit_all(root: Path, message: str) -> None:
    identity = ("-c", "user.email=bench@example.com", "-c", "user.name=bench")
    git(root, *identity, "add", "-A")
    git(root, *identity, "commit", "-qm", message)


def service_names(count: int) -> tuple[str, ...]:
    return tuple(f"svc{i:03d}" for i in range(count))


def environment_names(count: int) -> tuple[str, ...]:
    """`dev`, `prod`, then `region03`..: every one after dev promotes from dev."""
    if count < 2:
        raise ValueError("at least two environments: dev builds, prod promotes")
    return ("dev", "prod", *(f"region{i:02d}" for i in range(3, count + 1)))


def config_text(*, services: Sequence[str], environments: Sequence[str], registry: str, namespace: str,
                remote: Path, trivy_cache: Path, scan_cache: str = ".devops/cache/scan",
                parallelism: int = 2) -> str:
    """pipelines/devops.yaml of a scale project."""
    lines = [
        "project: scaleshop",
        "registry:",
        f'  host: "{registry}"',
        f"  namespace: {namespace}",
        "  insecure: true",
        "  push: {attempts: 3, backoff_seconds: 0.2, max_backoff_seconds: 0.5, deadline_seconds: 300, "
        "timeout_seconds: 120}",
        "build:",
        f"  parallelism: {parallelism}",
        "services:",
    ]
    for i, name in enumerate(services):
        lines += [f"  {name}:", f"    path: services/{name}", f"    port: {8000 + i}", "    language: other"]
    lines.append("environments:")
    push = "push: {attempts: 5, backoff_seconds: 0.05, max_backoff_seconds: 0.2}"
    for env in environments:
        lines += [
            f"  {env}:",
            f"    url: http://{env}.localhost",
            f"    cluster: {{name: scale-{env}}}",
            f'    gitops: {{repo: "{remote}", branch: main, path: gitops/environments/{env}, mode: commit, {push}}}',
        ]
        if env != "dev":
            lines += ["    promote_from: dev", "    auto_sync: false"]
    lines += textwrap.dedent(f"""\
        gates:
          cache_dir: "{scan_cache}"
          scan: {{severities: [CRITICAL, HIGH], scanners: [vuln]}}
          trivy: {{cache_dir: "{trivy_cache}", offline: true, timeout_seconds: 600}}
        """).splitlines()
    return "\n".join(lines) + "\n"


def write_service(root: Path, name: str, files: int) -> None:
    folder = root / "services" / name
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(DOCKERFILE)
    (folder / ".dockerignore").write_text(DOCKERIGNORE)
    (folder / "app.txt").write_text(f"{name} v1\n")
    for index in range(files):
        (folder / "src" / f"module_{index:03d}.py").write_text(SOURCE.format(service=name, index=index))


def make_gitops_remote(where: Path, *, services: Sequence[str], environments: Sequence[str], registry: str,
                       namespace: str) -> Path:
    """A bare repository with values files and an empty release record per environment."""
    seed = where / "gitops-seed"
    for env in environments:
        folder = seed / "gitops" / "environments" / env
        (folder / "values").mkdir(parents=True)
        for service in services:
            (folder / "values" / f"{service}.yaml").write_text(
                VALUES.format(service=service, env=env, repository=f"{registry}/{namespace}/{service}"))
        (folder / "release.json").write_text(json.dumps({**EMPTY_RECORD, "environment": env}, indent=2) + "\n")
    git(seed, "init", "-q", "-b", "main")
    commit_all(seed, "gitops: initial")
    remote = where / "gitops.git"
    git(where, "clone", "-q", "--bare", str(seed), str(remote))
    return remote


@dataclass
class ScaleProject:
    root: Path
    remote: Path
    services: tuple[str, ...]
    environments: tuple[str, ...]
    namespace: str
    registry: str

    def change_service(self, name: str, token: str) -> None:
        """One service's inputs change, committed (what a developer's merge does)."""
        (self.root / "services" / name / "app.txt").write_text(f"{name} {token}\n")
        commit_all(self.root, f"change {name}")

    def gitops_commits(self) -> int:
        return int(git(self.remote, "rev-list", "--count", "main").strip())

    def seed_environments(self, source: str = "dev") -> None:
        """Copy `source`'s values and record into every other environment, as one commit pushed
        by a person: every environment then runs the full set of services with evidence."""
        work = self.remote.parent / "gitops-edit"
        if not work.exists():
            git(self.remote.parent, "clone", "-q", str(self.remote), str(work))
        git(work, "pull", "-q", "origin", "main")
        commit = git(work, "rev-parse", "HEAD").strip()
        base = work / "gitops" / "environments"
        record = json.loads((base / source / "release.json").read_text())
        for env in self.environments:
            if env == source:
                continue
            for service in self.services:
                text = (base / source / "values" / f"{service}.yaml").read_text()
                (base / env / "values" / f"{service}.yaml").write_text(text.replace(f" in {source}.", f" in {env}."))
            copy = {**record, "environment": env, "promoted_from": {"environment": source, "gitops_commit": commit}}
            (base / env / "release.json").write_text(json.dumps(copy, indent=2) + "\n")
        commit_all(work, f"seed every environment from {source}")
        git(work, "push", "-q", "origin", "main")

    def images(self) -> list[str]:
        """Local image references of this namespace (for clean-up)."""
        listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                capture_output=True, text=True).stdout.split()
        return [ref for ref in listed if f"/{self.namespace}/" in ref]


def make_scale_project(where: Path, *, services: int, environments: int, namespace: str, registry: str,
                       trivy_cache: Path, scan_cache: str = ".devops/cache/scan", files_per_service: int = 20,
                       parallelism: int = 2) -> ScaleProject:
    """Write the monorepo (committed) and its GitOps remote under `where`; see the module docstring."""
    names = service_names(services)
    envs = environment_names(environments)
    where.mkdir(parents=True, exist_ok=True)
    remote = make_gitops_remote(where, services=names, environments=envs, registry=registry, namespace=namespace)
    root = where / "monorepo"
    (root / "pipelines").mkdir(parents=True)
    (root / "pipelines" / "devops.yaml").write_text(config_text(
        services=names, environments=envs, registry=registry, namespace=namespace, remote=remote,
        trivy_cache=trivy_cache, scan_cache=scan_cache, parallelism=parallelism))
    for name in names:
        write_service(root, name, files_per_service)
    (root / ".gitignore").write_text(".devops/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    return ScaleProject(root, remote, names, envs, namespace, registry)
