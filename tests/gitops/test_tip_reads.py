"""A clone for reading (`devops status`) has no work tree: every environment's files come from
git's object database at the tip, in one `git cat-file --batch` per environment folder (issue 18).
Counts, on real git: git processes and files read; the same refusals as the work tree (symlinks);
and a write after all checks the tip out first, so a commit never loses the files it did not touch."""

from __future__ import annotations

import os

import pytest

from devops.config import Config
from devops.domain.gitops.change import ChangeSet, ImageUpdate
from devops.errors import BadInput
from devops.wiring.gitops import GitOpsClones, open_gitops
from devops.wiring.settings import RuntimeSettings
from tests.gitops.conftest import ALPHA_VALUES, DIGEST_A, SOURCE, Remote, git


def reading(config: Config, env: str, clones: GitOpsClones, *, checkout: bool = False):  # type: ignore[no-untyped-def]
    return open_gitops(config, env, RuntimeSettings.from_environ(), clones=clones, checkout=checkout)


def worktree_files(clone_dir: os.PathLike[str]) -> list[str]:
    return sorted(name for name in os.listdir(clone_dir) if name != ".git")


def test_status_reads_every_environment_from_git_objects_with_one_process_per_folder(
        config: Config, remote: Remote) -> None:
    clones = GitOpsClones()
    with reading(config, "dev", clones) as dev, reading(config, "prod", clones) as prod:
        images = {env.settings.environment: [env.read_values(s) for s in ("alpha", "beta")] for env in (dev, prod)}
        records = [dev.read_record().environment, prod.read_record().environment]
        assert dev.read_freeze() is None
        clone = dev.repo
        # clone, rev-parse, ls-tree (once), cat-file --batch per environment folder; nothing more
        # for 4 values files, 2 records and a freeze file that is not there.
        assert clone.git_operations == 5, clone.git_operations  # type: ignore[attr-defined]
        assert clone.files_read == 6  # type: ignore[attr-defined]  # 2 folders x (2 values + record)
        assert worktree_files(clone.clone_dir) == [], "no checkout"  # type: ignore[attr-defined]
    assert records == ["dev", "prod"]
    assert images == {"dev": [None, None], "prod": [None, None]}  # digests empty: never released
    clones.close()

    # Control: a clone for writing checks the tip out (and reads from it), as before.
    clones = GitOpsClones()
    with reading(config, "dev", clones, checkout=True) as dev:
        assert dev.read_record().environment == "dev"
        assert worktree_files(dev.repo.clone_dir) == ["gitops"]  # type: ignore[attr-defined]
        assert dev.repo.files_read == 0  # type: ignore[attr-defined]
    clones.close()


def test_a_write_to_a_reading_clone_checks_out_first_and_keeps_every_other_file(
        config: Config, remote: Remote) -> None:
    clones = GitOpsClones()
    with reading(config, "dev", clones) as dev:
        change = ChangeSet(environment="dev", updates=(ImageUpdate("alpha", "docker.io/test/alpha", "t", DIGEST_A),),
                           source_commit=SOURCE)
        assert dev.publish(change).outcome == "committed"
    clones.close()
    files = git(remote.bare, "ls-tree", "-r", "--name-only", "main").split()
    assert len(files) == 6, files  # nothing lost: the commit was made on a checked-out index
    assert DIGEST_A in remote.show("gitops/environments/dev/values/alpha.yaml").decode()
    assert remote.show("gitops/environments/prod/values/alpha.yaml").decode() == ALPHA_VALUES


@pytest.mark.parametrize("link", ["gitops/environments/dev/release.json", "gitops/environments/dev/values"])
def test_a_symlink_at_the_tip_is_refused_as_in_the_work_tree(config: Config, remote: Remote, link: str) -> None:
    seed = remote.seed
    target = seed / link
    git(seed, "rm", "-rq", link)
    target.symlink_to("/etc" if link.endswith("values") else "../prod/release.json")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm", "hostile")
    git(seed, "push", "-q", "origin", "HEAD:main")
    clones = GitOpsClones()
    try:
        with pytest.raises(BadInput, match="symlink"), reading(config, "dev", clones) as dev:
            dev.read_values("alpha")
        # Control: prod's folder has no symlink and reads.
        with reading(config, "prod", clones) as prod:
            assert prod.read_record().environment == "prod" and prod.read_values("alpha") is None
    finally:
        clones.close()


def test_a_folder_where_a_file_belongs_cannot_be_read(config: Config, remote: Remote) -> None:
    seed = remote.seed
    folder = seed / "gitops" / "environments" / "dev" / "values" / "beta.yaml"
    git(seed, "rm", "-q", str(folder.relative_to(seed)))
    folder.mkdir()
    (folder / "x").write_text("x\n")
    git(seed, "add", "-A")
    git(seed, "-c", "user.name=seed", "-c", "user.email=seed@example.com", "commit", "-qm", "a folder")
    git(seed, "push", "-q", "origin", "HEAD:main")
    clones = GitOpsClones()
    try:
        with reading(config, "dev", clones) as dev:
            assert dev.read_values("alpha") is None  # control
            with pytest.raises(BadInput, match="beta.yaml: cannot read"):
                dev.read_values("beta")
    finally:
        clones.close()
