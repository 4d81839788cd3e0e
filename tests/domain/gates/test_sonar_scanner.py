"""The Sonar scanner's command line: keys, branch or pull request, and pinned properties."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.gates.sonar import SonarPolicy
from devops.domain.gates.sonar_scanner import check_scanner_args, plan_scanner, project_key, scanner_server_args
from devops.errors import BadInput

CLOUD = SonarPolicy(organization="acme")


def test_project_keys() -> None:
    assert project_key(CLOUD, "shop", None, None) == "acme_shop"
    assert project_key(CLOUD, "shop", "cart", None) == "acme_shop_cart"
    assert project_key(CLOUD, "shop", "cart", "own-key") == "own-key"
    assert project_key(SonarPolicy(project_key="base"), "shop", "cart", None) == "base_cart"
    assert project_key(SonarPolicy(), "shop", None, None) == "shop"


def _plan(policy: SonarPolicy = CLOUD, environ: dict[str, str] | None = None, event: object = None,
          shallow: bool | None = False, extra: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return plan_scanner(executable="pysonar", settings=policy, key="acme_shop", source_dir=Path("/src"),
                        environ=environ or {}, event=event, shallow=shallow,  # type: ignore[arg-type]
                        report_task=Path("/src/.devops/sonar/repository/report-task.txt"), extra=extra)


def test_a_local_run_pins_server_key_and_where_the_result_goes() -> None:
    plan = _plan()
    args = list(plan.args)
    assert plan.mode == "local" and plan.notes == () and plan.cwd == Path("/src")
    assert args[args.index("--sonar-host-url") + 1] == "https://sonarcloud.io"
    assert args[args.index("--sonar-scanner-api-url") + 1] == "https://api.sonarcloud.io"
    assert args[args.index("--sonar-organization") + 1] == "acme"
    assert args[args.index("--sonar-scanner-metadata-filepath") + 1] == str(plan.report_task)
    assert "--sonar-organization" not in _plan(SonarPolicy(host_url="https://sonar.example.com")).args


def test_branch_and_pull_request_come_from_github() -> None:
    branch = _plan(environ={"GITHUB_REF_NAME": "main", "GITHUB_REF_TYPE": "branch"})
    assert branch.mode == "branch" and branch.args[-2:] == ("--sonar-branch-name", "main")
    assert _plan(environ={"GITHUB_REF_NAME": "v1.0.0", "GITHUB_REF_TYPE": "tag"}).mode == "local"
    event = {"pull_request": {"number": 7, "head": {"ref": "feature", "sha": "abc"}, "base": {"ref": "main"}}}
    pull = _plan(environ={"GITHUB_EVENT_NAME": "pull_request_target"}, event=event)
    assert pull.mode == "pull-request"
    args = list(pull.args)
    assert args[args.index("--sonar-pullrequest-key") + 1] == "7"
    assert args[args.index("--sonar-scm-revision") + 1] == "abc"
    no_sha = _plan(environ={"GITHUB_EVENT_NAME": "pull_request"}, event={"pull_request": {"number": 8}})
    assert "--sonar-scm-revision" not in no_sha.args and no_sha.mode == "pull-request"
    # a push event's payload, or a pull request without a number, is not a pull request analysis
    assert _plan(environ={"GITHUB_EVENT_NAME": "push"}, event=event).mode == "local"
    assert _plan(environ={"GITHUB_EVENT_NAME": "pull_request"}, event={"pull_request": {}}).mode == "local"


def test_a_shallow_clone_is_noted_and_extra_arguments_come_last() -> None:
    plan = _plan(shallow=True, extra=("-Dsonar.exclusions=**/*.test.js",))
    assert "fetch-depth: 0" in plan.notes[0] and plan.args[-1] == "-Dsonar.exclusions=**/*.test.js"


def test_self_hosted_servers_get_their_own_api_url() -> None:
    assert scanner_server_args("https://sonar.example.com") == ["--sonar-scanner-api-url",
                                                                "https://sonar.example.com/api/v2"]


@pytest.mark.parametrize("arg", ["-Dsonar.host.url=https://evil", "--sonar-host-url=https://evil", "--sonar-host",
                                 "-t", "-tsecret", "--token", "-Dsonar.scanner.metadataFilePath=/tmp/x",
                                 "--sonar-scanner-api-base-url=x", "--so"])
def test_arguments_that_would_move_the_token_or_the_result_are_refused(arg: str) -> None:
    with pytest.raises(BadInput, match="set by devops from gates.sonar.host_url"):
        check_scanner_args([arg])


def test_control_other_arguments_pass() -> None:
    assert check_scanner_args(["-Dsonar.exclusions=**/*.js", "--sonar-verbose", "--"]) is None  # no BadInput
