"""GitOps engine fixtures: real git, a bare "remote" in a temp dir, a project pointing at it."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from devops.app.gitops_publish import GitOpsSession
from devops.config import Config
from devops.wiring.gitops import open_gitops
from devops.wiring.settings import RuntimeSettings
from tests.support.project import make_project

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
DIGEST_C = "sha256:" + "c" * 64
SOURCE = "1234567890abcdef1234567890abcdef12345678"

# A values file as people write them: comments, a `---`, 4-space indentation, an anchor and
# its alias, a flow mapping, an indentless sequence, quoted and plain scalars.
ALPHA_VALUES = """\
---
# alpha in dev. The image block is written by `devops release`; everything else is yours.
defaults: &defaults
    cpu: 100m   # keep small in dev
    memory: 128Mi
image:
    repository: docker.io/test/alpha   # where the chart pulls from
    tag: ""        # human-readable; never used to pull
    digest: ""     # the chart pulls repository@digest
resources: *defaults
env: {LOG_LEVEL: debug, PORT: "8000"}
hosts:
- alpha.dev.example.com
-   'www.alpha.dev.example.com'
replicaCount: 1
"""
BETA_VALUES = "image:\n  repository: docker.io/test/beta\n  tag: ''\n  digest: ''\nreplicaCount: 1\n"


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True).stdout


@dataclass
class Remote:
    bare: Path
    seed: Path  # a normal clone used to set up and inspect the remote

    def log(self, branch: str = "main") -> list[str]:
        return git(self.bare, "log", "--format=%H %s", branch).splitlines()

    def show(self, path: str, ref: str = "main") -> bytes:
        return subprocess.run(["git", "show", f"{ref}:{path}"], cwd=self.bare, check=True,
                              capture_output=True).stdout

    def tip(self, branch: str = "main") -> str:
        return git(self.bare, "rev-parse", branch).strip()

    def branches(self) -> list[str]:
        return git(self.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads").split()

    def hook(self, name: str, script: str) -> None:
        path = self.bare / "hooks" / name
        path.write_text(script)
        path.chmod(0o755)


def empty_record(env: str) -> str:
    return json.dumps({"schema": 1, "environment": env, "released_at": None, "released_by": None,
                       "source_commit": None, "promoted_from": None, "services": {}}, indent=2) + "\n"


@pytest.fixture
def remote(tmp_path: Path) -> Remote:
    """A bare GitOps repository with dev and prod values for alpha and beta on `main`."""
    bare = tmp_path / "gitops.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    seed = tmp_path / "seed"
    git(tmp_path, "clone", "-q", str(bare), str(seed))
    for env in ("dev", "prod"):
        folder = seed / "gitops" / "environments" / env / "values"
        folder.mkdir(parents=True)
        (folder / "alpha.yaml").write_bytes(ALPHA_VALUES.encode())
        (folder / "beta.yaml").write_bytes(BETA_VALUES.encode())
        (folder.parent / "release.json").write_text(empty_record(env))
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm", "initial")
    git(seed, "push", "-q", "origin", "HEAD:main")
    return Remote(bare, seed)


GITOPS_BLOCK = """\
    gitops:
      path: gitops/environments/{env}
      mode: {mode}
      push: {{attempts: 3, backoff_seconds: 0.01, max_backoff_seconds: 0.05, timeout_seconds: 60}}
      author: {{name: devops-bot, email: bot@example.com}}
      pull_request: {{labels: [release, prod], draft: true}}
"""


def write_project(root: Path, *, services: tuple[str, ...] = ("alpha", "beta")) -> Path:
    """make_project's project with dev (commit mode) and prod (pull-request mode) GitOps targets."""
    project = make_project(root, services=services, registry="127.0.0.1:5000", namespace="test")
    config = project / "pipelines" / "devops.yaml"
    text = config.read_text().replace("    gitops: {path: gitops/environments/dev}\n",
                                      GITOPS_BLOCK.format(env="dev", mode="commit"))
    text += ("  prod:\n    url: http://localhost:8081\n    cluster: {name: test-prod}\n"
             + GITOPS_BLOCK.format(env="prod", mode="pull-request"))
    config.write_text(text)
    return config


@pytest.fixture
def config_path(tmp_path: Path, remote: Remote, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's config; $DEVOPS_GITOPS_REPO points every environment at `remote`."""
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", str(remote.bare))
    return write_project(tmp_path / "shop")


@pytest.fixture
def config(config_path: Path):  # type: ignore[no-untyped-def]
    import os

    from devops.config import load_config

    return load_config(config_path, environ=os.environ)  # as the CLI passes its settings


def open_repo(config: Config, env: str = "dev", *, depth: int | None = None) -> GitOpsSession:
    """The environment's GitOps repository as the CLI wires it (git clone, GitHub when configured),
    with the process environment of the test (monkeypatched variables included)."""
    return open_gitops(config, env, RuntimeSettings.from_environ(), depth=depth)
