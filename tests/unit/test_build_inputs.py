"""Reading build inputs from git (devops/adapters/build_inputs.py) against real repositories:
the identity from git's object ids equals the one from reading every file, a dirty tree is seen
as it is, and the git processes do not grow with the number of services."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from devops.adapters.build_inputs import FileInputs
from devops.domain.images.identity import InputSnapshot, MissingAt, SourceSpec
from tests.support.project import commit_all, git, make_project

SERVICES = tuple(f"svc{i:02d}" for i in range(12))


def specs(root: Path, names: tuple[str, ...] = ("alpha", "beta")) -> list[SourceSpec]:
    return [SourceSpec(root / "services" / n, f"services/{n}", "Dockerfile", {}) for n in names]


def outside_git(root: Path, tmp_path: Path) -> Path:
    """The same files in a folder that is not a git repository (every file read)."""
    copy = tmp_path / "plain"
    shutil.copytree(root, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    return copy


def snapshots(root: Path, names: tuple[str, ...] = ("alpha", "beta")) -> tuple[list[InputSnapshot], int]:
    reader = FileInputs(root)
    found = reader.read(specs(root, names))
    return found, reader.git_processes


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "p")
    alpha = root / "services" / "alpha"
    (alpha / "run.sh").write_text("#!/bin/sh\n")
    (alpha / "run.sh").chmod(0o755)
    os.symlink("app.txt", alpha / "current.txt")
    (alpha / "src").mkdir()
    (alpha / "src" / "main.py").write_text("print(1)\n")
    commit_all(root, "more files")
    return root


def test_a_clean_tree_costs_two_git_processes_and_reads_no_source_file(project: Path, tmp_path: Path) -> None:
    found, processes = snapshots(project)
    assert processes == 2
    assert [f.relative for f in found[0].files] == [".dockerignore", "Dockerfile", "app.txt", "current.txt",
                                                    "run.sh", "src/main.py"]
    assert {f.relative: f.executable for f in found[0].files}["run.sh"]
    plain, processes = snapshots(outside_git(project, tmp_path))
    assert plain == found and processes == 1  # git said "not a repository": every file read, same identity


def test_a_dirty_tree_is_seen_as_it_is(project: Path, tmp_path: Path) -> None:
    alpha = project / "services" / "alpha"
    (alpha / "app.txt").write_text("edited, not committed\n")
    (alpha / "src" / "main.py").unlink()
    (alpha / "new.txt").write_text("untracked\n")
    (alpha / "run.sh").chmod(0o644)
    (alpha / "debug.log").write_text("dockerignored\n")
    (project / ".gitignore").write_text("build/\n")
    (alpha / "build").mkdir()
    (alpha / "build" / "out.bin").write_bytes(b"\x00\x01ignored by git, sent by Docker")
    dirty, _ = snapshots(project)
    files = {f.relative: f for f in dirty[0].files}
    assert set(files) == {".dockerignore", "Dockerfile", "app.txt", "current.txt", "run.sh", "new.txt",
                          "build/out.bin"}
    assert not files["run.sh"].executable
    plain, _ = snapshots(outside_git(project, tmp_path))
    assert plain == dirty  # the same as reading every file
    commit_all(project, "commit the edits")  # .gitignore keeps build/ out of git, Docker still sends it
    assert snapshots(project)[0] == dirty


def test_git_processes_do_not_grow_with_services(tmp_path: Path) -> None:
    root = make_project(tmp_path / "many", services=SERVICES)
    found, processes = snapshots(root, SERVICES)
    assert len(found) == len(SERVICES) and processes == 2
    reader = FileInputs(root)
    reader.read_at("HEAD", specs(root, SERVICES))
    assert reader.git_processes == 3  # rev-parse, ls-tree, cat-file


def test_inputs_at_a_ref_equal_the_working_tree_then(project: Path) -> None:
    then, _ = snapshots(project)
    (project / "services" / "beta" / "app.txt").write_text("beta v2\n")
    (project / "services" / "alpha" / ".dockerignore").write_text("*.log\nsrc\n")
    commit_all(project, "change")
    reader = FileInputs(project)
    old = reader.read_at("HEAD~1", specs(project))
    assert old == then
    assert reader.read_at("HEAD", specs(project)) == snapshots(project)[0]
    assert "src/main.py" not in {f.relative for f in snapshots(project)[0][0].files}


def test_at_a_ref_a_missing_folder_or_dockerfile_is_said(project: Path) -> None:
    (project / "services" / "gamma").mkdir()
    (project / "services" / "gamma" / "app.txt").write_text("no Dockerfile yet\n")
    commit_all(project, "gamma without a Dockerfile")
    reader = FileInputs(project)
    gamma = [SourceSpec(project / "services" / "gamma", "services/gamma", "Dockerfile", {})]
    assert reader.read_at("HEAD", gamma) == [MissingAt.DOCKERFILE]
    assert reader.read_at("HEAD~1", gamma) == [MissingAt.FOLDER]


def test_a_staged_change_then_an_edit_count_as_the_working_tree(project: Path) -> None:
    alpha = project / "services" / "alpha"
    (alpha / "app.txt").write_text("staged\n")
    git(project, "add", "services/alpha/app.txt")
    staged, _ = snapshots(project)
    (alpha / "app.txt").write_text("staged then edited\n")
    edited, _ = snapshots(project)
    assert staged != edited
    assert {f.relative: f.content for f in edited[0].files}["app.txt"] != \
        {f.relative: f.content for f in staged[0].files}["app.txt"]
