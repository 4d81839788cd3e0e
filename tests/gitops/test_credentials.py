"""Git and GitHub credentials go only to the host they were configured for, never on argv.

Real git (clone and push) against a real smart-HTTP git server: `git http-backend` behind a
small recording Python HTTP server (tests/support/recording_http.py), which demands HTTP Basic
credentials like a git host, records every Authorization header per host, and, while it
serves, snapshots the command line of every process (/proc/<pid>/cmdline) so the git client
processes are inspected while they run. "Another host" is 127.0.0.2 (all of 127.0.0.0/8 is
loopback here). GitHub's REST API cannot be reached from here: the fake GitHub answers the
pulls endpoints with the shape of the real API (the pull request object of
../shared/fixtures/github/event_pull_request.json), on the same origin that serves git, as an
Enterprise Server does (`/api/v3`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devops.adapters.git.credentials import auth_env
from devops.domain.urls import redact, split_credentials
from tests.gitops.conftest import DIGEST_A, Remote, write_project
from tests.support.cli import Outcome, run_cli
from tests.support.recording_http import Answer, GitBackend, Recorded, RecordingServer, basic, serving

USER, PASSWORD = "deploy-bot", "glpat-Secret0123456789"
TOKEN = "ghs_recordedGitHubToken0123"
IMAGE = f"alpha=docker.io/test/alpha:v1@{DIGEST_A}"


def set_image(config: Path, *extra: str, env: str = "dev") -> Outcome:
    return run_cli("--json", "--config", str(config), "gitops", "set-image", "--env", env, *extra, IMAGE)


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
    return write_project(tmp_path / "shop")


@pytest.fixture
def git_host(remote: Remote) -> Iterator[RecordingServer]:
    """The configured git host: 127.0.0.1, Basic auth required, processes snapshotted."""
    with serving("127.0.0.1", GitBackend(remote.bare.parent, (USER, PASSWORD)), snapshot_processes=True) as server:
        yield server


def with_credentials(server: RecordingServer, user: str = USER, password: str = PASSWORD) -> str:
    return f"http://{user}:{password}@127.0.0.1:{server.port}/gitops.git"


def test_url_credentials_reach_git_through_the_environment_never_argv(
        config_file: Path, remote: Remote, git_host: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", with_credentials(git_host))
    before = remote.tip()
    result = set_image(config_file)
    assert result.code == 0, result.err
    assert remote.tip() != before, "the push landed: the server accepted the credentials"
    methods = {(r.method, r.path.split("?")[0].rsplit("/", 1)[-1]) for r in git_host.requests}
    assert ("POST", "git-upload-pack") in methods and ("POST", "git-receive-pack") in methods
    assert set(git_host.authorizations()) == {basic(USER, PASSWORD)}
    # The snapshots were taken while git ran: its client processes are there, and not one
    # command line of any process carried the password (or the user:password pair).
    git_lines = [line for line in git_host.cmdlines if "git-remote-http" in line or line.startswith("git ")]
    assert any(f"127.0.0.1:{git_host.port}/gitops.git" in line for line in git_lines), git_host.cmdlines[:20]
    assert not [line for line in git_host.cmdlines if PASSWORD in line]
    # ... and nothing the user sees carries it: the output names the repository as ***@.
    data = json.loads(result.out)
    assert data["remote"] == f"http://***@127.0.0.1:{git_host.port}/gitops.git"
    assert PASSWORD not in result.out + result.err


def test_control_the_detector_sees_credentials_on_argv(remote: Remote, git_host: RecordingServer,
                                                       tmp_path: Path) -> None:
    """What the test above rules out, done on purpose: git given the URL with its credentials
    on the command line. The snapshot catches it, so the test above can fail."""
    import subprocess

    done = subprocess.run(["git", "clone", "-q", with_credentials(git_host), str(tmp_path / "c")],
                          capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "GIT_TERMINAL_PROMPT": "0"})
    assert done.returncode == 0, done.stderr
    assert [line for line in git_host.cmdlines if PASSWORD in line]


def test_wrong_credentials_are_exit_3_and_still_redacted(
        config_file: Path, remote: Remote, git_host: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", with_credentials(git_host, password="glpat-WrongWrongWrong"))
    before = remote.tip()
    result = set_image(config_file)
    assert result.code == 3
    line = result.err.strip().splitlines()[-1]
    assert line.startswith(f"devops: error: cannot clone the GitOps repository http://***@127.0.0.1:{git_host.port}/")
    assert "glpat-WrongWrongWrong" not in result.out + result.err
    assert remote.tip() == before


def test_a_redirect_to_another_host_gets_no_credential(
        config_file: Path, remote: Remote, monkeypatch: pytest.MonkeyPatch) -> None:
    """The configured host answers 302 to 127.0.0.2. git's default (follow the first redirect,
    then talk to the new host) would send the header there: the redirect is not followed."""
    with serving("127.0.0.2", GitBackend(remote.bare.parent)) as other:
        def redirect(request: Recorded) -> Answer:
            return Answer(302, {"Location": other.url + request.path})

        with serving("127.0.0.1", redirect) as configured:
            monkeypatch.setenv("DEVOPS_GITOPS_REPO", with_credentials(configured))
            result = set_image(config_file)
            assert result.code == 3
            assert "302" in result.err and PASSWORD not in result.err
            assert configured.authorizations() == [basic(USER, PASSWORD)]  # control: it got them
            assert other.requests == [] and other.authorizations() == []


def test_control_without_the_redirect_setting_git_carries_the_header_to_the_other_host(
        remote: Remote, tmp_path: Path) -> None:
    """Why `followRedirects=false` is set: the same clone with only the header (git's default
    redirect handling) sends it to 127.0.0.2. This proves the test above can see a leak."""
    import os
    import subprocess

    with serving("127.0.0.2", GitBackend(remote.bare.parent)) as other:
        def redirect(request: Recorded) -> Answer:
            return Answer(302, {"Location": other.url + request.path})

        with serving("127.0.0.1", redirect) as configured:
            url = f"{configured.url}/gitops.git"
            env, _ = auth_env(url, None, "https://api.github.com", username=USER, password=PASSWORD)
            header_only = {k: v for k, v in env.items() if not k.endswith("_1")} | {"GIT_CONFIG_COUNT": "1"}
            subprocess.run(["git", "clone", "-q", url, str(tmp_path / "c")], capture_output=True, check=False,
                           env={**os.environ, **header_only, "GIT_TERMINAL_PROMPT": "0"})
    assert basic(USER, PASSWORD) in other.authorizations()


def test_credentials_of_one_host_never_reach_another(config_file: Path, remote: Remote,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The header is scoped to the URL's own scheme, host, port and path. Even when the user's
    git configuration rewrites that URL to another host (`url.<other>.insteadOf`), the other
    host gets the git traffic but not the credentials."""
    env, secrets = auth_env("https://git.example.com:8443/org/gitops.git", None, "https://api.github.com",
                            username=USER, password=PASSWORD)
    assert env["GIT_CONFIG_KEY_0"] == "http.https://git.example.com:8443/org/gitops.git/.extraheader"
    assert env["GIT_CONFIG_KEY_1"] == "http.https://git.example.com:8443/org/gitops.git/.followRedirects"
    assert PASSWORD in secrets
    with serving("127.0.0.1", GitBackend(remote.bare.parent)) as other, \
            serving("127.0.0.2", GitBackend(remote.bare.parent, (USER, PASSWORD))) as configured:
        monkeypatch.setenv("DEVOPS_GITOPS_REPO", f"http://{USER}:{PASSWORD}@127.0.0.2:{configured.port}/gitops.git")
        monkeypatch.setenv("GIT_CONFIG_COUNT", "1")  # the user's own setting, kept (index 0)
        monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{other.url}/.insteadOf")
        monkeypatch.setenv("GIT_CONFIG_VALUE_0", f"{configured.url}/")
        result = set_image(config_file)
        assert result.code == 0, result.err
        assert other.requests, "git went to the rewritten host"
        assert other.authorizations() == [] and configured.requests == []
        monkeypatch.setenv("GIT_CONFIG_COUNT", "0")  # control: without the rewrite, the configured host
        result = set_image(config_file, "--dry-run")
        assert result.code == 0, result.err
        assert set(configured.authorizations()) == {basic(USER, PASSWORD)}


@pytest.mark.parametrize("url", [
    "https://{cred}@git.example.com/org/gitops.git",
    "http://{cred}@127.0.0.1:9/org/gitops.git",
])
def test_config_show_and_json_redact_the_credentials(config_file: Path, monkeypatch: pytest.MonkeyPatch,
                                                     url: str) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", url.format(cred=f"{USER}:{PASSWORD}"))
    for args in (("config", "show"), ("--json", "config", "show"), ("config", "show", "--env", "prod")):
        result = run_cli("--config", str(config_file), *args)
        assert result.code == 0, result.err
        assert PASSWORD not in result.out + result.err
        assert USER not in result.out + result.err
        assert "***@" in result.out
    data = json.loads(run_cli("--json", "--config", str(config_file), "config", "show").out)
    assert data["environments"]["dev"]["gitops"]["repo"] == url.format(cred="***")


def test_control_config_show_without_credentials_shows_the_url(config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", "https://git.example.com/org/gitops.git")
    data = json.loads(run_cli("--json", "--config", str(config_file), "config", "show").out)
    assert data["environments"]["dev"]["gitops"]["repo"] == "https://git.example.com/org/gitops.git"


@pytest.mark.parametrize(("url", "words"), [
    (f"http://{USER}:{PASSWORD}@git.example.com/org/gitops.git", "plain http"),
    (f"ssh://{USER}:{PASSWORD}@git.example.com/org/gitops.git", "ssh://"),
    (f"ftp://{USER}:{PASSWORD}@git.example.com/org/gitops.git", "ftp://"),
])
def test_credentials_where_they_would_leak_are_exit_2_and_redacted(
        config_file: Path, monkeypatch: pytest.MonkeyPatch, url: str, words: str) -> None:
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", url)
    result = run_cli("--config", str(config_file), "config", "validate")
    assert result.code == 2
    assert words in result.err and "environments.dev.gitops.repo" in result.err
    assert PASSWORD not in result.out + result.err


def test_credentials_in_the_origin_remote_of_dot_are_used_the_same_way(
        config_file: Path, remote: Remote, git_host: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """`repo: "."` takes the config_file's origin remote, which may carry credentials too."""
    import subprocess

    monkeypatch.delenv("DEVOPS_GITOPS_REPO", raising=False)
    subprocess.run(["git", "remote", "add", "origin", with_credentials(git_host)], cwd=config_file.parent.parent,
                   check=True)
    result = set_image(config_file)
    assert result.code == 0, result.err
    assert set(git_host.authorizations()) == {basic(USER, PASSWORD)}
    assert not [line for line in git_host.cmdlines if PASSWORD in line]
    assert PASSWORD not in result.out + result.err


def test_split_and_redact() -> None:
    split = split_credentials("https://u%40corp:p%3Ass@git.example.com/o/r.git")
    assert (split.url, split.username, split.password) == ("https://git.example.com/o/r.git", "u@corp", "p:ss")
    assert redact("https://TOKEN@github.com/o/r") == "https://***@github.com/o/r"
    assert redact("ssh://git@github.com/o/r") == "ssh://git@github.com/o/r"  # an account, not a secret
    assert redact("git@github.com:o/r.git") == "git@github.com:o/r.git"


# --- the GitHub token: only to the GitHub of the API URL, for git and for the API ---------------


class FakeGitHub:
    """An Enterprise-Server-shaped host: git smart HTTP, and `/api/v3` answering the pulls
    endpoints with the real API's pull-request object."""

    def __init__(self, bare_root: Path, pr: dict[str, Any]) -> None:
        self.git = GitBackend(bare_root, ("x-access-token", TOKEN))
        self.pr = pr

    def __call__(self, request: Recorded) -> Answer:
        if not request.path.startswith("/api/v3/"):
            return self.git(request)
        if request.authorization != f"bearer {TOKEN}":
            return Answer(401, {"Content-Type": "application/json"},
                          json.dumps({"message": "Bad credentials"}).encode())
        path = request.path.split("?")[0]
        if request.method == "GET" and path.endswith("/pulls"):
            return Answer(200, {"Content-Type": "application/json"}, b"[]")
        if request.method == "POST" and path.endswith("/pulls"):
            body = json.loads(request.body)
            created = {**self.pr, "number": 42, "head": {**self.pr["head"], "ref": body["head"]},
                       "base": {**self.pr["base"], "ref": body["base"]}, "labels": []}
            return Answer(201, {"Content-Type": "application/json"}, json.dumps(created).encode())
        if request.method == "POST" and path.endswith("/labels"):
            labels = [{"name": name} for name in json.loads(request.body)["labels"]]
            return Answer(200, {"Content-Type": "application/json"}, json.dumps(labels).encode())
        return Answer(404, {"Content-Type": "application/json"}, b'{"message": "Not Found"}')


@pytest.fixture
def pr_object(shared_fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_fixtures / "github" / "event_pull_request.json").read_text())
    return data["pull_request"]


def owner_root(remote: Remote) -> Path:
    """A folder where the bare remote is `org/gitops.git`: GitHub URLs name owner and repository."""
    root = remote.bare.parent / "github"
    (root / "org").mkdir(parents=True, exist_ok=True)
    link = root / "org" / "gitops.git"
    if not link.exists():
        link.symlink_to(remote.bare)
    return root


def _pr_project(config_file: Path, api: str) -> None:
    text = config_file.read_text().replace("      pull_request: {labels: [release, prod], draft: true}\n",
                                       f"      pull_request: {{labels: [release], api_url: '{api}'}}\n")
    config_file.write_text(text)


def test_control_github_token_reaches_git_and_the_api_of_the_same_github(
        config_file: Path, remote: Remote, pr_object: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    with serving("127.0.0.1", FakeGitHub(owner_root(remote), pr_object), snapshot_processes=True) as github:
        _pr_project(config_file, f"{github.url}/api/v3")
        monkeypatch.setenv("DEVOPS_GITOPS_REPO", f"{github.url}/org/gitops.git")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        result = set_image(config_file, env="prod")
        assert result.code == 0, result.err
        data = json.loads(result.out)
        assert data["pull_request_state"] == "opened"
        api_auth = {r.authorization for r in github.requests if r.path.startswith("/api/v3/")}
        git_auth = {r.authorization for r in github.requests if not r.path.startswith("/api/v3/")}
        assert api_auth == {f"bearer {TOKEN}"}
        assert git_auth == {basic("x-access-token", TOKEN)}
        assert not [line for line in github.cmdlines if TOKEN in line]
        assert TOKEN not in result.out + result.err


def test_github_token_goes_nowhere_when_the_api_is_on_another_host(
        config_file: Path, remote: Remote, pr_object: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The GitOps remote is on 127.0.0.1, the configured API on 127.0.0.2: the remote is not
    on that GitHub, so neither git nor the API gets the token; the branch is pushed (no
    credential needed here) and the pull request reported SKIPPED."""
    with serving("127.0.0.2", FakeGitHub(owner_root(remote), pr_object)) as api_host, \
            serving("127.0.0.1", GitBackend(owner_root(remote))) as git_host:
        _pr_project(config_file, f"{api_host.url}/api/v3")
        monkeypatch.setenv("DEVOPS_GITOPS_REPO", f"{git_host.url}/org/gitops.git")
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        result = set_image(config_file, env="prod")
        assert result.code == 0, result.err
        assert json.loads(result.out)["pull_request_state"].startswith("SKIPPED: ")
        assert api_host.requests == []
        assert git_host.requests and git_host.authorizations() == []


def test_github_api_redirect_to_another_host_carries_no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """The API answers 307 to 127.0.0.2 (as a compromised proxy might): the token is not sent
    there (requests drops Authorization across hosts; this pins that it stays so)."""
    from devops.adapters.github import GitHubClient
    from devops.errors import HttpError

    with serving("127.0.0.2") as other:
        def redirect(request: Recorded) -> Answer:
            return Answer(307, {"Location": other.url + request.path})

        with serving("127.0.0.1", redirect) as api:
            client = GitHubClient(f"{api.url}/api/v3", TOKEN)
            with pytest.raises(HttpError):
                client.find_open_pull("o", "r", "b")
            assert api.authorizations() == [f"bearer {TOKEN}"]  # control: the API host got it
    assert other.requests and other.authorizations() == []


@pytest.mark.parametrize(("remote_url", "api", "github"), [
    ("https://github.com/o/r.git", "https://api.github.com", True),
    ("git@github.com:o/r.git", "https://api.github.com", True),
    ("https://ghe.corp/o/r.git", "https://ghe.corp/api/v3", True),
    ("https://github.com/o/r.git", "https://ghe.corp/api/v3", False),  # a GHES token to github.com: no
    ("https://ghe.corp/o/r.git", "https://api.github.com", False),
    ("https://github.com.evil.example/o/r.git", "https://api.github.com", False),
    ("https://github.com:8443/o/r.git", "https://api.github.com", False),
    ("http://github.com/o/r.git", "https://api.github.com", False),
    ("http://127.0.0.1:8080/o/r.git", "http://127.0.0.1:8080/api/v3", True),
    ("http://127.0.0.1:8081/o/r.git", "http://127.0.0.1:8080/api/v3", False),
    ("file:///srv/github.com/o/r.git", "https://api.github.com", False),
])
def test_one_rule_for_the_github_host(remote_url: str, api: str, github: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    from devops.adapters.github import is_github_remote, repository_of

    monkeypatch.delenv("GIT_CONFIG_COUNT", raising=False)
    assert is_github_remote(remote_url, api) is github
    assert (repository_of(remote_url, api) is not None) is github
    env, _ = auth_env(remote_url, TOKEN, api)
    assert bool(env) is (github and "://" in remote_url and remote_url.startswith("http"))


@pytest.mark.parametrize("api", ["http://api.github.example", "ftp://ghe.corp/api", "https://u:p@ghe.corp/api/v3",
                                 "https://ghe.corp/api/v3?x=1"])
def test_api_url_must_be_https_except_loopback(config_file: Path, remote: Remote, api: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    _pr_project(config_file, api)
    result = run_cli("--config", str(config_file), "config", "validate")
    assert result.code == 2
    assert "pull_request.api_url" in result.err and "p@ghe" not in result.err
    monkeypatch.setenv("GITHUB_API_URL", api)
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", str(remote.bare))
    config_file.write_text(config_file.read_text().replace(f", api_url: '{api}'", ""))
    assert run_cli("--config", str(config_file), "config", "validate").code == 0  # the env is read when used
    before = remote.tip()
    result = set_image(config_file, env="prod")
    assert result.code == 2 and "$GITHUB_API_URL" in result.err, result.err
    assert remote.branches() == ["main"] and remote.tip() == before  # refused before any clone or push


def test_control_loopback_http_api_url_is_accepted(config_file: Path) -> None:
    _pr_project(config_file, "http://127.0.0.1:8080/api/v3")
    assert run_cli("--config", str(config_file), "config", "validate").code == 0
