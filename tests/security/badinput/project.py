"""The base project of the bad-input cases: what `devops config validate` accepts (a control
case checks it), so that each case changes exactly one thing."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.project import commit_all, config_text, git, make_project

if TYPE_CHECKING:
    from tests.security.badinput.harness import CaseContext

ENVIRONMENTS = """\
environments:
  dev:
    url: http://localhost:8080
    cluster: {name: test-dev}
    gitops: {path: gitops/environments/dev}
  prod:
    url: https://shop.example.com
    cluster: {name: test-prod}
    gitops: {path: gitops/environments/prod, mode: commit}
    promote_from: dev
"""

RELEASE_RECORD = """\
{
  "schema": 1,
  "environment": "dev",
  "released_at": null,
  "released_by": null,
  "source_commit": null,
  "promoted_from": null,
  "services": {}
}
"""


def base_config_text() -> str:
    """pipelines/devops.yaml of the base project (what `write_base_project` writes)."""
    head, _, _ = config_text().partition("environments:\n")
    return head + ENVIRONMENTS


def write_base_project(root: Path) -> Path:
    """Two services (alpha, beta), dev and prod environments, GitOps folders, one git commit."""
    make_project(root, commit=False)
    (root / "pipelines" / "devops.yaml").write_text(base_config_text())
    for env in ("dev", "prod"):
        folder = root / "gitops" / "environments" / env
        (folder / "values").mkdir(parents=True)
        (folder / "release.json").write_text(RELEASE_RECORD.replace('"dev"', f'"{env}"'))
        for service in ("alpha", "beta"):
            (folder / "values" / f"{service}.yaml").write_text(
                f"image:\n  repository: 127.0.0.1:5000/test/{service}\n  tag: ''\n  digest: ''\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    return root


# -- building case inputs ------------------------------------------------------------------------

KeyPath = str | tuple[str, ...]


def config_with(*changes: tuple[KeyPath, str | None], base: str | None = None, extra: str = "") -> str:
    """The base config (plus `extra` top-level YAML) with keys set to raw YAML values, or removed
    (None). A key path is dotted (`services.alpha.port`) or a tuple when a key holds a dot."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    document = yaml.load((base or base_config_text()) + extra)
    for path, raw in changes:
        keys = tuple(path.split(".")) if isinstance(path, str) else path
        node: Any = document
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                node[key] = {}
            node = node[key]
        if raw is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = YAML(typ="rt").load(raw)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


# A cost schedule and a target whose node groups are given in the config: `cost report` runs
# without AWS, so the cost family has a control that passes.
COST = """\
cost:
  schedules:
    office: {timezone: Asia/Kolkata, uptime: ["Mon-Fri 08:00-20:00"], holidays: ["2026-12-25"]}
  targets:
    dev:
      cluster: test-dev
      schedule: office
      capacity: {workers: {instance_type: t3.medium, count: 2}}
"""

INFRA = """\
infra:
  bootstrap: {root: infra/bootstrap}
  environments:
    dev: {root: infra/environments/dev}
"""

VERIFY = """\
    verify:
      prometheus: {url: "http://127.0.0.1:9"}
      window: 10m
"""

DIGEST = "sha256:" + "ab" * 32


def remote_setup(*, files: Mapping[str, str | bytes] | None = None, symlinks: Mapping[str, str] | None = None,
                 remove: tuple[str, ...] = ()) -> Any:
    """A `setup` that gives the project a bare `origin` (its GitOps remote, `repo: "."`), then
    commits `files`, `symlinks` (path -> target; `{canary}` is substituted) and removals to it,
    as a person with push access would."""

    def setup(ctx: CaseContext) -> None:
        make_remote(ctx)
        if files or symlinks or remove:
            push_to_remote(ctx, files or {}, symlinks or {}, remove)

    return setup


def make_remote(ctx: CaseContext) -> Path:
    remote = ctx.root.parent / "origin.git"
    git(ctx.root.parent, "clone", "-q", "--bare", str(ctx.root), str(remote))
    git(ctx.root, "remote", "add", "origin", str(remote))
    return remote


def push_to_remote(ctx: CaseContext, files: Mapping[str, str | bytes], symlinks: Mapping[str, str],
                   remove: tuple[str, ...] = ()) -> None:
    remote = ctx.root.parent / "origin.git"
    work = ctx.root.parent / f"edit-{uuid.uuid4().hex[:6]}"
    git(ctx.root.parent, "clone", "-q", str(remote), str(work))
    for rel in remove:
        git(work, "rm", "-r", "-q", rel)
    for rel, content in files.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content.replace("{canary}", str(ctx.canary)))
    for rel, target in symlinks.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink() or path.is_file():
            path.unlink()
        path.symlink_to(target.replace("{canary}", str(ctx.canary)))
    commit_all(work, "hostile change")
    git(work, "push", "-q", "origin", "main")


def record_text(**changes: Any) -> str:
    """The base dev release record with top-level keys replaced."""
    data = json.loads(RELEASE_RECORD)
    data.update(changes)
    return json.dumps(data, indent=2) + "\n"


def service_entry(**changes: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"repository": "127.0.0.1:5000/test/alpha", "tag": "in-1", "digest": DIGEST,
                             "source_commit": "a" * 40, "built_at": "2026-11-25T18:40:00Z",
                             "scan": {"verdict": "PASSED", "counts": {}, "checked_at": "2026-11-25T18:41:00Z"},
                             "sonar": {"verdict": "SKIPPED", "reason": "not configured"}}
    entry.update(changes)
    return entry
