"""git on the project's own repository, through `devops.adapters.process.run`: revisions,
tags, tracked files, trees at a ref."""

from __future__ import annotations

import re
from pathlib import Path

from devops.adapters.process import run
from devops.domain.images.results import Revision  # a domain value: the images are tagged from it
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
    # One process for the commit and its committer date (the start of DORA's lead time).
    head = run(["git", "log", "-1", "--format=%H %cI", "HEAD", "--"], cwd=path, check=False)
    if not head.ok or not head.stdout.strip():  # a repository without commits yet
        return Revision("", dirty=True, version_tag=None)
    commit, _, committed_at = head.stdout.strip().partition(" ")
    status = git(["status", "--porcelain", "--untracked-files=no"], path)
    tags = git(["tag", "--points-at", "HEAD"], path).split()
    versions = sorted((t for t in tags if SEMVER_TAG.match(t)), key=_semver_key)
    return Revision(commit, dirty=bool(status.strip()), version_tag=versions[-1] if versions else None,
                    committed_at=committed_at)


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
