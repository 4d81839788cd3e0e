"""The GitOps repository: a shallow clone in a temporary folder, read and published to.

Publishing is compare-and-swap: the commit is pushed without force; when the remote branch has
moved (someone else's release landed first), the new tip is fetched, the ChangeSet is applied
again to the files as they are now (not a text rebase of our commit), committed and pushed
again, with jittered exponential backoff and a bounded number of attempts. No change means no
commit. The user's work tree is never touched: even for `repo: "."` the clone comes from the
`origin` remote of the project.
"""

from __future__ import annotations

import base64
import difflib
import os
import random
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from devops.adapters.git import PushRejection, classify_push, git_run
from devops.adapters.github import api_url, is_github_remote
from devops.adapters.process import ProcessResult
from devops.config.paths import inside_clone
from devops.domain import documents
from devops.domain.gitops import record as records
from devops.domain.gitops import values
from devops.domain.gitops.change import ChangeSet, ConcurrentChange, ImageRef, PublishResult, ServiceChange
from devops.domain.gitops.message import commit_message
from devops.domain.urls import git_url_problem, origin, parse, redact, split_credentials
from devops.errors import BadInput, ExternalError, ToolFailed, ToolTimeout

if TYPE_CHECKING:
    from devops.config import Config
    from devops.config.model import GitOpsTarget

# History kept by the first clone: enough for `status` and the recent releases `rollback`
# lists; `history()` and `read_record_at()` fetch the rest when they need it.
CLONE_DEPTH = 50
# Record keys that describe the act of releasing, not the state released: a change that only
# differs in them is no change (no empty "re-release" commits).
ACT_KEYS = ("released_at", "released_by")


class HistoryEntry(NamedTuple):
    commit: str
    date: str  # committer date, ISO 8601
    subject: str


@dataclass(frozen=True)
class Remote:
    url: str  # what git fetches from (a file:// URL for local paths), never with credentials
    display: str  # for messages: `***@` where the configured URL had credentials
    setting: str  # the config key that named it, for messages
    # `user:password@` of the configured URL: they reach git through the environment only.
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def _is_url(value: str) -> bool:
    return "://" in value or (":" in value and "@" in value.split(":", 1)[0])


def _display(url: str) -> str:
    return redact(url)


def resolve_remote(config: Config, environment: str) -> Remote:
    """Where the environment's GitOps repository is: `.` = the project's `origin` remote.

    Credentials written in an https URL (`https://user:token@host/...`) are taken out of it:
    git gets them from `auth_env`, never on its command line, and messages show `***@`.
    """
    target = config.environment(environment).gitops
    setting = f"environments.{environment}.gitops.repo"
    repo = target.repo
    if repo == ".":
        found = git_run(["config", "--get", "remote.origin.url"], config.root, check=False)
        repo = found.stdout.strip() if found.ok else ""
        if not repo:
            raise BadInput(
                f"{config.source}: {setting} is '.', but {config.root} has no 'origin' remote to publish to",
                hint="git remote add origin URL, or set the repository URL there or in $DEVOPS_GITOPS_REPO",
            )
        problem = git_url_problem(repo)
        if problem:
            raise BadInput(f"{config.source}: {setting} is '.', and the 'origin' remote of {config.root}: {problem}")
        if not _is_url(repo):
            repo = str((config.root / repo).resolve())
    elif not _is_url(repo):
        repo = str((config.root / Path(repo).expanduser()).resolve())
    if not _is_url(repo):
        if not Path(repo).exists():
            raise ExternalError(f"GitOps repository {repo} ({setting}) does not exist",
                                hint="check the path or $DEVOPS_GITOPS_REPO")
        # A file:// URL makes git honour --depth, so local repositories behave like remote ones.
        repo = Path(repo).as_uri()
    split = split_credentials(repo)
    return Remote(split.url, _display(repo), setting, split.username, split.password)


def auth_env(url: str, token: str | None, api_url: str, *, username: str | None = None,
             password: str | None = None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Git environment that authenticates to the remote `url`, and the strings to mask.

    `username`/`password` (from the configured URL) win; else `token` goes to an http(s) remote
    on the GitHub of `api_url` (`devops.adapters.github.is_github_remote`, the rule the API
    calls use too). Either way as an `http.<url>.extraheader` through GIT_CONFIG_COUNT/KEY/VALUE
    (never the command line, never a file), scoped to that remote, with redirects off there:
    git would otherwise carry the header to whatever host a redirect names.
    """
    parts = parse(url)
    if parts is None or parts.scheme.lower() not in ("https", "http") or not parts.hostname:
        return {}, ()
    if username is not None or password is not None:
        user, secret = username or "", password or ""
        # The user part alone is often the token itself (https://TOKEN@host/...).
        masked: tuple[str, ...] = (secret,) if secret else (user,)
        scope = url if url.endswith("/") else url + "/"
    elif token and is_github_remote(url, api_url):
        user, secret, masked = "x-access-token", token, (token,)
        scope = str(origin(url)) + "/"
    else:
        return {}, ()
    basic = base64.b64encode(f"{user}:{secret}".encode()).decode()
    index = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    env = {
        "GIT_CONFIG_COUNT": str(index + 2),
        f"GIT_CONFIG_KEY_{index}": f"http.{scope}.extraheader",
        f"GIT_CONFIG_VALUE_{index}": f"AUTHORIZATION: basic {basic}",
        f"GIT_CONFIG_KEY_{index + 1}": f"http.{scope}.followRedirects",
        f"GIT_CONFIG_VALUE_{index + 1}": "false",
    }
    return env, (*[m for m in masked if m], basic)


class _Git:
    """Runs git in the clone and counts the commands (the benchmark reports them)."""

    def __init__(self, cwd: Path, env: dict[str, str], secrets: tuple[str, ...], timeout: float) -> None:
        self.cwd, self.env, self.secrets, self.timeout = cwd, env, secrets, timeout
        self.count = 0

    def __call__(self, *args: str, check: bool = True, timeout: float | None = None,
                 cwd: Path | None = None) -> ProcessResult:
        self.count += 1
        return git_run(list(args), cwd or self.cwd, env=self.env, secrets=self.secrets, check=check,
                       timeout=timeout or self.timeout)


class GitOpsRepo:
    """One environment's view of the GitOps repository. Use `GitOpsRepo.open` in a `with`."""

    def __init__(self, config: Config, environment: str, target: GitOpsTarget, remote: Remote,
                 workdir: Path, git: _Git) -> None:
        self.config = config
        self.environment = environment
        self.target = target
        self.remote = remote
        self.workdir = workdir
        self.clone_dir = workdir / "repo"
        self._git = git
        self._commit = ""
        self._base_record: records.ReleaseRecord | None = None
        # Each service's image in its values file as the first apply() found it: what a re-apply
        # after a rejected push expects to replace (see apply()).
        self._base_values: dict[str, ImageRef | None] = {}
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(workdir), True)
        self.sleep: Callable[[float], None] = time.sleep  # tests make backoff instant

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, config: Config, environment: str, *, depth: int = CLONE_DEPTH) -> GitOpsRepo:
        """Clone the environment's GitOps branch (shallow) into a temporary folder.

        ExternalError (exit 3) when the repository cannot be reached; BadInput (exit 2) when the
        environment is unknown, `.` has no origin, or the branch does not exist.
        """
        target = config.environment(environment).gitops
        remote = resolve_remote(config, environment)
        settings = target.pull_request
        env, secrets = auth_env(remote.url, os.environ.get(settings.token_env),
                                api_url(settings.api_url, "api_url" in settings.model_fields_set),
                                username=remote.username, password=remote.password)
        workdir = Path(tempfile.mkdtemp(prefix="devops-gitops-"))
        git = _Git(workdir / "repo", env, secrets, target.push.timeout_seconds)
        repo = cls(config, environment, target, remote, workdir, git)
        try:
            repo._clone(depth)
        except BaseException:  # also KeyboardInterrupt: never leave the clone behind
            repo.close()
            raise
        return repo

    def close(self) -> None:
        """Remove the clone (also done on exit of the `with` block and at interpreter exit)."""
        self._cleanup()

    def __enter__(self) -> GitOpsRepo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _clone(self, depth: int) -> None:
        branch = self.target.branch
        # core.autocrlf=false in the clone: a user's global autocrlf must not rewrite the line
        # endings of files we promise to keep byte for byte (checkout or add would).
        result = self._git("clone", "--quiet", "--no-tags", "--single-branch", "--branch", branch,
                           "--config", "core.autocrlf=false",
                           f"--depth={depth}", self.remote.url, str(self.clone_dir), check=False,
                           cwd=self.workdir)
        if not result.ok:
            tail = _last_line(result)
            if "not found in upstream" in result.stderr:
                raise BadInput(f"{self.config.source}: environments.{self.environment}.gitops.branch: branch "
                               f"{branch!r} does not exist in {self.remote.display}",
                               hint="create it, or name an existing branch")
            raise ExternalError(f"cannot clone the GitOps repository {self.remote.display} ({branch}): {tail}",
                                hint=f"check {self.remote.setting}, the network and the credentials; "
                                     "nothing was written")
        self._commit = self._git("rev-parse", "HEAD").stdout.strip()
        self._base_record = self._record_or_empty()

    # -- reading -----------------------------------------------------------------------------

    @property
    def commit(self) -> str:
        """The tip commit that was read."""
        return self._commit

    @property
    def git_operations(self) -> int:
        return self._git.count

    def _env_path(self, relative: str) -> str:
        path = f"{self.target.path.strip('/')}/{relative}"
        # The config checked these paths are relative without `..`; a symlink committed to the
        # repository could still lead outside the clone (or into another environment), so every
        # read and write goes through this check, which refuses symlinks (exit 2).
        inside_clone(self.clone_dir, path, f"{self.remote.display} (environments.{self.environment}.gitops)")
        return path

    def values_path(self, service: str) -> str:
        """Path of a service's values file inside the repository."""
        return self._env_path(self.target.values_file.format(service=service))

    @property
    def record_path(self) -> str:
        return self._env_path(self.target.record_file)

    def _read_text(self, relative: str) -> str | None:
        path = self.clone_dir / relative
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a folder where a file belongs, unreadable
            raise BadInput(f"{self._where(relative)}: cannot read: {exc.strerror or exc}") from None
        # newline="" semantics: bytes in, the same bytes out, CRLF included; bounded size, UTF-8.
        return documents.decode(data, self._where(relative))

    def _where(self, relative: str) -> str:
        return f"{self.remote.display}: {relative}"

    def read_values(self, service: str) -> ImageRef | None:
        """The image in a service's values file; None when the file or its digest is empty/missing."""
        path = self.values_path(service)
        text = self._read_text(path)
        if text is None:
            return None
        return values.read_image(text, self._where(path))

    def read_record(self) -> records.ReleaseRecord:
        """The release record at the tip; an empty one when the file does not exist yet."""
        text = self._read_text(self.record_path)
        if text is None:
            return records.ReleaseRecord.empty(self.environment)
        return records.parse(text, self._where(self.record_path), environment=self.environment)

    def _record_or_empty(self) -> records.ReleaseRecord:
        try:
            return self.read_record()
        except BadInput:
            # A broken record must not block the release (or the rollback) that replaces it: the
            # new content is validated in full and replaces it.
            return records.ReleaseRecord.empty(self.environment)

    def _unshallow(self) -> None:
        shallow = self._git("rev-parse", "--is-shallow-repository").stdout.strip() == "true"
        if shallow:
            self._git("fetch", "--quiet", "--unshallow", "--no-tags", "origin", self.target.branch,
                      timeout=self.target.push.timeout_seconds)

    def history(self, record_path: str | None = None) -> list[HistoryEntry]:
        """Commits that changed the record (newest first): commit, date, subject."""
        self._unshallow()
        path = record_path or self.record_path
        out = self._git("log", "--format=%H%x1f%cI%x1f%s", "HEAD", "--", path).stdout
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
            raise BadInput(f"{revision}: no such commit in {self.remote.display} ({self.target.branch})",
                           hint="list the releases with devops rollback --env ENV --list")
        return found.stdout.strip()

    def read_record_at(self, commit: str) -> records.ReleaseRecord:
        """The release record as it was at `commit`."""
        full = self.resolve(commit)
        shown = self._git("show", f"{full}:{self.record_path}", check=False)
        if not shown.ok:
            raise BadInput(f"{self.record_path}: not present at commit {full[:12]} of {self.remote.display}")
        return records.parse(shown.stdout, f"{self._where(self.record_path)}@{full[:12]}",
                             environment=self.environment)

    # -- publishing --------------------------------------------------------------------------

    def publish(self, change: ChangeSet, dry_run: bool = False, mode: str | None = None) -> PublishResult:
        """Write `change` as one commit (or a pull request); see the module docstring."""
        if change.environment != self.environment:
            raise BadInput(f"change for {change.environment!r} given to the GitOps repository of {self.environment!r}")
        for update in change.updates:
            self.config.service(update.service)  # UnknownName with did-you-mean
        mode = mode or self.target.mode
        if mode not in ("commit", "pull-request"):
            raise BadInput(f"--mode {mode}: expected commit or pull-request")
        if mode == "pull-request":
            from devops.app.gitops_pull_request import publish_pull_request

            return publish_pull_request(self, change, dry_run=dry_run)
        return self._publish_commit(change, dry_run=dry_run)

    def _publish_commit(self, change: ChangeSet, *, dry_run: bool) -> PublishResult:
        branch = self.target.branch
        applied = self.apply(change)
        if not applied.files or dry_run:
            return self._result("noop" if not applied.files else "dry-run", applied, None, branch, attempts=0)
        commit, attempts, applied = self.push_with_retries(change, applied, branch, base=branch)
        outcome = "committed" if commit else "noop"
        return self._result(outcome, applied, commit, branch, attempts=attempts)

    def _result(self, outcome: str, applied: Applied, commit: str | None, branch: str, *, attempts: int,
                pr_url: str | None = None, pr_state: str | None = None) -> PublishResult:
        return PublishResult(
            outcome=outcome, changes=applied.changes, commit=commit, branch=branch, pull_request_url=pr_url,
            pull_request_state=pr_state, attempts=attempts, diff=applied.diff, git_operations=self._git.count,
            remote=self.remote.display, files=tuple(applied.files),
        )

    def apply(self, change: ChangeSet) -> Applied:
        """Edit the work tree as `change` says (values files, record); report what changed.

        Compare-and-swap per service, on the first apply and on every re-apply after a rejected
        push: ConcurrentChange (exit 3, nothing written) when the image a values file or record
        entry holds is neither what this run first read nor what it writes (another release of
        the same service landed meanwhile), or when a record entry no longer holds the digest
        `change.expected_digests` names.
        """
        changes: list[ServiceChange] = []
        edits: dict[str, tuple[str, str]] = {}  # path -> (before, after)
        for update in change.updates:
            path = self.values_path(update.service)
            where = self._where(path)
            before = self._read_text(path)
            if before is None:
                raise BadInput(f"{where}: the values file of {update.service} does not exist in "
                               f"{self.target.branch}",
                               hint="add it with an image: block (repository, tag, digest)")
            old = values.read_image(before, where)
            expected = self._base_values.setdefault(update.service, old)
            if old != expected and old != update.ref:
                raise ConcurrentChange(
                    f"{update.service}: {where}: changed since this run read it: expected "
                    f"{expected or '(no image)'}, found {old or '(no image)'}",
                    hint=f"another release of {update.service} landed first; nothing was written; rerun to "
                         "start from the new state")
            after = values.set_image(before, where, update.ref)
            if after != before:
                edits[path] = (before, after)
                changes.append(ServiceChange(update.service, str(old) if old else "", str(update.ref)))
        record_changed = False
        if change.record is not None:
            current_text = self._read_text(self.record_path)
            current = self._record_or_empty()
            if self._base_record is None:  # what the caller read: the record at the clone's tip
                self._base_record = current
            check_expected_digests(current, change, self._where(self.record_path))
            merged = merge_record(self._base_record, current, change, self._where(self.record_path))
            new_text = merged.to_json()
            if current_text != new_text and (edits or _state(current) != _state(merged)):
                edits[self.record_path] = (current_text or "", new_text)
                record_changed = True
        for path, (_, after) in edits.items():
            target = self.clone_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(after.encode("utf-8"))
        diff = "".join(_unified(path, before, after) for path, (before, after) in edits.items())
        return Applied(tuple(changes), list(edits), diff, record_changed)

    def _sync_to(self, branch: str, base: str) -> str | None:
        """Fetch `branch`; reset the work tree to it, or to `base` when it does not exist.

        Returns the remote tip of `branch`, or None when it does not exist.
        """
        fetched = self._git("fetch", "--quiet", "--no-tags", f"--depth={CLONE_DEPTH}", "origin",
                            f"+refs/heads/{branch}:refs/remotes/origin/{branch}", check=False)
        if fetched.ok:
            self._git("reset", "--quiet", "--hard", f"refs/remotes/origin/{branch}")
            return self._git("rev-parse", "HEAD").stdout.strip()
        if "couldn't find remote ref" not in fetched.stderr:
            raise ExternalError(f"cannot fetch {branch} from {self.remote.display}: {_last_line(fetched)}",
                                hint="check the network and the credentials; nothing was written")
        if branch == base:
            raise ExternalError(f"branch {branch} disappeared from {self.remote.display} during the release")
        self._sync_to(base, base)
        return None

    def _commit_change(self, change: ChangeSet, applied: Applied) -> str:
        author = self.target.author
        env = {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
               "GIT_COMMITTER_NAME": author.name, "GIT_COMMITTER_EMAIL": author.email}
        self._git("add", "--", *applied.files)
        message = commit_message(change, applied.changes, record_changed=applied.record_changed)
        self._git.count += 1
        git_run(["-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", "commit", "--quiet",
                 "--no-verify", "-F", "-"], self.clone_dir, env={**self._git.env, **env},
                secrets=self._git.secrets, timeout=self._git.timeout, stdin=message)
        return self._git("rev-parse", "HEAD").stdout.strip()

    def push_with_retries(self, change: ChangeSet, applied: Applied, branch: str, *,
                          base: str) -> tuple[str | None, int, Applied]:
        """Commit `applied` and push it to `branch`, compare-and-swap, re-applying on rejection.

        Returns (commit pushed or found on the remote, push attempts, what was applied last);
        commit None when the remote already holds the change (nothing to push).
        """
        push = self.target.push
        commit = self._commit_change(change, applied)
        rejection: PushRejection | None = None
        for attempt in range(1, push.attempts + 1):
            if attempt > 1:
                self.sleep(backoff_delay(attempt - 1, push.backoff_seconds, push.max_backoff_seconds))
                tip = self._sync_to(branch, base)
                if tip is not None and rejection is not None and rejection.kind == "unreachable" \
                        and self._contains(tip, commit):
                    return commit, attempt - 1, applied  # the "failed" push had landed after all
                applied = self.apply(change)
                if not applied.files:
                    return None, attempt - 1, applied  # the remote already says what we wanted
                commit = self._commit_change(change, applied)
            rejection = self._push(branch)
            if rejection is None:
                self._commit = commit
                return commit, attempt, applied
            if not rejection.retryable:
                raise ExternalError(
                    f"push to {self.remote.display} ({branch}) refused: {rejection.reason}: {self._last_push_error}",
                    hint="nothing was written")
        assert rejection is not None
        raise ExternalError(
            f"push to {self.remote.display} ({branch}) still rejected after {push.attempts} attempts: "
            f"{rejection.reason}",
            hint=f"nothing was written; rerun, or raise environments.{self.environment}.gitops.push.attempts")

    _last_push_error = ""

    def _push(self, branch: str) -> PushRejection | None:
        try:
            result = self._git("push", "--porcelain", "origin", f"HEAD:refs/heads/{branch}", check=False)
        except ToolTimeout:
            self._last_push_error = "timed out"
            return PushRejection("unreachable", True, "the push timed out")
        if result.ok:
            return None
        output = f"{result.stdout}\n{result.stderr}"
        refused = [line.strip() for line in output.splitlines() if "rejected]" in line or "GH0" in line]
        self._last_push_error = refused[0] if refused else _last_line(result)
        return classify_push(output)

    def _contains(self, tip: str, commit: str) -> bool:
        found = self._git("merge-base", "--is-ancestor", commit, tip, check=False)
        return found.ok

    def branch_exists(self, branch: str) -> str | None:
        """The remote tip of `branch`, or None."""
        try:
            out = self._git("ls-remote", "--heads", "origin", f"refs/heads/{branch}").stdout
        except ToolFailed as exc:
            raise ExternalError(f"cannot list branches of {self.remote.display}: {exc}") from None
        return out.split()[0] if out.strip() else None


@dataclass
class Applied:
    changes: tuple[ServiceChange, ...]
    files: list[str]
    diff: str
    record_changed: bool


def merge_record(base: records.ReleaseRecord, current: records.ReleaseRecord, change: ChangeSet,
                 where: str) -> records.ReleaseRecord:
    """The record to write: a three-way merge of the services, per service.

    `base` is the record the caller read (at the commit the clone started from), `current` the
    one at the tip now, `change.record` the caller's new content. A service entry the caller
    changed (or added, or removed) relative to `base` is taken from the caller; any other entry is
    taken from the tip, so a release that landed in between keeps its services. The top-level
    keys (who released, when, source commit) are the caller's. With no race, tip == base and the
    result is exactly the caller's record.

    An entry the caller changed whose image (repository, tag, digest) at the tip is neither the
    one in `base` nor the caller's was changed by someone else meanwhile: taking the caller's
    would silently undo that release, so it is ConcurrentChange (exit 3) naming the service,
    the image expected and the image found. Evidence-only changes of the same image are not a
    conflict (the caller's entry wins).
    """
    assert change.record is not None
    wanted = records.validate(change.record, f"{where} (new content)", environment=change.environment)
    data = wanted.to_dict()
    ours: dict[str, Any] = data["services"]
    before: dict[str, Any] = base.to_dict()["services"]
    theirs: dict[str, Any] = current.to_dict()["services"]
    merged: dict[str, Any] = {}
    for name in [*ours, *(n for n in theirs if n not in ours), *(n for n in before if n not in ours)]:
        if name in merged:
            continue
        mine_changed = ours.get(name) != before.get(name)
        found = _entry_image(theirs.get(name))
        if mine_changed and found not in (_entry_image(before.get(name)), _entry_image(ours.get(name))):
            raise ConcurrentChange(
                f"{where}: services.{name}: changed since this run read it: expected "
                f"{_entry_image(before.get(name))}, found {found}",
                hint=f"another release of {name} landed first; nothing was written; rerun to start from the "
                     "new state")
        entry = ours.get(name) if mine_changed else theirs.get(name)
        if entry is not None:
            merged[name] = entry
    data["services"] = merged
    return records.validate(data, where, environment=change.environment)


def _entry_image(entry: Any) -> str:
    """`repository:tag@digest` of a record entry (plain data); "(no entry)" when there is none."""
    if not isinstance(entry, dict):
        return "(no entry)"
    tag = f":{entry['tag']}" if entry.get("tag") else ""
    return f"{entry.get('repository', '')}{tag}@{entry.get('digest', '')}"


def check_expected_digests(current: records.ReleaseRecord, change: ChangeSet, where: str) -> None:
    """ConcurrentChange (exit 3) unless each entry holds the digest `change.expected_digests` names.

    Evidence written against the record's entry must be about the digest that was checked; a
    release (or a hand edit) that changed the entry since then makes it about another one.
    """
    for service, digest in change.expected_digests:
        entry = current.services.get(service)
        found = entry.digest if entry is not None else ""
        if found != digest or not digest:
            raise ConcurrentChange(
                f"{service}: {change.action} checked {digest or '(no digest: the values file names none)'}, "
                f"but {where} holds {found or '(no entry for it)'}: the evidence would be about a digest that "
                "was not checked",
                hint="nothing was written; " + (
                    f"rerun `devops verify --env {change.environment}` against what is released now"
                    if change.action == "verify" else "rerun against what is released now"))


def _state(record: records.ReleaseRecord) -> dict[str, Any]:
    return {k: v for k, v in record.to_dict().items() if k not in ACT_KEYS}


def backoff_delay(retry: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in [delay/2, delay] (retry = 1, 2, ...)."""
    delay = min(cap, base * (2 ** (retry - 1)))
    return delay * random.uniform(0.5, 1.0)


def _unified(path: str, before: str, after: str) -> str:
    lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                 f"a/{path}", f"b/{path}")
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _last_line(result: ProcessResult) -> str:
    lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "!", "remote: error"))]
    return (errors or lines or ["(no output)"])[-1][:300]
