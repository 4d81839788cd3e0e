"""The GitOps repository port: the same assertions against the in-memory fake (tests/fakes/gitops.py)
and the git adapter (devops/adapters/git/clone.py) on a local bare remote, so the fake the use
case tests run on behaves as git does. The real side needs git only; it is `slow` (subprocesses),
so `nox -s unit` runs the fake side."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from devops.app.gitops_publish import GitOpsRepository
from devops.errors import BadInput
from tests.fakes.gitops import FakeGitOpsRepository, FakeRemote

VALUES = "env/dev/values/alpha.yaml"
RECORD = "env/dev/release.json"
SEED = {VALUES: "image:\n  repository: r\n  tag: ''\n  digest: ''\n", RECORD: "{}\n"}


class World(Protocol):
    """A GitOps remote, and other writers pushing to it."""

    def open(self, branch: str = "main") -> GitOpsRepository: ...

    def land(self, changes: dict[str, str], message: str = "another writer") -> None: ...

    def tip(self, branch: str = "main") -> str | None: ...

    def file(self, path: str, branch: str = "main") -> str | None: ...

    def initial(self) -> str: ...


class FakeWorld:
    def __init__(self) -> None:
        self.remote = FakeRemote()
        self.first = self.remote.seed("main", SEED)

    def open(self, branch: str = "main") -> GitOpsRepository:
        return FakeGitOpsRepository(self.remote, branch)

    def land(self, changes: dict[str, str], message: str = "another writer") -> None:
        self.remote.land("main", changes, message)

    def tip(self, branch: str = "main") -> str | None:
        return self.remote.branches.get(branch)

    def file(self, path: str, branch: str = "main") -> str | None:
        return self.remote.files(branch).get(path)

    def initial(self) -> str:
        return self.first


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=other", "-c", "user.email=o@example.com", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


class GitWorld:
    def __init__(self, tmp: Path) -> None:
        self.bare = tmp / "gitops.git"
        git(tmp, "init", "-q", "--bare", "-b", "main", str(self.bare))
        self.seed = tmp / "seed"
        git(tmp, "clone", "-q", str(self.bare), str(self.seed))
        for path, text in SEED.items():
            (self.seed / path).parent.mkdir(parents=True, exist_ok=True)
            (self.seed / path).write_text(text)
        git(self.seed, "add", "-A")
        git(self.seed, "commit", "-qm", "initial")
        git(self.seed, "push", "-q", "origin", "HEAD:main")
        self.first = git(self.seed, "rev-parse", "HEAD").strip()
        self.opened: list[GitOpsRepository] = []

    def open(self, branch: str = "main") -> GitOpsRepository:
        from devops.adapters.git.clone import CloneSettings, GitClone
        from devops.adapters.git.credentials import Remote

        remote = Remote(self.bare.as_uri(), self.bare.as_uri(), "environments.dev.gitops.repo")
        clone = GitClone.open(CloneSettings(remote, branch, key="environments.dev.gitops"), {}, ())
        self.opened.append(clone)
        return clone

    def land(self, changes: dict[str, str], message: str = "another writer") -> None:
        git(self.seed, "pull", "-q", "origin", "main")
        for path, text in changes.items():
            (self.seed / path).parent.mkdir(parents=True, exist_ok=True)
            (self.seed / path).write_text(text)
        git(self.seed, "add", "-A")
        git(self.seed, "commit", "-qm", message)
        git(self.seed, "push", "-q", "origin", "HEAD:main")

    def tip(self, branch: str = "main") -> str | None:
        out = git(self.bare, "for-each-ref", "--format=%(objectname)", f"refs/heads/{branch}").strip()
        return out or None

    def file(self, path: str, branch: str = "main") -> str | None:
        done = subprocess.run(["git", "show", f"{branch}:{path}"], cwd=self.bare, capture_output=True, text=True)
        return done.stdout if done.returncode == 0 else None

    def initial(self) -> str:
        return self.first


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "fake":
        yield FakeWorld()
        return
    real = GitWorld(tmp_path)
    yield real
    for repo in real.opened:
        repo.close()


def commit_and_push(repo: GitOpsRepository, changes: dict[str, str], message: str, branch: str = "main") -> str:
    for path, text in changes.items():
        repo.write_text(path, text)
    commit = repo.commit_files(tuple(changes), message)
    assert repo.push(branch) is None
    return commit


def test_reads_the_files_of_the_tip_it_cloned(world: World) -> None:
    repo = world.open()
    assert repo.commit == world.tip() == world.initial()
    assert repo.read_text(VALUES) == SEED[VALUES]
    assert repo.read_text("env/dev/values/nope.yaml") is None
    assert repo.remote and repo.git_operations >= 1


def test_a_commit_pushed_on_an_unmoved_branch_lands(world: World) -> None:
    repo = world.open()
    before = repo.git_operations
    commit = commit_and_push(repo, {VALUES: "image: {}\n"}, "release(dev): alpha\n\nbody\n")
    assert world.tip() == commit and world.file(VALUES) == "image: {}\n"
    assert world.file(RECORD) == SEED[RECORD]  # files not written are kept
    assert repo.git_operations > before
    latest = repo.history(VALUES)[0]
    assert (latest.commit, latest.subject) == (commit, "release(dev): alpha")


def test_a_push_after_another_writer_is_a_race_then_sync_and_reapply_lands(world: World) -> None:
    repo = world.open()
    world.land({RECORD: '{"theirs": 1}\n'})
    theirs = world.tip()
    repo.write_text(VALUES, "ours\n")
    repo.commit_files((VALUES,), "ours")
    rejection = repo.push("main")
    assert rejection is not None and rejection.kind == "race" and rejection.retryable
    assert world.tip() == theirs  # nothing forced
    assert repo.sync_to("main", "main") == theirs
    assert repo.read_text(RECORD) == '{"theirs": 1}\n' and repo.read_text(VALUES) == SEED[VALUES]
    commit_and_push(repo, {VALUES: "ours\n"}, "ours again")
    assert world.file(VALUES) == "ours\n" and world.file(RECORD) == '{"theirs": 1}\n'
    assert repo.contains(world.tip() or "", theirs) and not repo.contains(theirs, world.tip() or "")


def test_a_branch_that_does_not_exist_falls_back_to_the_base(world: World) -> None:
    repo = world.open()
    assert repo.branch_tip("devops/release/dev-0123") is None
    assert repo.sync_to("devops/release/dev-0123", "main") is None
    assert repo.read_text(VALUES) == SEED[VALUES]
    commit = commit_and_push(repo, {VALUES: "on a branch\n"}, "on a branch", branch="devops/release/dev-0123")
    assert repo.branch_tip("devops/release/dev-0123") == commit == world.tip("devops/release/dev-0123")
    assert world.tip("main") == world.initial()  # the base is untouched


def test_earlier_files_by_commit_prefix(world: World) -> None:
    repo = world.open()
    commit_and_push(repo, {RECORD: '{"v": 2}\n'}, "record v2")
    commit_and_push(repo, {VALUES: "v3\n"}, "values only")
    first = repo.resolve(world.initial()[:10])
    assert first == world.initial()
    assert repo.show(first, RECORD) == SEED[RECORD]
    assert repo.show(first, "env/dev/absent.json") is None
    assert [h.subject for h in repo.history(RECORD)] == ["record v2", "initial"]  # newest first, this path only
    with pytest.raises(BadInput, match="deadbeef: no such commit"):
        repo.resolve("deadbeef")
