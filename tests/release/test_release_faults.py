"""Release faults and refusals: a failing Sonar gate (recorded SonarCloud answers, since
SonarCloud cannot be reached from here), two releases racing from two processes, prod's
pull-request mode without GitHub, dry runs, and bad input. Real Docker, registry, Trivy, git."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import responses

from tests.release.conftest import SERVICES, Shop
from tests.release.test_release import local_images, registry_tags, release, values_digest
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


def test_a_failing_sonar_gate_keeps_every_image_out_of_the_registry(
        shop: Shop, shared_fixtures: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answers are ../shared/fixtures/sonar's documented examples: the task SUCCESS, the gate ERROR."""
    written = shop.root / ".devops" / "sonar" / "repository"  # where `devops quality` writes it
    written.mkdir(parents=True)
    (written / "report-task.txt").write_text(REPORT_TASK)
    # project_key: the project of the recorded ce-task.json (a task of another project is refused).
    shop.config(extra="  sonar: {project_key: sonarsource_test_AYhCAUXoEy1XQQcbVndf, poll_initial_seconds: 0.01, "
                      "poll_max_seconds: 0.02, timeout_seconds: 5}\n")
    monkeypatch.setenv("SONAR_TOKEN", "sqp_secret")
    task = json.loads((shared_fixtures / "sonar" / "ce-task.json").read_text())
    task["task"]["status"] = "SUCCESS"
    gate = copy.deepcopy(json.loads((shared_fixtures / "sonar" / "qualitygate-project-status.json").read_text()))
    assert gate["projectStatus"]["status"] == "ERROR"
    before = shop.commits()
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        mock.add_passthru(f"http://{shop.registry}")
        mock.add_passthru("http://localhost:5000")  # the stand-in bases, resolved for the build identity
        mock.get(f"{SERVER}/api/ce/task", json=task)
        mock.get(f"{SERVER}/api/qualitygates/project_status", json=gate)
        outcome = release(shop, "--env", "dev")
    assert outcome.code == 1, outcome.err
    assert "Sonar quality gate ERROR" in outcome.err and "release to dev stopped, nothing released" in outcome.err
    assert "no image was pushed" in outcome.err  # Sonar refuses both: neither image reaches the registry
    assert shop.commits() == before
    assert registry_tags(shop, "alpha") == registry_tags(shop, "beta") == [], "no image reached the registry"


def test_two_releases_racing_from_two_processes_both_land(shop: Shop) -> None:
    """Each process releases one service, started at the same moment; both must land. Whether
    their pushes collide depends on timing here; tests/gitops/test_publish.py forces the
    collision with a hook that holds both pushes, and checks the retry."""
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
    assert registry_tags(shop, "alpha") == [] and local_images(shop) == [], "nothing built or pushed"


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


def test_a_scan_that_cannot_run_is_exit_3_and_nothing_is_pushed(shop: Shop, tmp_path: Path) -> None:
    """Trivy offline with no vulnerability DB: the gate cannot be evaluated, so it does not pass."""
    empty = tmp_path / "no-db"
    empty.mkdir()
    shop.config(trivy_cache=empty)
    before = shop.commits()
    outcome = release(shop, "--env", "dev")
    assert outcome.code == 3, outcome.err
    assert "vulnerability DB" in outcome.err
    assert shop.commits() == before
    assert registry_tags(shop, "alpha") == registry_tags(shop, "beta") == []


def test_a_protected_branch_refusal_is_exit_3_naming_the_remote_and_not_retried(shop: Shop) -> None:
    hook = shop.remote / "hooks" / "pre-receive"
    counter = shop.remote / "pushes"
    hook.write_text(f"#!/bin/sh\necho x >> {counter}\n"
                    "echo 'remote: error: GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n")
    hook.chmod(0o755)
    outcome = release(shop, "--env", "dev")
    assert outcome.code == 3, outcome.err
    assert "main" in outcome.err and str(shop.remote.name) in outcome.err
    assert len(counter.read_text().splitlines()) == 1, "a refusal is not retried"
    assert shop.record("dev")["services"] == {}


def test_a_release_killed_mid_build_writes_nothing_and_the_next_one_lands(shop: Shop, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    # A temporary folder of its own, to see the GitOps clone the killed run leaves behind.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "TMPDIR": str(scratch)}
    before = shop.commits()
    proc = subprocess.Popen([sys.executable, "-m", "devops", "release", "--env", "dev"], cwd=shop.root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # plain progress lines, as they happen (stdout is line-buffered in a pipe)
        seen.append(line)
        if "building" in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "killed while building, before it could finish"
    assert shop.commits() == before, "a killed release leaves the GitOps repository as it was"
    assert registry_tags(shop, "alpha") == registry_tags(shop, "beta") == []
    left = list(scratch.glob("devops-gitops-*"))
    assert len(left) == 1, "SIGKILL gives the run no chance to remove its clone"
    monkeypatch.setattr("tempfile.tempdir", str(scratch))  # the next run (in this process) uses it too
    again = release(shop, "--env", "dev")
    assert again.code == 0, again.err
    assert set(shop.record("dev")["services"]) == set(SERVICES)
    assert not left[0].exists(), "the next run removes the clone of the killed one"
    assert list(scratch.glob("devops-gitops-*")) == [], "and its own when it ends"
