"""A GitOps repository as a shallow clone in a temporary folder: read, write, commit, push, fetch.

A clone for reading (`checkout=False`: `devops status`) is made without a checkout: reads come
from git's object database at the tip (devops/adapters/git/tip.py, one `git cat-file --batch`
per environment folder); its work tree is checked out only if something is written after all.

Implements the repository port of devops/app/gitops_publish.py (which decides what to write and
when to push again). The clone is removed when the `with` block ends, on exceptions and
KeyboardInterrupt, and at interpreter exit if a caller forgot the `with`. The user's work tree
is never touched: even for `repo: "."` the clone comes from the project's `origin` remote.

Environments that live in the same repository and branch share one clone in a run
(`GitClone.share`: another view of the same folder, with that environment's settings); the
folder goes when the last view is closed. A clone whose work tree was written or moved to
another branch (a publish, a pull request) is not shared again (`reusable`): the next
environment gets a clone of its own, so a view never reads another view's edits.
"""

from __future__ import annotations

import os
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path

from devops.adapters.git.credentials import Remote
from devops.adapters.git.push import classify_push
from devops.adapters.git.runner import GitRunner, last_line
from devops.adapters.git.tip import TipFiles
from devops.adapters.scratch import scratch_folder
from devops.domain import documents
from devops.domain.gitops.repository import HistoryEntry, PushRejection
from devops.errors import BadInput, ExternalError, ToolFailed, ToolTimeout

# History kept by the first clone: enough for `status` and the recent releases `rollback`
# lists; `history()` and `show()` fetch the rest when they need it.
CLONE_DEPTH = 50


@dataclass(frozen=True)
class CloneSettings:
    """What the adapter needs to know, as plain values (the wiring reads them from the config)."""

    remote: Remote
    branch: str
    timeout_seconds: float = 120.0
    author_name: str = "devops"
    author_email: str = "devops@users.noreply.github.com"
    # For messages: the config key of the environment's GitOps block (`environments.dev.gitops`)
    # and the file it is in.
    key: str = "gitops"
    source: str = "pipelines/devops.yaml"


class _Folder:
    """The temporary folder of a clone and how many views use it; removed with the last one
    (or at interpreter exit)."""

    def __init__(self, workdir: Path) -> None:
        self.users = 0
        self.touched = False  # written, or moved off its branch: not shared again
        self.checked_out = False  # the work tree exists (else reads come from the tip's objects)
        self.tip: TipFiles | None = None
        self.cleanup = weakref.finalize(self, shutil.rmtree, str(workdir), True)

    def release(self) -> None:
        self.users -= 1
        if self.users <= 0:
            self.cleanup()


class GitClone:
    """One branch of a GitOps repository, cloned. Use `GitClone.open` in a `with`."""

    def __init__(self, settings: CloneSettings, workdir: Path, git: GitRunner, folder: _Folder | None = None) -> None:
        self.settings = settings
        self.workdir = workdir
        self.clone_dir = workdir / "repo"
        self._git = git
        self._commit = ""
        self._folder = folder or _Folder(workdir)
        self._folder.users += 1
        self._closed = False

    def share(self, settings: CloneSettings) -> GitClone:
        """Another view of this clone for an environment on the same repository and branch (its
        own settings: author, config key in messages); no second clone."""
        if self._closed or self._folder.users <= 0:
            raise ValueError("a closed clone cannot be shared")
        view = GitClone(settings, self.workdir, self._git, self._folder)
        # An untouched clone is still at the tip it cloned: no `rev-parse` per environment.
        view._commit = self._commit if not self._folder.touched and self._commit else self._head()
        return view

    @property
    def closed(self) -> bool:
        return self._closed or self._folder.users <= 0

    @property
    def reusable(self) -> bool:
        """Open, and its work tree is still the cloned tip of its branch, unedited."""
        return not self.closed and not self._folder.touched

    @classmethod
    def open(cls, settings: CloneSettings, env: dict[str, str], secrets: tuple[str, ...], *,
             depth: int | None = None, checkout: bool = True) -> GitClone:
        """Clone `settings.branch` (shallow) into a temporary folder; `env` authenticates git.

        ExternalError (exit 3) when the repository cannot be reached; BadInput (exit 2) when
        the branch does not exist.
        """
        workdir = scratch_folder("devops-gitops-")  # also removes the clones of killed runs
        clone = cls(settings, workdir, GitRunner(workdir / "repo", env, secrets, settings.timeout_seconds))
        try:
            clone._clone(depth or CLONE_DEPTH, checkout)
        except BaseException:  # also KeyboardInterrupt: never leave the clone behind
            clone.close()
            raise
        return clone

    def close(self) -> None:
        """Done with this view; the clone is removed with its last view (also on exit of the
        `with` block and at interpreter exit)."""
        if not self._closed:
            self._closed = True
            self._folder.release()

    def __enter__(self) -> GitClone:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clone(self, depth: int, checkout: bool = True) -> None:
        branch, remote = self.settings.branch, self.settings.remote
        # core.autocrlf=false in the clone: a user's global autocrlf must not rewrite the line
        # endings of files we promise to keep byte for byte (checkout or add would).
        result = self._git("clone", "--quiet", "--no-tags", *(() if checkout else ("--no-checkout",)),
                           "--single-branch", "--branch", branch, "--config", "core.autocrlf=false",
                           f"--depth={depth}", remote.url, str(self.clone_dir),
                           check=False, cwd=self.workdir)
        if not result.ok:
            if "not found in upstream" in result.stderr:
                raise BadInput(f"{self.settings.source}: {self.settings.key}.branch: branch {branch!r} does not "
                               f"exist in {remote.display}", hint="create it, or name an existing branch")
            raise ExternalError(f"cannot clone the GitOps repository {remote.display} ({branch}): "
                                f"{last_line(result)}",
                                hint=f"check {remote.setting}, the network and the credentials; nothing was written")
        self._commit = self._head()
        self._folder.checked_out = checkout

    def _head(self) -> str:
        return self._git("rev-parse", "HEAD").stdout.strip()

    # -- what was read -----------------------------------------------------------------------

    @property
    def commit(self) -> str:
        """The tip commit that was cloned."""
        return self._commit

    @property
    def git_operations(self) -> int:
        return self._git.count

    @property
    def remote(self) -> str:
        """The repository, for messages and results (credentials shown as `***@`)."""
        return self.settings.remote.display

    # -- files -------------------------------------------------------------------------------

    def _path(self, relative: str) -> Path:
        # The config checked these paths are relative without `..`; a symlink committed to the
        # repository could still lead outside the clone (or into another environment), so every
        # read and write goes through this check, which refuses symlinks (exit 2); before the
        # checkout, the same check runs on the tip's tree.
        if not self._folder.checked_out:
            self._tip().check(relative, f"{self.remote} ({self.settings.key})")
            return self.clone_dir / relative
        return inside_clone(self.clone_dir, relative, f"{self.remote} ({self.settings.key})")

    def _tip(self) -> TipFiles:
        folder = self._folder
        if folder.tip is None:
            folder.tip = TipFiles(self._git, self._commit or self._head(), self.remote)
        return folder.tip

    def _worktree(self) -> None:
        """Check the tip out (once), before anything is written or committed."""
        if not self._folder.checked_out:
            self._git("reset", "--quiet", "--hard", "HEAD")
            self._folder.checked_out, self._folder.tip = True, None

    @property
    def files_read(self) -> int:
        """Files read from git's object database so far (tests count them)."""
        return self._folder.tip.blobs_read if self._folder.tip is not None else 0

    def prefetch(self, folder: str) -> None:
        """Read the files under `folder` (an environment's) in one go, before they are asked for."""
        if not self._folder.checked_out:
            self._tip().prefetch(folder, f"{self.remote} ({self.settings.key})")

    def read_text(self, relative: str) -> str | None:
        """The text of a file at the tip; None when it does not exist."""
        if not self._folder.checked_out:
            data = self._tip().read(relative, f"{self.remote} ({self.settings.key})")
            return None if data is None else documents.decode(data, f"{self.remote}: {relative}")
        self._path(relative)
        try:
            data = (self.clone_dir / relative).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a folder where a file belongs, unreadable
            raise BadInput(f"{self.remote}: {relative}: cannot read: {exc.strerror or exc}") from None
        # newline="" semantics: bytes in, the same bytes out, CRLF included; bounded size, UTF-8.
        return documents.decode(data, f"{self.remote}: {relative}")

    def write_text(self, relative: str, text: str) -> None:
        """Write a file of the work tree (UTF-8, the line endings as given)."""
        self._worktree()
        self._path(relative)
        self._folder.touched = True
        target = self.clone_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode("utf-8"))

    # -- history -----------------------------------------------------------------------------

    def _unshallow(self) -> None:
        if self._git("rev-parse", "--is-shallow-repository").stdout.strip() == "true":
            self._git("fetch", "--quiet", "--unshallow", "--no-tags", "origin", self.settings.branch)

    def history(self, relative: str) -> list[HistoryEntry]:
        """Commits that changed the file `relative` (newest first): commit, date, subject."""
        self._path(relative)
        self._unshallow()
        out = self._git("log", "--format=%H%x1f%cI%x1f%s", "HEAD", "--", relative).stdout
        entries = []
        for line in out.splitlines():
            commit, date, subject = line.split("\x1f", 2)
            entries.append(HistoryEntry(commit, date, subject))
        return entries

    def resolve(self, revision: str) -> str:
        """Full commit of `revision` (a sha or prefix) on the branch; BadInput when unknown."""
        found = self._git("rev-parse", "--verify", "-q", f"{revision}^{{commit}}", check=False)
        if not found.ok:
            self._unshallow()
            found = self._git("rev-parse", "--verify", "-q", f"{revision}^{{commit}}", check=False)
        if not found.ok:
            raise BadInput(f"{revision}: no such commit in {self.remote} ({self.settings.branch})",
                           hint="list the releases with devops rollback --env ENV --list")
        return found.stdout.strip()

    def show(self, commit: str, relative: str) -> str | None:
        """The text of `relative` at `commit` (a full commit: `resolve` it first); None when absent."""
        self._path(relative)
        shown = self._git("show", f"{commit}:{relative}", check=False)
        return shown.stdout if shown.ok else None

    # -- writing -----------------------------------------------------------------------------

    def commit_files(self, files: tuple[str, ...], message: str) -> str:
        """Commit `files` as the configured author (no signing, no hooks); the new commit."""
        author = {"GIT_AUTHOR_NAME": self.settings.author_name, "GIT_AUTHOR_EMAIL": self.settings.author_email,
                  "GIT_COMMITTER_NAME": self.settings.author_name,
                  "GIT_COMMITTER_EMAIL": self.settings.author_email}
        self._worktree()
        self._git("add", "--", *files)
        self._git("-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "commit", "--quiet",
                  "--no-verify", "-F", "-", env=author, stdin=message)
        return self._head()

    def push(self, branch: str) -> PushRejection | None:
        """Push HEAD to `branch`, never forced: None when it landed, else what refused it."""
        try:
            result = self._git("push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}", check=False)
        except ToolTimeout:
            return PushRejection("unreachable", True, "the push timed out", "timed out")
        if result.ok:
            return None
        output = f"{result.stdout}\n{result.stderr}"
        refused = [line.strip() for line in output.splitlines() if "rejected]" in line or "GH0" in line]
        return classify_push(output, refused[0] if refused else last_line(result))

    def sync_to(self, branch: str, base: str) -> str | None:
        """Fetch `branch`; reset the work tree to it, or to `base` when it does not exist.

        Returns the remote tip of `branch`, or None when it does not exist.
        """
        self._folder.touched = True
        fetched = self._git("fetch", "--quiet", "--no-tags", f"--depth={CLONE_DEPTH}", "origin",
                            f"+refs/heads/{branch}:refs/remotes/origin/{branch}", check=False)
        if fetched.ok:
            self._git("reset", "--quiet", "--hard", f"refs/remotes/origin/{branch}")
            self._folder.checked_out, self._folder.tip = True, None
            return self._head()
        if "couldn't find remote ref" not in fetched.stderr:
            raise ExternalError(f"cannot fetch {branch} from {self.remote}: {last_line(fetched)}",
                                hint="check the network and the credentials; nothing was written")
        if branch == base:
            raise ExternalError(f"branch {branch} disappeared from {self.remote} during the release")
        self.sync_to(base, base)
        return None

    def contains(self, tip: str, commit: str) -> bool:
        """Whether `commit` is in the history of `tip`."""
        return self._git("merge-base", "--is-ancestor", commit, tip, check=False).ok

    def branch_tip(self, branch: str) -> str | None:
        """The remote tip of `branch`, or None when it does not exist."""
        try:
            out = self._git("ls-remote", "--heads", "origin", f"refs/heads/{branch}").stdout
        except ToolFailed as exc:
            raise ExternalError(f"cannot list branches of {self.remote}: {exc}") from None
        return out.split()[0] if out.strip() else None


def inside_clone(clone: Path, relative: str, key: str) -> Path:
    """`clone/relative`, refused (BadInput, exit 2) when any part of it is a symlink, or it is not
    a plain path inside the clone and outside its `.git`.

    Symlinks are refused, not followed: a values file or record that is a symlink to /etc/passwd,
    an environment folder symlinked to ../.., and also a dev values file symlinked to prod's (a
    dev release would then change prod) are never read or written through."""
    base = clone.resolve()
    lexical = Path(os.path.normpath(base / relative))
    try:
        resolved = (clone / relative).resolve()
    except (OSError, RuntimeError) as exc:
        raise BadInput(f"{key}: {relative} cannot be resolved in the GitOps repository ({exc})") from None
    if not lexical.is_relative_to(base) or lexical.relative_to(base).parts[:1] in ((".git",), ()):
        raise BadInput(f"{key}: {relative} is not a path inside the GitOps repository")
    if resolved != lexical:
        inside = "inside" if resolved.is_relative_to(base) else "outside"
        raise BadInput(f"{key}: {relative} goes through a symlink (to {resolved}, {inside} the repository); "
                       "refusing to read or write it",
                       hint="GitOps paths must be plain files and folders of the repository, not symlinks")
    return resolved
