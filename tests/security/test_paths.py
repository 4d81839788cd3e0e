"""Nothing outside the repository, on a real release: the Docker engine, the local registry, Trivy
with a small real DB and git with a bare GitOps remote (the fixtures of tests/release).

A canary folder beside the project holds a secret and a release.json shaped like an
environment's; the GitOps remote is given symlinks to it (and to another environment's files),
as anyone with push access could commit them. The release must refuse (exit 2, naming the file),
write nothing to the remote, and leave the canary byte for byte as it was. The control release
writes only inside the remote.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.release.conftest import Shop
from tests.security.badinput.harness import tree_digest
from tests.support.cli import Outcome, run_cli
from tests.support.project import commit_all, git

pytestmark = pytest.mark.docker
DEV = "gitops/environments/dev"
PROD = "gitops/environments/prod"


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    folder = tmp_path / "canary"
    (folder / "gitops" / "environments" / "dev" / "values").mkdir(parents=True)
    (folder / "secret.txt").write_text("must stay untouched\n")
    (folder / "gitops" / "environments" / "dev" / "release.json").write_text("{}\n")
    (folder / "gitops" / "environments" / "dev" / "values" / "alpha.yaml").write_text(
        "image:\n  repository: canary\n  tag: ''\n  digest: ''\n")
    return folder


def hostile_commit(shop: Shop, *, symlinks: dict[str, str], remove: tuple[str, ...] = ()) -> None:
    """Commit symlinks to the GitOps remote through a clone, as a person with push access would."""
    work = shop.remote.parent / f"hostile-{uuid.uuid4().hex[:6]}"
    git(shop.remote.parent, "clone", "-q", str(shop.remote), str(work))
    for rel in remove:
        git(work, "rm", "-r", "-q", rel)
    for rel, target in symlinks.items():
        path = work / rel
        if path.exists() or path.is_symlink():
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)
    commit_all(work, "hostile: symlinks")
    git(work, "push", "-q", "origin", "main")


def release(shop: Shop, env: str) -> Outcome:
    return run_cli("release", "--env", env, cwd=shop.root)


def refused(outcome: Outcome, *names: str) -> None:
    assert outcome.code == 2, (outcome.code, outcome.err)
    assert "Traceback" not in outcome.err and "internal error" not in outcome.err
    for name in names:
        assert name in outcome.err, outcome.err


def test_control_release_writes_only_inside_the_gitops_remote(shop: Shop, canary: Path) -> None:
    before, commits = tree_digest(canary), shop.commits()
    outcome = release(shop, "dev")
    assert outcome.code == 0, outcome.err
    assert len(shop.commits()) == len(commits) + 1
    assert shop.record("dev")["services"]["alpha"]["digest"].startswith("sha256:")
    assert tree_digest(canary) == before


@pytest.mark.parametrize(("case", "symlinks", "remove", "named"), [
    ("values file -> canary values file", {f"{DEV}/values/alpha.yaml": "{canary}/gitops/environments/dev/values/alpha.yaml"},
     (), "values/alpha.yaml"),
    ("values file -> canary secret", {f"{DEV}/values/alpha.yaml": "{canary}/secret.txt"}, (), "values/alpha.yaml"),
    ("values file -> prod's values file", {f"{DEV}/values/alpha.yaml": "../../prod/values/alpha.yaml"}, (),
     "values/alpha.yaml"),
    ("record -> canary record", {f"{DEV}/release.json": "{canary}/gitops/environments/dev/release.json"}, (),
     "release.json"),
    ("environment folder -> canary", {DEV: "{canary}/gitops/environments/dev"}, (DEV,), "symlink"),
])
def test_release_refuses_gitops_symlinks_and_writes_nothing(shop: Shop, canary: Path, case: str,
                                                            symlinks: dict[str, str], remove: tuple[str, ...],
                                                            named: str) -> None:
    hostile_commit(shop, symlinks={k: v.replace("{canary}", str(canary)) for k, v in symlinks.items()},
                   remove=remove)
    before, commits = tree_digest(canary), shop.commits()
    prod_values = shop.remote_file(f"{PROD}/values/alpha.yaml")
    outcome = release(shop, "dev")
    refused(outcome, named)
    assert shop.commits() == commits, f"{case}: the remote changed"
    assert shop.remote_file(f"{PROD}/values/alpha.yaml") == prod_values
    assert tree_digest(canary) == before, f"{case}: the canary changed"


def test_promotion_refuses_a_target_record_symlinked_outside(shop: Shop, canary: Path) -> None:
    assert release(shop, "dev").code == 0
    hostile_commit(shop, symlinks={f"{PROD}/release.json": f"{canary}/gitops/environments/dev/release.json"})
    before, commits = tree_digest(canary), shop.commits()
    outcome = release(shop, "prod")
    refused(outcome, "release.json", "symlink")
    assert shop.commits() == commits
    assert tree_digest(canary) == before
    assert json.loads((canary / "gitops" / "environments" / "dev" / "release.json").read_text()) == {}


@pytest.mark.parametrize(("key", "value"), [
    ("record_file", "../../../canary/release.json"),
    ("values_file", "../../{service}.yaml"),
    ("path", "/etc"),
])
def test_hostile_gitops_paths_in_the_config_are_refused_before_anything_runs(
        shop: Shop, canary: Path, key: str, value: str) -> None:
    config = shop.root / "pipelines" / "devops.yaml"
    config.write_text(config.read_text().replace(
        "path: gitops/environments/dev,", f"path: gitops/environments/dev, {key}: \"{value}\","
        if key != "path" else f"path: \"{value}\","))
    before, commits = tree_digest(canary), shop.commits()
    outcome = release(shop, "dev")
    refused(outcome, f"environments.dev.gitops.{key}")
    assert shop.commits() == commits
    assert tree_digest(canary) == before
