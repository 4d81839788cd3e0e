"""The demo's GitOps remote: a local bare repository seeded once from this repository's `gitops/`.

It is kept between runs (a second run finds dev and prod already released, so the release and
the promotion are no-ops); `devops release` clones and pushes to it like to any remote.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.adapters.process import run

BRANCH = "main"
_GIT_IDENTITY = {"GIT_AUTHOR_NAME": "devops demo", "GIT_AUTHOR_EMAIL": "demo@devops.local",
                 "GIT_COMMITTER_NAME": "devops demo", "GIT_COMMITTER_EMAIL": "demo@devops.local"}


def _git(*args: str, cwd: Path | None = None) -> str:
    return run(["git", *args], cwd=cwd, env=_GIT_IDENTITY, timeout=120, install_hint="apt-get install git").stdout


def ensure_remote(remote: Path, source: Path) -> bool:
    """Create the bare remote from `source` (this repository's gitops/) unless it exists.

    Returns True when it was created now. The seed commit holds `gitops/` at the same path as
    in this repository, so the environments' `gitops.path` values stay what they are.
    """
    if (remote / "HEAD").is_file():
        return False
    remote.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="devops-demo-seed-") as tmp:
        work = Path(tmp) / "seed"
        shutil.copytree(source, work / "gitops", ignore=shutil.ignore_patterns("node_modules", "*.tgz"))
        _git("init", "-q", "-b", BRANCH, cwd=work)
        _git("add", "-A", cwd=work)
        _git("commit", "-q", "-m", "gitops: seeded from the techitfactory-shop repository (devops demo)", cwd=work)
        staging = remote.with_name(remote.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        _git("clone", "-q", "--bare", str(work), str(staging))
        staging.rename(remote)
    return True


def head(remote: Path) -> str:
    """The commit the branch points at ("" when the remote has none yet)."""
    result = run(["git", "--git-dir", str(remote), "rev-parse", "--verify", "-q", f"refs/heads/{BRANCH}"],
                 check=False, timeout=30)
    return result.stdout.strip() if result.ok else ""


def commit_count(remote: Path) -> int:
    return int(_git("--git-dir", str(remote), "rev-list", "--count", BRANCH).strip() or 0)


def show(remote: Path, path: str, ref: str = BRANCH) -> str | None:
    """A file of the remote at `ref`, or None when it does not exist there."""
    result = run(["git", "--git-dir", str(remote), "show", f"{ref}:{path}"], check=False, timeout=30)
    return result.stdout if result.ok else None


@dataclass(frozen=True)
class ImageRef:
    repository: str
    tag: str
    digest: str

    @property
    def pull(self) -> str:
        return f"{self.repository}@{self.digest}"


def image_of(remote: Path, env_path: str, service: str, ref: str = BRANCH) -> ImageRef | None:
    """The image block of `<env_path>/values/<service>.yaml`; None when no digest is written yet."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    text = show(remote, f"{env_path}/values/{service}.yaml", ref)
    if not text:
        return None
    try:
        image = (YAML(typ="safe").load(text) or {}).get("image") or {}
    except YAMLError:
        return None
    digest = str(image.get("digest") or "")
    if not digest.startswith("sha256:") or not image.get("repository"):
        return None
    return ImageRef(str(image["repository"]), str(image.get("tag") or ""), digest)


def record(remote: Path, env_path: str) -> dict[str, Any]:
    """The release record of an environment ({} when missing or unreadable)."""
    text = show(remote, f"{env_path}/release.json")
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def log(remote: Path, count: int = 10) -> list[str]:
    return _git("--git-dir", str(remote), "log", "--format=%h %s", f"-{count}", BRANCH).splitlines()


class BareRemote:
    """The demo's GitOps remote port (devops/app/demo_ports.py: GitOpsRemote)."""

    def ensure(self, remote: Path, source: Path) -> bool:
        return ensure_remote(remote, source)

    def commit_count(self, remote: Path) -> int:
        return commit_count(remote)

    def record(self, remote: Path, env_path: str) -> dict[str, Any]:
        return record(remote, env_path)
