"""What a failed push said -> retry or not. Recorded outputs of GitHub, GitLab and plain git, and
outputs produced here by real git against a bare repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devops.adapters.git.push import classify_push

# (output as the server/client prints it, kind, retryable)
RECORDED = [
    # plain git: someone pushed first
    (" ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to 'origin'\n"
     "hint: Updates were rejected because the remote contains work that you do\n", "race", True),
    (" ! [rejected]        main -> main (non-fast-forward)\nerror: failed to push some refs to 'origin'\n"
     "hint: Updates were rejected because the tip of your current branch is behind\n", "race", True),
    (" ! [rejected]        main -> main (stale info)\nerror: failed to push some refs to 'origin'\n", "race", True),
    ("!\tHEAD:refs/heads/main\t[rejected] (fetch first)\nDone\n", "race", True),  # --porcelain
    # GitHub: the ref moved while the push was received
    (" ! [remote rejected] main -> main (cannot lock ref 'refs/heads/main': is at 1a2b3c but expected 4d5e6f)\n"
     "error: failed to push some refs to 'https://github.com/o/r.git'\n", "race", True),
    (" ! [remote rejected] HEAD -> main (failed to update ref)\n", "race", True),
    (" ! [remote rejected] main -> main (Internal Server Error)\n", "race", True),
    # GitHub branch protection / rulesets: never retried
    ("remote: error: GH006: Protected branch update failed for refs/heads/main.\n"
     "remote: error: Changes must be made through a pull request.\n"
     " ! [remote rejected] main -> main (protected branch hook declined)\n", "denied", False),
    ("remote: error: GH013: Repository rule violations found for refs/heads/main.\n"
     " ! [remote rejected] main -> main (push declined due to repository rule violations)\n", "denied", False),
    # GitLab
    ("remote: GitLab: You are not allowed to push code to protected branches on this project.\n"
     " ! [remote rejected] main -> main (pre-receive hook declined)\n", "denied", False),
    (" ! [remote rejected] main -> main (pre-receive hook declined)\n", "denied", False),
    ("! [remote rejected] main -> main (shallow update not allowed)\n", "denied", False),
    ("remote: error: refusing to update checked out branch: refs/heads/main\n"
     " ! [remote rejected] main -> main (branch is currently checked out)\n", "denied", False),
    # credentials
    ("remote: Invalid username or password.\nfatal: Authentication failed for 'https://github.com/o/r.git/'\n",
     "auth", False),
    ("fatal: could not read Username for 'https://github.com': terminal prompts disabled\n", "auth", False),
    ("remote: Permission to o/r.git denied to bot.\n"
     "fatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 403\n", "auth", False),
    ("remote: HTTP Basic: Access denied\nfatal: Authentication failed for 'https://gitlab.com/o/r.git/'\n",
     "auth", False),
    # network: the push may have landed; the next attempt fetches and finds out
    ("fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com\n",
     "unreachable", True),
    ("error: RPC failed; HTTP 502 curl 22 The requested URL returned error: 502\n"
     "fatal: the remote end hung up unexpectedly\n", "unreachable", True),
    ("fatal: '/nowhere/repo.git' does not appear to be a git repository\n"
     "fatal: Could not read from remote repository.\n", "unreachable", False),
    ("remote: Repository not found.\nfatal: repository 'https://github.com/o/missing.git/' not found\n",
     "unreachable", False),
    ("error: something nobody has seen before\n", "unknown", False),
]


@pytest.mark.parametrize(("output", "kind", "retryable"), RECORDED)
def test_recorded_outputs(output: str, kind: str, retryable: bool) -> None:
    rejection = classify_push(output)
    assert (rejection.kind, rejection.retryable) == (kind, retryable)


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", *args], cwd=cwd, check=check,
                          capture_output=True, text=True)


@pytest.fixture
def two_clones(tmp_path: Path) -> tuple[Path, Path]:
    _git(tmp_path, "init", "-q", "--bare", "-b", "main", "remote.git")
    one, two = tmp_path / "one", tmp_path / "two"
    _git(tmp_path, "clone", "-q", "remote.git", str(one))
    (one / "f").write_text("1\n")
    _git(one, "add", "f")
    _git(one, "commit", "-qm", "1")
    _git(one, "push", "-q", "origin", "HEAD:main")
    _git(tmp_path, "clone", "-q", "remote.git", str(two))
    (one / "f").write_text("2\n")
    _git(one, "commit", "-qam", "2")
    _git(one, "push", "-q", "origin", "HEAD:main")
    (two / "g").write_text("x\n")
    _git(two, "add", "g")
    _git(two, "commit", "-qm", "x")
    return one, two


def test_real_git_fetch_first_is_a_race(two_clones: tuple[Path, Path]) -> None:
    _, two = two_clones
    result = _git(two, "push", "origin", "HEAD:main", check=False)
    assert result.returncode != 0 and "(fetch first)" in result.stderr
    assert classify_push(result.stderr).retryable


def test_real_git_non_fast_forward_is_a_race(two_clones: tuple[Path, Path]) -> None:
    _, two = two_clones
    _git(two, "fetch", "-q", "origin")
    result = _git(two, "push", "origin", "HEAD:main", check=False)
    assert result.returncode != 0 and "(non-fast-forward)" in result.stderr
    assert classify_push(result.stderr).kind == "race"


def test_real_git_stale_lease_is_a_race(two_clones: tuple[Path, Path]) -> None:
    _, two = two_clones
    result = _git(two, "push", "--force-with-lease=main:origin/main", "origin", "HEAD:main", check=False)
    assert result.returncode != 0 and "(stale info)" in result.stderr
    assert classify_push(result.stderr).kind == "race"


def test_real_git_hook_declined_is_not_retried(two_clones: tuple[Path, Path], tmp_path: Path) -> None:
    _, two = two_clones
    hook = tmp_path / "remote.git" / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: no pushes on Fridays' >&2\nexit 1\n")
    hook.chmod(0o755)
    _git(two, "pull", "-q", "--rebase", "origin", "main")
    result = _git(two, "push", "origin", "HEAD:main", check=False)
    assert "(pre-receive hook declined)" in result.stderr
    assert classify_push(result.stderr).kind == "denied"
