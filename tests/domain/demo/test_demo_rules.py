"""The demo's rules: the steps, what each step sees, how its output becomes the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devops.domain import demo
from devops.domain.demo import DemoResult, DemoState, Layout, Step


def test_the_steps_in_order_and_only_the_cost_steps_reach_aws() -> None:
    assert [s.name for s in demo.STEPS] == ["config validate", "plan", "build --push", "scan", "release dev",
                                            "verify dev", "attest dev", "release prod", "status", "cost schedule",
                                            "cost report"]
    assert [s.name for s in demo.STEPS if s.aws] == ["cost schedule", "cost report"]
    assert [s.name for s in demo.STEPS if s.json_mode] == ["build --push"]


def test_a_step_never_sees_the_users_tokens_or_ci() -> None:
    caller = {"PATH": "/bin", "HOME": "/home/u", "SONAR_TOKEN": "s", "DOCKERHUB_TOKEN": "d", "GITHUB_TOKEN": "g",
              "AWS_PROFILE": "prod", "DEVOPS_GITOPS_REPO": "x", "TRIVY_CACHE_DIR": "/c", "PROMETHEUS_TOKEN": "p",
              "CI": "true"}
    env = demo.step_environment(caller, {})
    assert env == {"PATH": "/bin", "HOME": "/home/u", "GIT_AUTHOR_NAME": "devops demo",
                   "GIT_AUTHOR_EMAIL": "demo@devops.local", "GIT_COMMITTER_NAME": "devops demo",
                   "GIT_COMMITTER_EMAIL": "demo@devops.local", "PYTHONUNBUFFERED": "1"}


def test_a_step_keeps_the_users_git_identity_and_gets_the_build_args_and_extras() -> None:
    env = demo.step_environment({"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@x"},
                                {"NODE_IMAGE": "n:1", "DEBIAN_IMAGE": "d:12"}, demo.aws_env("http://127.0.0.1:9"))
    assert (env["GIT_COMMITTER_NAME"], env["GIT_COMMITTER_EMAIL"]) == ("Ada", "ada@x")
    assert env["DEVOPS_BUILD_ARGS"] == "NODE_IMAGE=n:1 DEBIAN_IMAGE=d:12"
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9" and env["AWS_ACCESS_KEY_ID"] == "demo"


def test_build_args() -> None:
    assert demo.parse_build_args("NODE_IMAGE=n:1\nDEBIAN_IMAGE=a=b  junk\n") == {"NODE_IMAGE": "n:1",
                                                                                "DEBIAN_IMAGE": "a=b"}
    assert demo.parse_build_args("") == {}


def test_built_services_from_the_build_json() -> None:
    out = {"services": [{"service": "cart", "status": "built"}, {"service": "order", "status": "cached"},
                        {"nested": [{"service": "product", "status": "built"}, {"service": 5, "status": "built"}]}]}
    assert demo.built_services(json.dumps(out)) == ["cart", "product"]
    assert demo.built_services("[]") == []
    assert demo.built_services("not json") is None
    assert demo.build_detail(["cart"]) == "built: cart"
    assert demo.build_detail([]) == "nothing rebuilt (registry has every digest)"


def test_details() -> None:
    assert demo.commits_detail(2) == "2 new GitOps commit(s)"
    assert demo.commits_detail(0) == "nothing to change (no GitOps commit)"
    assert demo.failure_detail(1, "out\nlast out", "") == "last out"
    assert demo.failure_detail(3, "out", "err\ndevops: error: x") == "devops: error: x"
    assert demo.failure_detail(7, "", "") == "exited 7"
    assert len(demo.failure_detail(1, "", "e" * 500)) == 300


def test_unverified_services_are_those_without_a_passed_verification_of_their_digest() -> None:
    record = {"services": {
        "cart": {"digest": "sha256:a", "verification": {"verdict": "PASSED", "digest": "sha256:a"}},
        "order": {"digest": "sha256:b", "verification": {"verdict": "PASSED", "digest": "sha256:old"}},
        "product": {"digest": "sha256:c", "verification": {"verdict": "FAILED"}},
        "frontend": {"digest": "sha256:d"},
        "legacy": {"digest": "sha256:e", "verification": {"verdict": "PASSED"}},   # no digest: the entry's
    }}
    assert demo.unverified(record) == ["frontend", "order", "product"]
    assert demo.unverified({}) == []


def test_records_become_digests_and_devs_verdicts() -> None:
    result = DemoResult(Path("/w"), Path("/w/gitops.git"), "127.0.0.1:5000")
    demo.summarize_records(result, {
        "dev": {"services": {"cart": {"digest": "sha256:a", "verification": {"verdict": "PASSED"}},
                             "order": {"digest": None}}},
        "prod": {"services": {"cart": {"digest": "sha256:a"}}},
    })
    assert result.digests == {"cart": {"dev": "sha256:a", "prod": "sha256:a"}, "order": {"dev": ""}}
    assert result.verification == {"cart": "PASSED", "order": "none"}


def test_the_exit_code_is_the_first_failed_steps() -> None:
    result = DemoResult(Path("/w"), Path("/w/g"), "r")
    assert result.exit_code == 0
    result.steps = [Step("a", [], 0, verdict="PASSED"), Step("b", [], 3, verdict="FAILED"),
                    Step("c", [], 1, verdict="FAILED")]
    assert result.exit_code == 3
    result.steps[1].code = None   # failed without a code of its own: still a failure
    assert result.exit_code == 1


def test_layout_and_names() -> None:
    layout = Layout("abcd1234", demo.network_name("abcd1234"), {"cart": 4321})
    assert layout.network == "devops-demo-abcd1234"
    assert layout.container("cart") == "devops-demo-abcd1234-cart"
    assert layout.url("cart") == "http://127.0.0.1:4321"
    assert demo.run_id("/work/demo") == demo.run_id("/work/demo") != demo.run_id("/work/other")
    assert len(demo.run_id("/x")) == 8


def test_the_state_file_round_trips_and_anything_else_is_no_state() -> None:
    state = DemoState("abcd1234", "devops-demo-abcd1234", {"moto": 11, "prometheus": 12})
    assert DemoState.loads(state.dumps()) == state


@pytest.mark.parametrize("text", ["", "{", "[]", '{"run_id": "x"}', '{"run_id": "x", "network": "n", "pids": 5}',
                                  '{"run_id": "x", "network": "n", "pids": {"moto": "not a pid"}}'])
def test_a_damaged_state_file_is_no_state(text: str) -> None:
    assert DemoState.loads(text) is None
