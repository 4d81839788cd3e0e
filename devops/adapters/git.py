"""git, through `devops.adapters.process.run`: revisions, tags, trees at a ref."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from devops.adapters.process import ProcessResult, run
from devops.domain.images.results import Revision
from devops.errors import BadInput

SEMVER_TAG = re.compile(r"^v(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)$")


def git(args: list[str], cwd: Path, *, check: bool = True, timeout: float = 120) -> str:
    return run(["git", *args], cwd=cwd, check=check, timeout=timeout, install_hint="apt-get install git").stdout


def is_repository(path: Path) -> bool:
    result = run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path, check=False)
    return result.ok and result.stdout.strip() == "true"


def is_tracked(repo: Path, path: Path) -> bool:
    """True when the git repository at `repo` tracks the file `path`; False outside git."""
    result = run(["git", "--literal-pathspecs", "ls-files", "--error-unmatch", "--", str(path)],
                 cwd=repo, check=False, install_hint="apt-get install git")
    return result.ok


def revision(path: Path) -> Revision:
    """Commit, dirtiness and semver tag of HEAD; an empty commit outside git."""
    if not is_repository(path):
        return Revision("", dirty=True, version_tag=None)
    head = run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=path, check=False)
    if not head.ok:  # a repository without commits yet
        return Revision("", dirty=True, version_tag=None)
    status = git(["status", "--porcelain", "--untracked-files=no"], path)
    tags = git(["tag", "--points-at", "HEAD"], path).split()
    versions = sorted((t for t in tags if SEMVER_TAG.match(t)), key=_semver_key)
    return Revision(head.stdout.strip(), dirty=bool(status.strip()), version_tag=versions[-1] if versions else None)


def export_tree(repo: Path, ref: str, subdir: str, dest: Path) -> bool:
    """Write the files of `subdir` at `ref` into `dest`; False when `subdir` did not exist then."""
    check = run(["git", "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], cwd=repo, check=False)
    if not check.ok:
        raise BadInput(f"--base {ref}: not a commit in {repo}; fetch it first (actions/checkout fetch-depth: 0)")
    listing = run(["git", "ls-tree", "-d", "--name-only", ref, "--", subdir.rstrip("/")], cwd=repo, check=False)
    if not listing.stdout.strip():
        return False
    import tarfile
    import tempfile

    with tempfile.TemporaryDirectory(prefix="devops-archive-") as tmp:
        tar_path = Path(tmp) / "tree.tar"
        git(["archive", "--format=tar", "-o", str(tar_path), ref, "--", subdir.rstrip("/")], repo, timeout=300)
        with tarfile.open(tar_path) as archive:
            archive.extractall(dest, filter="data")
    return True


def _semver_key(tag: str) -> tuple[int, int, int]:
    match = SEMVER_TAG.match(tag)
    assert match
    return int(match["major"]), int(match["minor"]), int(match["patch"])


# --- GitOps: commands with their own environment, and what a rejected push means -------------


def git_run(
    args: list[str],
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    check: bool = True,
    timeout: float = 120,
    stdin: str | None = None,
) -> ProcessResult:
    """`git ARGS` with extra environment (auth headers via GIT_CONFIG_*), secrets masked, never
    prompting for a password (a prompt would hang CI)."""
    full_env = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never", **(env or {})}
    return run(["git", *args], cwd=cwd, env=full_env, secrets=secrets, check=check, timeout=timeout,
               stdin=stdin, install_hint="apt-get install git")


@dataclass(frozen=True)
class PushRejection:
    kind: str  # "race" | "denied" | "auth" | "unreachable" | "unknown"
    retryable: bool
    reason: str  # what the server said, in a few words


# What git, GitHub and GitLab print when a push does not land, and whether fetching the new tip,
# re-applying the change and pushing again can help. First match wins: the refusals that no
# retry fixes come first, because the same output also carries generic "failed to push" lines.
PUSH_REJECTIONS: tuple[tuple[re.Pattern[str], str, bool, str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, retryable, reason)
    for pattern, kind, retryable, reason in (
        # GitHub branch protection (GH006 / GH013 rulesets): a person must merge, no retry helps.
        (r"protected branch hook declined|GH006: Protected branch|GH013: Repository rule violations",
         "denied", False, "the branch is protected on GitHub; use mode: pull-request"),
        # GitLab protected branches and server-side hooks.
        (r"You are not allowed to push code to protected branches|not allowed to push code",
         "denied", False, "the branch is protected on GitLab; use mode: pull-request"),
        (r"\(pre-receive hook declined\)|\(hook declined\)|\(update hook declined\)",
         "denied", False, "a server-side hook refused the push"),
        (r"shallow update not allowed", "denied", False,
         "the remote refuses pushes from a shallow clone"),
        (r"branch is currently checked out|refusing to update checked out branch", "denied", False,
         "the remote is a work tree with that branch checked out; use a bare repository"),
        (r"Authentication failed|could not read Username|Permission denied|HTTP Basic: Access denied|"
         r"The requested URL returned error: 40[13]|Write access to repository not granted",
         "auth", False, "the credentials were refused"),
        # Someone else's push landed first: fetch, re-apply, push again.
        (r"\(fetch first\)|\(non-fast-forward\)|\(stale info\)|"
         r"Updates were rejected because the remote contains work|"
         r"Updates were rejected because the tip of your current branch is behind",
         "race", True, "the remote branch moved"),
        # The ref moved while the server was accepting our push (GitHub: "cannot lock ref").
        (r"cannot lock ref|failed to update ref|incorrect old value provided|"
         r"failed to lock|remote rejected\].*\(Internal Server Error\)|fatal error in commit_refs",
         "race", True, "the remote branch moved while we pushed"),
        # Network trouble: the push may or may not have landed; the next attempt finds out.
        (r"Could not resolve host|Connection refused|Connection timed out|Connection reset|"
         r"the remote end hung up unexpectedly|The requested URL returned error: 5\d\d|"
         r"early EOF|RPC failed",
         "unreachable", True, "the remote could not be reached"),
        (r"does not appear to be a git repository|repository '.*' not found|Repository not found",
         "unreachable", False, "the remote repository does not exist"),
    )
)


def classify_push(output: str) -> PushRejection:
    """What a failed `git push` said, as a kind and whether a retry can help."""
    for pattern, kind, retryable, reason in PUSH_REJECTIONS:
        if pattern.search(output):
            return PushRejection(kind, retryable, reason)
    return PushRejection("unknown", False, "git push failed")
