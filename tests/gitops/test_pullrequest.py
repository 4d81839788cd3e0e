"""Pull-request mode with real git (bare remote) and the GitHub REST API through recorded answers.

GitHub cannot be reached from here: its answers are served by `responses`, shaped exactly like
the real API. The pull-request object is the real one from `../shared/fixtures/github/
event_pull_request.json` (a GitHub `pull_request` payload, the same object `GET/POST .../pulls`
return) with number, head, base, title, body and labels set for this test; the error bodies are
GitHub's documented ones (`message`, `errors`, `documentation_url`).
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from devops.adapters.github import GitHubClient, api_url, repository_of
from devops.app.gitops_pull_request import branch_name
from devops.config import Config, load_config
from devops.domain.gitops.change import ChangeSet, ImageUpdate
from devops.errors import ExitCode, HttpError
from devops.report.gitops import evidence_body
from tests.domain.gitops.test_record import full_record
from tests.gitops.conftest import DIGEST_A, DIGEST_B, SOURCE, Remote, git, open_repo

API = "https://api.github.com"
GITHUB_URL = "https://github.com/techitfactory/techitfactory-gitops.git"
PULLS = f"{API}/repos/techitfactory/techitfactory-gitops/pulls"
ALPHA = ImageUpdate("alpha", "docker.io/test/alpha", "sha-aaaaaaa", DIGEST_A)
BETA = ImageUpdate("beta", "docker.io/test/beta", "sha-bbbbbbb", DIGEST_B)


def prod_change(*updates: ImageUpdate) -> ChangeSet:
    record = full_record(**{u.service: u.digest for u in updates})
    record["environment"] = "prod"
    record["promoted_from"] = {"environment": "dev", "gitops_commit": "f" * 40}
    return ChangeSet("prod", updates, record=record, source_commit=SOURCE, action="promote")


@pytest.fixture
def pr_payload(shared_fixtures: Path) -> dict[str, Any]:
    event = json.loads((shared_fixtures / "github" / "event_pull_request.json").read_text())
    return event["pull_request"]


class RecordedGitHub:
    """GitHub's pulls endpoints as recorded answers, remembering what was opened."""

    def __init__(self, template: dict[str, Any], mock: responses.RequestsMock) -> None:
        self.template = template
        self.open: list[dict[str, Any]] = []
        self.created = 0
        mock.add_callback(responses.GET, PULLS, callback=self.list)
        mock.add_callback(responses.POST, PULLS, callback=self.create)
        mock.add_callback(responses.PATCH, f"{PULLS}/42", callback=self.update)
        mock.add_callback(responses.POST, f"{API}/repos/techitfactory/techitfactory-gitops/issues/42/labels",
                          callback=self.label)

    def list(self, request: Any) -> tuple[int, dict[str, str], str]:
        from urllib.parse import parse_qs, urlparse

        query = parse_qs(urlparse(request.url).query)
        assert query["state"] == ["open"]
        owner, _, branch = query["head"][0].partition(":")
        found = [pr for pr in self.open if pr["head"]["ref"] == branch and owner == "techitfactory"]
        return 200, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(found)

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        body = json.loads(request.body)
        assert request.headers["Authorization"] == "Bearer ghs_recorded"
        assert request.headers["Accept"] == "application/vnd.github+json"
        if any(pr["head"]["ref"] == body["head"] for pr in self.open):
            return 422, {}, json.dumps({
                "message": "Validation Failed",
                "errors": [{"resource": "PullRequest", "code": "custom",
                            "message": f"A pull request already exists for techitfactory:{body['head']}."}],
                "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                "status": "422"})
        pr = copy.deepcopy(self.template)
        pr.update(number=42, title=body["title"], body=body["body"], draft=body["draft"], state="open", labels=[],
                  html_url="https://github.com/techitfactory/techitfactory-gitops/pull/42",
                  url=f"{PULLS}/42")
        pr["head"].update(ref=body["head"], label=f"techitfactory:{body['head']}")
        pr["base"].update(ref=body["base"], label=f"techitfactory:{body['base']}")
        self.open.append(pr)
        self.created += 1
        return 201, {"Location": pr["url"]}, json.dumps(pr)

    def update(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.open[0].update(json.loads(request.body))
        return 200, {}, json.dumps(self.open[0])

    def label(self, request: Any) -> tuple[int, dict[str, str], str]:
        names = json.loads(request.body)["labels"]
        pr = self.open[0]
        for name in names:
            if name not in [label["name"] for label in pr["labels"]]:
                pr["labels"].append({"id": 208045946 + len(pr["labels"]), "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=",
                                     "url": f"{API}/repos/techitfactory/techitfactory-gitops/labels/{name}",
                                     "name": name, "description": None, "color": "f29513", "default": False})
        return 200, {}, json.dumps(pr["labels"])


@pytest.fixture
def github_remote(remote: Remote, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Config]:
    """$DEVOPS_GITOPS_REPO is a github.com URL; git's insteadOf sends it to the local bare repo."""
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", GITHUB_URL)
    monkeypatch.setenv("GIT_CONFIG_COUNT", "1")
    monkeypatch.setenv("GIT_CONFIG_KEY_0", f"url.{remote.bare.as_uri()}.insteadOf")
    monkeypatch.setenv("GIT_CONFIG_VALUE_0", GITHUB_URL)
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_recorded")
    from tests.gitops.conftest import write_project

    yield load_config(write_project(tmp_path / "shop"), environ=os.environ)


def test_branch_name_is_a_hash_of_environment_services_and_digests() -> None:
    one = branch_name("devops/release", prod_change(ALPHA, BETA))
    assert one == branch_name("devops/release", prod_change(BETA, ALPHA))
    assert one.startswith("devops/release/prod-") and len(one.rsplit("-", 1)[1]) == 12
    assert one != branch_name("devops/release", prod_change(ALPHA))


def test_pr_mode_twice_one_branch_one_pull_request(github_remote: Config, remote: Remote,
                                                   pr_payload: dict[str, Any]) -> None:
    main_before = remote.tip()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        github = RecordedGitHub(pr_payload, mock)
        with open_repo(github_remote, "prod") as repo:
            first = repo.publish(prod_change(ALPHA, BETA))
        branch = branch_name("devops/release", prod_change(ALPHA, BETA))
        assert first.outcome == "pull-request" and first.pull_request_state == "opened"
        assert first.branch == branch and first.attempts == 1
        assert first.pull_request_url == "https://github.com/techitfactory/techitfactory-gitops/pull/42"
        pushed = remote.tip(branch)
        assert first.commit == pushed and remote.tip() == main_before  # main untouched in PR mode
        assert git(remote.bare, "rev-parse", f"{branch}^").strip() == main_before
        opened = github.open[0]
        assert opened["title"] == "promote(prod): alpha sha-aaaaaaa, beta sha-bbbbbbb"
        assert opened["draft"] is True and opened["base"]["ref"] == "main"
        assert [label["name"] for label in opened["labels"]] == ["release", "prod"]
        assert f"`docker.io/test/alpha:sha-aaaaaaa@{DIGEST_A}`" in opened["body"]
        assert "PASSED (MEDIUM 3, LOW 1)" in opened["body"] and "SKIPPED: SONAR_TOKEN is not set" in opened["body"]
        assert "released by: alice via cli" in opened["body"] and "promoted from: dev" in opened["body"]

        with open_repo(github_remote, "prod") as repo:
            second = repo.publish(prod_change(ALPHA, BETA))
        assert second.pull_request_state == "reused" and second.pull_request_url == first.pull_request_url
        assert second.attempts == 0 and second.commit == pushed  # the branch had it: nothing pushed
        assert github.created == 1
        calls = [(c.request.method, c.request.url.split("?")[0]) for c in mock.calls]
        assert calls.count(("POST", PULLS)) == 1
        assert ("PATCH", f"{PULLS}/42") not in calls  # body unchanged, labels present: no writes
    assert sorted(remote.branches()) == [branch, "main"]


def test_pr_mode_without_token_pushes_the_branch_and_skips(config: Config, remote: Remote) -> None:
    with open_repo(config, "prod") as repo:
        result = repo.publish(prod_change(ALPHA))
    branch = branch_name("devops/release", prod_change(ALPHA))
    assert result.outcome == "pull-request" and result.pull_request_url is None
    assert result.pull_request_state == (f"SKIPPED: file://{remote.bare} is not a GitHub repository; "
                                         f"branch {branch} was pushed")
    assert remote.tip(branch) == result.commit


def test_pr_mode_github_remote_without_token(github_remote: Config, remote: Remote,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    with open_repo(github_remote, "prod") as repo:
        result = repo.publish(prod_change(ALPHA))
    assert result.pull_request_state is not None
    assert result.pull_request_state.startswith("SKIPPED: $GITHUB_TOKEN is not set; branch devops/release/prod-")


def test_pr_mode_noop_when_base_already_has_it(config: Config, remote: Remote) -> None:
    with open_repo(config, "prod") as repo:
        repo.publish(prod_change(ALPHA), mode="commit")
    with open_repo(config, "prod") as repo:
        result = repo.publish(prod_change(ALPHA))
    assert result.outcome == "noop" and remote.branches() == ["main"]


def test_pr_dry_run_pushes_nothing(config: Config, remote: Remote) -> None:
    with open_repo(config, "prod") as repo:
        result = repo.publish(prod_change(ALPHA), dry_run=True)
    assert result.outcome == "dry-run" and "+++ b/gitops/environments/prod/values/alpha.yaml" in result.diff
    assert remote.branches() == ["main"]


def test_evidence_body_lists_every_changed_service() -> None:
    from devops.domain.gitops.change import ServiceChange

    change = prod_change(ALPHA)
    body = evidence_body(change, (ServiceChange("alpha", "", "docker.io/test/alpha:sha-aaaaaaa@" + DIGEST_A),),
                         "c" * 40, "https://github.com/o/r.git", "main")
    assert "| alpha |" in body and f"GitOps commit: {'c' * 40}" in body and f"source commit: {SOURCE}" in body


@pytest.mark.parametrize(("url", "expected"), [
    ("https://github.com/techitfactory/gitops.git", ("techitfactory", "gitops")),
    ("https://x-access-token:abc@github.com/techitfactory/gitops", ("techitfactory", "gitops")),
    ("git@github.com:techitfactory/gitops.git", ("techitfactory", "gitops")),
    ("ssh://git@github.com/techitfactory/gitops.git", ("techitfactory", "gitops")),
    ("https://gitlab.com/techitfactory/gitops.git", None),
    ("file:///srv/gitops.git", None),
    ("https://github.com/techitfactory", None),
])
def test_repository_of(url: str, expected: tuple[str, str] | None) -> None:
    assert repository_of(url) == expected


def test_enterprise_host_and_api_url() -> None:
    assert repository_of("https://ghe.corp/o/r.git", "https://ghe.corp/api/v3") == ("o", "r")
    # $GITHUB_API_URL (read by the wiring) stands in for an unset api_url, never for a set one.
    assert api_url("https://api.github.com", False, "https://ghe.corp/api/v3") == "https://ghe.corp/api/v3"
    assert api_url("https://stand-in.example/api", True, "https://ghe.corp/api/v3") == "https://stand-in.example/api"
    assert api_url("https://api.github.com", False, None) == "https://api.github.com"


@responses.activate
def test_client_401_names_the_token_variable_not_the_token() -> None:
    responses.add(responses.GET, PULLS, status=401, json={
        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
    client = GitHubClient(API, "ghs_supersecret")
    with pytest.raises(HttpError) as caught:
        client.find_open_pull("techitfactory", "techitfactory-gitops", "b")
    assert "GitHub rejected the token in $GITHUB_TOKEN (HTTP 401: Bad credentials)" in str(caught.value)
    assert "ghs_supersecret" not in str(caught.value) and caught.value.exit_code == ExitCode.EXTERNAL


@responses.activate
def test_client_404_and_403() -> None:
    responses.add(responses.POST, PULLS, status=404, json={
        "message": "Not Found", "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        "status": "404"})
    client = GitHubClient(API, "t")
    with pytest.raises(HttpError, match=r"not found \(HTTP 404\), or the token in \$GITHUB_TOKEN cannot see it"):
        client.create_pull("techitfactory", "techitfactory-gitops", title="t", head="h", base="main", body="b")
    responses.replace(responses.POST, PULLS, status=403, json={
        "message": "Resource not accessible by integration",
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "403"})
    with pytest.raises(HttpError, match=r"may not do this \(HTTP 403: Resource not accessible by integration\)"):
        client.create_pull("techitfactory", "techitfactory-gitops", title="t", head="h", base="main", body="b")


@responses.activate
def test_client_secondary_rate_limit_is_waited_out(pr_payload: dict[str, Any]) -> None:
    limited = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
               "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
               "status": "403"}
    responses.add(responses.POST, PULLS, status=403, json=limited, headers={"Retry-After": "7"})
    created = copy.deepcopy(pr_payload)
    responses.add(responses.POST, PULLS, status=201, json=created)
    waits: list[float] = []
    client = GitHubClient(API, "t", sleep=waits.append)
    pull = client.create_pull("techitfactory", "techitfactory-gitops", title="t", head="h", base="master", body="b")
    assert waits == [7.0] and pull.number == pr_payload["number"] and pull.url == pr_payload["html_url"]


@responses.activate
def test_client_422_already_exists_returns_the_open_one(pr_payload: dict[str, Any]) -> None:
    responses.add(responses.POST, PULLS, status=422, json={
        "message": "Validation Failed",
        "errors": [{"resource": "PullRequest", "code": "custom",
                    "message": "A pull request already exists for techitfactory:test-pr."}],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422"})
    listed = copy.deepcopy(pr_payload)
    listed["head"]["ref"] = "test-pr"
    responses.add(responses.GET, PULLS, status=200, json=[listed])
    client = GitHubClient(API, "t")
    pull = client.create_pull("techitfactory", "techitfactory-gitops", title="t", head="test-pr", base="master",
                              body="b")
    assert pull.number == pr_payload["number"] and pull.head == "test-pr"


@responses.activate
def test_client_422_other_validation_error_is_reported() -> None:
    responses.add(responses.POST, PULLS, status=422, json={
        "message": "Validation Failed", "errors": [{"resource": "PullRequest", "field": "base", "code": "invalid"}],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request", "status": "422"})
    with pytest.raises(HttpError, match=r"GitHub refused it \(HTTP 422: Validation Failed; base invalid\)"):
        GitHubClient(API, "t").create_pull("techitfactory", "techitfactory-gitops", title="t", head="h",
                                           base="nope", body="b")


def test_existing_branch_missing_part_of_the_change_gets_a_fast_forward(config: Config, remote: Remote) -> None:
    branch = branch_name("devops/release", prod_change(ALPHA, BETA))
    # Someone (an earlier, interrupted run) left the branch with a reviewer's commit on it.
    git(remote.seed, "checkout", "-q", "-b", "review", "origin/main")
    (remote.seed / "gitops/environments/prod/values/NOTES.md").write_text("reviewed\n")
    git(remote.seed, "add", "-A")
    git(remote.seed, "-c", "user.name=r", "-c", "user.email=r@e", "commit", "-qm", "review note")
    git(remote.seed, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    reviewed = remote.tip(branch)
    with open_repo(config, "prod") as repo:
        result = repo.publish(prod_change(ALPHA, BETA))
    assert result.attempts == 1 and result.commit == remote.tip(branch)
    assert git(remote.bare, "rev-parse", f"{branch}^").strip() == reviewed  # on top, not forced
    assert remote.show("gitops/environments/prod/values/NOTES.md", branch) == b"reviewed\n"
    assert [c.service for c in result.changes] == ["alpha", "beta"]  # what the PR changes vs main
