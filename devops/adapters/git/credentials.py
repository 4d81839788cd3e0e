"""Where a GitOps repository is and how git authenticates to it, without a credential ever
reaching git's command line, a file or a message.

- `resolve_remote`: the configured `repo` (`.` = the project's `origin` remote, a local path,
  or a URL) as the URL git fetches from, with credentials written in it taken out;
- `auth_env`: the environment that makes git send them (or the GitHub token, only to the GitHub
  of the API URL: `devops.adapters.github.is_github_remote`), scoped to that remote, with
  redirects off there, and the strings to mask.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

from devops.adapters.git.runner import git_run
from devops.adapters.github import is_github_remote
from devops.domain.urls import git_url_problem, origin, parse, redact, split_credentials
from devops.errors import BadInput, ExternalError


@dataclass(frozen=True)
class Remote:
    url: str  # what git fetches from (a file:// URL for local paths), never with credentials
    display: str  # for messages: `***@` where the configured URL had credentials
    setting: str  # the config key that named it, for messages
    # `user:password@` of the configured URL: they reach git through the environment only.
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


def is_url(value: str) -> bool:
    """A URL or scp-like `user@host:path` (as git reads them), not a local path."""
    return "://" in value or (":" in value and "@" in value.split(":", 1)[0])


def resolve_remote(repo: str, *, root: Path, setting: str, source: Path | str) -> Remote:
    """Where the GitOps repository `repo` is: `.` = the `origin` remote of the project at `root`.

    `setting` names the config key (`environments.dev.gitops.repo`) and `source` the config
    file, for messages. Credentials written in an https URL (`https://user:token@host/...`) are
    taken out of it: git gets them from `auth_env`, never on its command line, and messages show
    `***@`. BadInput (exit 2) when `.` has no usable origin; ExternalError (exit 3) when a local
    path does not exist.
    """
    if repo == ".":
        found = git_run(["config", "--get", "remote.origin.url"], root, check=False)
        repo = found.stdout.strip() if found.ok else ""
        if not repo:
            raise BadInput(
                f"{source}: {setting} is '.', but {root} has no 'origin' remote to publish to",
                hint="git remote add origin URL, or set the repository URL there or in $DEVOPS_GITOPS_REPO",
            )
        problem = git_url_problem(repo)
        if problem:
            raise BadInput(f"{source}: {setting} is '.', and the 'origin' remote of {root}: {problem}")
        if not is_url(repo):
            repo = str((root / repo).resolve())
    elif not is_url(repo):
        repo = str((root / Path(repo).expanduser()).resolve())
    if not is_url(repo):
        if not Path(repo).exists():
            raise ExternalError(f"GitOps repository {repo} ({setting}) does not exist",
                                hint="check the path or $DEVOPS_GITOPS_REPO")
        # A file:// URL makes git honour --depth, so local repositories behave like remote ones.
        repo = Path(repo).as_uri()
    split = split_credentials(repo)
    return Remote(split.url, redact(repo), setting, split.username, split.password)


def auth_env(url: str, token: str | None, api_url: str, *, username: str | None = None,
             password: str | None = None) -> tuple[dict[str, str], tuple[str, ...]]:
    """Git environment that authenticates to the remote `url`, and the strings to mask.

    `username`/`password` (from the configured URL) win; else `token` goes to an http(s) remote
    on the GitHub of `api_url` (`devops.adapters.github.is_github_remote`, the rule the API
    calls use too). Either way as an `http.<url>.extraheader` through GIT_CONFIG_COUNT/KEY/VALUE
    (never the command line, never a file), scoped to that remote, with redirects off there:
    git would otherwise carry the header to whatever host a redirect names. The entries are
    appended to any GIT_CONFIG_* the process environment already has (git reads both).
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
