"""GitHub REST API: the few pull-request calls the GitOps engine needs.

Everything goes through the one HTTP session (`devops.adapters.http`): retries with backoff on
429/5xx honouring Retry-After. GitHub's secondary rate limit answers 403 with Retry-After (or a
"secondary rate limit" message); that is retried here, bounded, because the shared session only
retries 429/5xx. 401/403/404/422 become one-line errors that say what to fix. The token is sent
as a header only and never appears in a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from devops.adapters.http import RetryPolicy, request, session
from devops.domain.urls import Origin, origin, parse, service_url_problem
from devops.errors import BadInput, HttpError

if TYPE_CHECKING:
    import requests

API_VERSION = "2022-11-28"
DEFAULT_API = "https://api.github.com"
# Secondary rate limits: wait at most this long in total before giving up (exit 3).
SECONDARY_LIMIT_RETRIES = 3
SECONDARY_LIMIT_MAX_WAIT = 60.0


@dataclass(frozen=True)
class PullRequest:
    number: int
    url: str  # html_url, what a person opens
    state: str
    draft: bool
    head: str  # head.ref
    base: str  # base.ref
    title: str
    body: str
    labels: tuple[str, ...]

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            url=str(data["html_url"]),
            state=str(data.get("state", "")),
            draft=bool(data.get("draft", False)),
            head=str((data.get("head") or {}).get("ref", "")),
            base=str((data.get("base") or {}).get("ref", "")),
            title=str(data.get("title") or ""),
            body=str(data.get("body") or ""),
            labels=tuple(str(label.get("name", "")) for label in data.get("labels") or ()),
        )


def api_url(configured: str, explicitly_set: bool, from_env: str | None = None) -> str:
    """The API base: the config's value when set there, else `from_env` ($GITHUB_API_URL, which
    Actions sets, also on Enterprise Server, read by the wiring), else github.com.

    `BadInput` when $GITHUB_API_URL is not https (http only for a loopback stand-in): the token
    goes there. The config's value was checked when it was loaded."""
    if explicitly_set:
        return configured.rstrip("/")
    if from_env:
        problem = service_url_problem(from_env, what="$GITHUB_API_URL")
        if problem:
            raise BadInput(problem, hint="unset it, or set environments.<env>.gitops.pull_request.api_url")
    return (from_env or configured or DEFAULT_API).rstrip("/")


_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>[^/].*)$")
_SSH_SCHEMES = ("ssh", "git+ssh", "ssh+git")


def github_origin(api: str) -> Origin | None:
    """Where the repositories of the GitHub whose REST API is `api` live: api.github.com ->
    https://github.com, an Enterprise Server's https://ghe.example/api/v3 -> https://ghe.example."""
    try:
        found = origin(api)
    except ValueError:
        return None
    host = found.host[len("api."):] if found.host.startswith("api.") else found.host
    return Origin(found.scheme, host, found.port)


def is_github_remote(remote_url: str, api: str) -> bool:
    """The one rule for "this git remote is on the GitHub of `api`", used before the GitHub token
    goes anywhere (the API calls and git's own auth): an http(s) remote must have that GitHub's
    scheme, host and port; an SSH remote (no token is sent to it) that host."""
    github = github_origin(api)
    if github is None:
        return False
    if "://" in remote_url:
        parts = parse(remote_url)
        if parts is None:
            return False
        scheme = parts.scheme.lower()
        if scheme in ("http", "https"):
            try:
                return origin(remote_url) == github
            except ValueError:
                return False
        if scheme not in _SSH_SCHEMES:
            return False
        host = (parts.hostname or "").lower()
    else:
        match = _SCP.match(remote_url)
        if not match:
            return False
        host = match["host"].lower()
    return host == github.host


def repository_of(remote_url: str, api: str = DEFAULT_API) -> tuple[str, str] | None:
    """(owner, name) when `remote_url` is a repository on the GitHub of `api` (`is_github_remote`)."""
    if not is_github_remote(remote_url, api):
        return None
    if "://" in remote_url:
        path = urlsplit(remote_url).path
    else:
        match = _SCP.match(remote_url)
        assert match is not None  # is_github_remote matched it
        path = match["path"]
    parts = [p for p in path.strip("/").removesuffix(".git").split("/") if p]
    if len(parts) != 2:
        return None
    return parts[0], parts[1]


class GitHubClient:
    """Pull requests of one GitHub (github.com or Enterprise Server)."""

    def __init__(self, api: str, token: str, *, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, token_env: str = "GITHUB_TOKEN") -> None:
        problem = service_url_problem(api, what="GitHub API URL")
        if problem:  # the token goes there: https, or http only to a loopback stand-in
            raise BadInput(problem)
        self.api = api.rstrip("/")
        self.token_env = token_env
        self.http: requests.Session = session(policy or RetryPolicy(total=4, backoff_factor=1.0), token=token)
        self.http.headers["Accept"] = "application/vnd.github+json"
        self.http.headers["X-GitHub-Api-Version"] = API_VERSION
        self._sleep = sleep

    def _call(self, method: str, path: str, *, ok: Sequence[int], what: str, **kwargs: Any) -> requests.Response:
        url = f"{self.api}{path}"
        for attempt in range(SECONDARY_LIMIT_RETRIES + 1):
            response = request(self.http, method, url, ok=(*ok, 401, 403, 404, 422), what=what, **kwargs)
            if response.status_code in ok:
                return response
            wait = _secondary_limit_wait(response)
            if wait is not None and attempt < SECONDARY_LIMIT_RETRIES and wait <= SECONDARY_LIMIT_MAX_WAIT:
                self._sleep(wait)
                continue
            raise self._error(response, what)
        raise AssertionError("unreachable")

    def _error(self, response: requests.Response, what: str) -> HttpError:
        message = _message(response)
        status = response.status_code
        if status == 401:
            return HttpError(f"{what}: GitHub rejected the token in ${self.token_env} (HTTP 401: {message})",
                             hint=f"set ${self.token_env} to a valid token")
        if status == 403:
            if _secondary_limit_wait(response) is not None:
                return HttpError(f"{what}: GitHub rate limit still in effect (HTTP 403: {message})",
                                 hint="wait and rerun")
            return HttpError(f"{what}: the token in ${self.token_env} may not do this (HTTP 403: {message})",
                             hint="give it pull-requests: write and contents: write (workflow permissions)")
        if status == 404:
            return HttpError(f"{what}: not found (HTTP 404), or the token in ${self.token_env} cannot see it",
                             hint="check the repository and the token's access to it")
        return HttpError(f"{what}: GitHub refused it (HTTP {status}: {message})")

    def find_open_pull(self, owner: str, repo: str, branch: str) -> PullRequest | None:
        """The open pull request whose head is `owner:branch`, if any."""
        response = self._call("GET", f"/repos/{_q(owner)}/{_q(repo)}/pulls", ok=(200,),
                              what=f"list pull requests of {owner}/{repo}",
                              params={"head": f"{owner}:{branch}", "state": "open", "per_page": 100})
        pulls = response.json()
        if not isinstance(pulls, list):
            raise HttpError(f"list pull requests of {owner}/{repo}: expected a JSON array from GitHub")
        for data in pulls:
            pull = PullRequest.from_api(data)
            if pull.head == branch:
                return pull
        return None

    def create_pull(self, owner: str, repo: str, *, title: str, head: str, base: str, body: str,
                    draft: bool = False) -> PullRequest:
        """Open a pull request; when GitHub says one already exists for the head, return that one."""
        what = f"open a pull request {head} -> {base} in {owner}/{repo}"
        payload = {"title": title, "head": head, "base": base, "body": body, "draft": draft,
                   "maintainer_can_modify": True}
        try:
            response = self._call("POST", f"/repos/{_q(owner)}/{_q(repo)}/pulls", ok=(201,), what=what, json=payload)
        except HttpError as exc:
            # Another run opened it between our look-up and this call: use theirs.
            if "already exists" in str(exc):
                existing = self.find_open_pull(owner, repo, head)
                if existing is not None:
                    return existing
            raise
        return PullRequest.from_api(response.json())

    def update_pull(self, owner: str, repo: str, number: int, *, body: str | None = None,
                    title: str | None = None) -> PullRequest:
        """Change a pull request's body and/or title."""
        payload = {k: v for k, v in (("body", body), ("title", title)) if v is not None}
        response = self._call("PATCH", f"/repos/{_q(owner)}/{_q(repo)}/pulls/{number}", ok=(200,),
                              what=f"update pull request #{number} of {owner}/{repo}", json=payload)
        return PullRequest.from_api(response.json())

    def add_labels(self, owner: str, repo: str, number: int, labels: Sequence[str]) -> tuple[str, ...]:
        """Add labels (GitHub creates unknown ones); the labels the pull request has now."""
        response = self._call("POST", f"/repos/{_q(owner)}/{_q(repo)}/issues/{number}/labels", ok=(200,),
                              what=f"label pull request #{number} of {owner}/{repo}", json={"labels": list(labels)})
        return tuple(str(label.get("name", "")) for label in response.json())


class GitHubPullRequests:
    """The pull requests of one repository on one GitHub: the pull-request port of
    devops/app/gitops_pull_request.py. The HTTP session is made on first use."""

    def __init__(self, api: str, token: str, owner: str, name: str, *, token_env: str = "GITHUB_TOKEN") -> None:
        self.api, self.owner, self.name, self.token_env = api, owner, name, token_env
        self._token = token
        self._client: GitHubClient | None = None

    @property
    def client(self) -> GitHubClient:
        if self._client is None:
            self._client = GitHubClient(self.api, self._token, token_env=self.token_env)
        return self._client

    def find_open(self, head: str) -> PullRequest | None:
        return self.client.find_open_pull(self.owner, self.name, head)

    def create(self, *, title: str, head: str, base: str, body: str, draft: bool) -> PullRequest:
        return self.client.create_pull(self.owner, self.name, title=title, head=head, base=base, body=body,
                                       draft=draft)

    def update_body(self, number: int, body: str) -> None:
        self.client.update_pull(self.owner, self.name, number, body=body)

    def add_labels(self, number: int, labels: Sequence[str]) -> None:
        self.client.add_labels(self.owner, self.name, number, labels)


def _q(part: str) -> str:
    return quote(part, safe="")


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip()
    if not isinstance(data, dict):
        return str(data)[:200]
    message = str(data.get("message", ""))
    details = [str(e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip())
               for e in data.get("errors") or () if isinstance(e, dict)]
    return "; ".join([message, *details]) if details else message


def _secondary_limit_wait(response: requests.Response) -> float | None:
    """Seconds to wait when a 403/429 is GitHub's (secondary) rate limit, else None."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return float(retry_after)
    if response.headers.get("X-RateLimit-Remaining") == "0":
        reset = response.headers.get("X-RateLimit-Reset", "")
        if reset.isdigit():
            return max(0.0, float(reset) - time.time()) + 1.0
    if "secondary rate limit" in _message(response).lower():
        return 60.0
    return None
