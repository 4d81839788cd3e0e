"""An in-memory GitOps repository: the repository port of devops/app/gitops_publish.py.

`FakeRemote` holds branches and commits (each commit a full snapshot of the files);
`FakeGitOpsRepository` is one "clone" of a branch: a work tree, commits on top of the tip it
read, pushes that land only as a fast-forward (compare-and-swap, as git's non-forced push).
Faults are injected the way they happen: `before_push` callbacks land someone else's commit
while our push is on its way (a race), `refusals` make the next pushes fail with a given
rejection, and `land_then_fail` lands a push but reports it as unreachable.
tests/contract/test_gitops_repo.py runs the same assertions against this fake and the git
adapter on a local bare remote.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devops.domain.gitops.repository import HistoryEntry, PushRejection
from devops.errors import BadInput, ExternalError

RACE = PushRejection("race", True, "the remote branch moved", "! [rejected] HEAD -> main (fetch first)")
UNREACHABLE = PushRejection("unreachable", True, "the remote could not be reached",
                            "fatal: the remote end hung up unexpectedly")
DENIED = PushRejection("denied", False, "the branch is protected on GitLab; use mode: pull-request",
                       "! [remote rejected] HEAD -> main (pre-receive hook declined)")
_clock = itertools.count(1)


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    files: dict[str, str]
    subject: str
    message: str
    date: str


@dataclass
class FakeRemote:
    """Branches and commits of a GitOps repository that several fake clones share."""

    display: str = "fake://gitops.git"
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def commit(self, files: dict[str, str], message: str, parent: str | None) -> str:
        tick = next(_clock)
        sha = hashlib.sha1(f"{parent}|{sorted(files.items())}|{message}|{tick}".encode()).hexdigest()
        date = f"2026-11-25T{tick // 3600 % 24:02d}:{tick // 60 % 60:02d}:{tick % 60:02d}+00:00"
        self.commits[sha] = Commit(sha, parent, dict(files), message.split("\n", 1)[0], message, date)
        return sha

    def seed(self, branch: str, files: dict[str, str], message: str = "initial") -> str:
        """Create `branch` with one commit holding `files`."""
        self.branches[branch] = self.commit(files, message, None)
        return self.branches[branch]

    def land(self, branch: str, changes: dict[str, str], message: str = "another writer") -> str:
        """Someone else pushes a commit on top of `branch` that changes `changes`."""
        tip = self.branches[branch]
        self.branches[branch] = self.commit({**self.commits[tip].files, **changes}, message, tip)
        return self.branches[branch]

    def files(self, branch: str) -> dict[str, str]:
        return dict(self.commits[self.branches[branch]].files)

    def ancestors(self, sha: str | None) -> list[str]:
        found = []
        while sha is not None:
            found.append(sha)
            sha = self.commits[sha].parent
        return found


class FakeGitOpsRepository:
    """One branch of a `FakeRemote`, "cloned": implements devops/app/gitops_publish.py::GitOpsRepository."""

    def __init__(self, remote: FakeRemote, branch: str = "main") -> None:
        if branch not in remote.branches:
            raise BadInput(f"branch {branch!r} does not exist in {remote.display}")
        self.fake = remote
        self.branch = branch
        self.head = self.cloned = remote.branches[branch]
        self.tree = remote.files(branch)
        self.operations = 2  # as git: clone, rev-parse
        self.pushes: list[str] = []  # branches pushed to, in order (attempts included)
        self.before_push: list[Callable[[], object]] = []  # run (and dropped) one per push
        self.refusals: list[PushRejection] = []  # the next pushes fail with these
        self.land_then_fail = False  # the next push lands but is reported as unreachable
        self.closed = False

    @property
    def commit(self) -> str:
        return self.cloned  # the tip that was read


    @property
    def git_operations(self) -> int:
        return self.operations

    @property
    def remote(self) -> str:
        return self.fake.display

    def read_text(self, path: str) -> str | None:
        return self.tree.get(path)

    def prefetch(self, folder: str) -> None:
        pass  # the fake's files are in memory

    def write_text(self, path: str, text: str) -> None:
        self.tree[path] = text

    def history(self, path: str) -> list[HistoryEntry]:
        self.operations += 1
        entries = []
        for sha in self.fake.ancestors(self.head):
            commit = self.fake.commits[sha]
            parent = self.fake.commits[commit.parent].files if commit.parent else {}
            if commit.files.get(path) != parent.get(path):
                entries.append(HistoryEntry(sha, commit.date, commit.subject))
        return entries

    def resolve(self, revision: str) -> str:
        self.operations += 1
        found = [sha for sha in self.fake.ancestors(self.head) if sha.startswith(revision.lower())]
        if len(found) != 1:
            raise BadInput(f"{revision}: no such commit in {self.remote} ({self.branch})")
        return found[0]

    def show(self, commit: str, path: str) -> str | None:
        self.operations += 1
        return self.fake.commits[commit].files.get(path)

    def commit_files(self, files: tuple[str, ...], message: str) -> str:
        self.operations += 3  # add, commit, rev-parse
        self.head = self.fake.commit(self.tree, message, self.head)
        return self.head

    def push(self, branch: str) -> PushRejection | None:
        self.operations += 1
        self.pushes.append(branch)
        if self.before_push:
            self.before_push.pop(0)()
        if self.refusals:
            return self.refusals.pop(0)
        tip = self.fake.branches.get(branch)
        if tip is not None and tip not in self.fake.ancestors(self.head):
            return RACE  # not a fast-forward: someone else's push landed first
        self.fake.branches[branch] = self.head
        if self.land_then_fail:
            self.land_then_fail = False
            return UNREACHABLE
        return None

    def sync_to(self, branch: str, base: str) -> str | None:
        self.operations += 1
        if branch not in self.fake.branches:
            if branch == base:
                raise ExternalError(f"branch {branch} disappeared from {self.remote} during the release")
            self.sync_to(base, base)
            return None
        self.operations += 2  # reset, rev-parse
        self.head = self.fake.branches[branch]
        self.tree = self.fake.files(branch)
        return self.head

    def contains(self, tip: str, commit: str) -> bool:
        self.operations += 1
        return commit in self.fake.ancestors(tip)

    def branch_tip(self, branch: str) -> str | None:
        self.operations += 1
        return self.fake.branches.get(branch)

    def close(self) -> None:
        self.closed = True


@dataclass
class FakePull:
    number: int
    url: str
    body: str
    labels: tuple[str, ...] = ()
    head: str = ""
    base: str = ""
    title: str = ""
    draft: bool = False


@dataclass
class FakePullRequests:
    """The pull-request port (devops/app/gitops_pull_request.py::PullRequestProvider), in memory."""

    open: list[FakePull] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def find_open(self, head: str) -> FakePull | None:
        self.calls.append(f"find {head}")
        return next((pull for pull in self.open if pull.head == head), None)

    def create(self, *, title: str, head: str, base: str, body: str, draft: bool) -> FakePull:
        self.calls.append(f"create {head} -> {base}")
        pull = FakePull(len(self.open) + 1, f"https://github.example/o/r/pull/{len(self.open) + 1}", body,
                        head=head, base=base, title=title, draft=draft)
        self.open.append(pull)
        return pull

    def update_body(self, number: int, body: str) -> None:
        self.calls.append(f"update #{number}")
        self.open[number - 1].body = body

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self.calls.append(f"label #{number} {','.join(labels)}")
        pull = self.open[number - 1]
        pull.labels = (*pull.labels, *(label for label in labels if label not in pull.labels))
