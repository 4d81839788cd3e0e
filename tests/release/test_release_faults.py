"""Release faults and refusals: a failing Sonar gate (recorded SonarCloud answers, since
SonarCloud cannot be reached from here), two releases racing from two processes, prod's
pull-request mode without GitHub, dry runs, and bad input. Real Docker, registry, Trivy, git."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import responses

from tests.release.conftest import SERVICES, Shop
from tests.release.test_release import registry_digest, release, values_digest
from tests.support.cli import run_cli
from tests.support.project import git

pytestmark = pytest.mark.docker
SERVER = "https://sonarcloud.io"
TASK_ID = "AYhSC2-LY0CHkWJxvNA9"
REPORT_TASK = f"""organization=techitfactory
projectKey=testshop
serverUrl={SERVER}
dashboardUrl={SERVER}/dashboard?id=testshop
ceTaskId={TASK_ID}
ceTaskUrl={SERVER}/api/ce/task?id={TASK_ID}
"""


def test_a_failing_sonar_gate_stops_the_release_before_any_push(
        shop: Shop, shared_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers are ../shared/fixtures/sonar's documented examples: the task SUCCESS, the gate ERROR."""
    (shop.root / ".scannerwork").mkdir()
    (shop.root / ".scannerwork" / "report-task.txt").write_text(REPORT_TASK)
    shop.config(extra="  sonar: {poll_initial_seconds: 0.01, poll_max_seconds: 0.02, timeout_seconds: 5}\n")
    monkeypatch.setenv("SONAR_TOKEN", "sqp_secret")
    task = json.loads((shared_fixtures / "sonar" / "ce-task.json").read_text())
    task["task"]["status"] = "SUCCESS"
    gate = copy.deepcopy(json.loads((shared_fixtures / "sonar" / "qualitygate-project-status.json").read_text()))
    assert gate["projectStatus"]["status"] == "ERROR"
    before = shop.commits()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(f"http://{shop.registry}")
        mock.get(f"{SERVER}/api/ce/task", json=task)
        mock.get(f"{SERVER}/api/qualitygates/project_status", json=gate)
        outcome = release(shop, "--env", "dev")
    assert outcome.code == 1, outcome.err
    assert "Sonar quality gate ERROR" in outcome.err and "nothing pushed" in outcome.err
    assert shop.commits() == before
    tags = requests.get(f"http://{shop.registry}/v2/{shop.namespace}/alpha/tags/list", timeout=10)
    assert tags.status_code == 404 or not tags.json().get("tags")


def test_two_releases_racing_from_two_processes_both_land(shop: Shop) -> None:
    """Each process releases one service at the same moment; compare-and-swap keeps both."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    procs = [subprocess.Popen([sys.executable, "-m", "devops", "--json", "release", "--env", "dev", service],
                              cwd=shop.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for service in SERVICES]
    results = [p.communicate(timeout=600) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
    record = shop.record("dev")
    assert set(record["services"]) == set(SERVICES), "neither release was lost"
    for service in SERVICES:
        assert values_digest(shop, "dev", service) == record["services"][service]["digest"]
    history = git(shop.remote, "log", "--format=%s", "main").splitlines()
    assert sum(1 for line in history if line.startswith("release(dev)")) == 2
    parents = git(shop.remote, "log", "--format=%P", "main").splitlines()
    assert all(len(p.split()) <= 1 for p in parents), "linear history: no merge commits"


def test_prod_in_pull_request_mode_without_github_pushes_a_branch_and_reports_the_pr_skipped(shop: Shop) -> None:
    shop.config()
    config = (shop.root / "pipelines" / "devops.yaml").read_text()
    (shop.root / "pipelines" / "devops.yaml").write_text(
        config.replace("path: gitops/environments/prod, mode: commit", "path: gitops/environments/prod, "
                       "mode: pull-request"))
    assert release(shop, "--env", "dev").code == 0
    main_before = shop.commits()
    outcome = release(shop, "--env", "prod")
    assert outcome.code == 0, outcome.err
    gitops = outcome.json()["gitops"]  # type: ignore[index]
    assert gitops["outcome"] == "pull-request"
    assert gitops["pull_request_state"].startswith("SKIPPED")
    assert shop.commits() == main_before, "prod's branch is untouched until the pull request merges"
    branch = gitops["branch"]
    text = git(shop.remote, "show", f"{branch}:gitops/environments/prod/values/alpha.yaml")
    assert shop.record("dev")["services"]["alpha"]["digest"] in text
    again = release(shop, "--env", "prod")
    assert again.code == 0, again.err
    assert again.json()["gitops"]["branch"] == branch, "the same change reuses the same branch"  # type: ignore[index]


def test_dev_dry_run_builds_and_writes_nothing(shop: Shop) -> None:
    before = shop.commits()
    outcome = release(shop, "--env", "dev", "--dry-run")
    assert outcome.code == 0, outcome.err
    assert {s["status"] for s in outcome.json()["services"]} == {"would-release"}  # type: ignore[index]
    assert shop.commits() == before
    assert registry_digest(shop, "alpha", "latest") is None


@pytest.mark.parametrize(("args", "message"), [
    (("--env", "staging"), "unknown environment 'staging'"),
    (("--env", "dev", "gamma"), "unknown service 'gamma'"),
    (("--env", "dev", "--services", "alpha,gama"), "unknown service 'gama'"),
])
def test_bad_input_is_exit_2_with_one_line(shop: Shop, args: tuple[str, ...], message: str) -> None:
    outcome = run_cli("release", *args, cwd=shop.root)
    assert outcome.code == 2, outcome.err
    assert message in outcome.err
    assert len(outcome.err.strip().splitlines()) <= 2


def test_rollback_to_an_unknown_release_is_exit_2(shop: Shop) -> None:
    assert release(shop, "--env", "dev").code == 0
    outcome = run_cli("rollback", "--env", "dev", "--to", "deadbeef", cwd=shop.root)
    assert outcome.code == 2 and "not a release of dev" in outcome.err, outcome.err
    too_far = run_cli("rollback", "--env", "dev", "--to", "~9", cwd=shop.root)
    assert too_far.code == 2 and "earlier release" in too_far.err, too_far.err
    listed = run_cli("--json", "rollback", "--env", "dev", "--list", cwd=shop.root)
    assert listed.code == 0
    assert listed.json()["releases"][0]["subject"].startswith("release(dev)")  # type: ignore[index]
