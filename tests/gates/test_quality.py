"""`devops quality`: the pysonar command built from the config and the GitHub environment.

SonarCloud cannot be reached here: the command line and environment are checked, the real
pysonar is run against an address where nothing listens (it must fail, exit 3, without
leaking the token), and without SONAR_TOKEN the analysis is reported SKIPPED.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import responses

SONAR = """\
  sonar:
    organization: techitfactory
    host_url: {host}
"""


def _arg(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.fixture
def sonar_project(project):  # type: ignore[no-untyped-def]
    project.write_config(SONAR.format(host="https://sonarcloud.io"))
    return project


def test_pull_request_keys_from_the_event(sonar_project, run_cli, monkeypatch, shared_fixtures) -> None:  # type: ignore[no-untyped-def]
    event = shared_fixtures / "github" / "event_pull_request.json"
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    result = run_cli("--config", str(sonar_project.config), "quality", "app", "--dry-run", "--json")
    assert result.code == 0, result.err
    data = result.json()
    args = data["command"]
    payload = json.loads(event.read_text())["pull_request"]
    assert data["mode"] == "pull-request"
    assert _arg(args, "--sonar-pullrequest-key") == "15"
    assert _arg(args, "--sonar-pullrequest-branch") == payload["head"]["ref"]
    assert _arg(args, "--sonar-pullrequest-base") == payload["base"]["ref"] == "master"
    assert _arg(args, "--sonar-scm-revision") == payload["head"]["sha"]
    assert _arg(args, "--sonar-organization") == "techitfactory"
    assert _arg(args, "--sonar-project-key") == "techitfactory_gates-test_app"
    assert _arg(args, "--sonar-project-base-dir") == str(sonar_project.root / "services" / "app")
    assert "--sonar-branch-name" not in args
    assert data["report_task"] == str(
        sonar_project.root / ".devops" / "sonar" / "services" / "app" / "report-task.txt"
    )
    assert _arg(args, "--sonar-scanner-metadata-filepath") == data["report_task"]


def test_branch_push(sonar_project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_EVENT_NAME", "push")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    monkeypatch.setenv("GITHUB_REF_TYPE", "branch")
    result = run_cli("--config", str(sonar_project.config), "quality", "--dry-run", "--json")
    data = result.json()
    assert data["mode"] == "branch" and _arg(data["command"], "--sonar-branch-name") == "main"
    assert _arg(data["command"], "--sonar-project-key") == "techitfactory_gates-test"


def test_service_key_override(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    project.write_config(
        SONAR.format(host="https://sonarcloud.io")
        + "  services:\n    app:\n      sonar_project_key: acme_app\n"
    )
    result = run_cli("--config", str(project.config), "quality", "app", "--dry-run", "--json")
    assert _arg(result.json()["command"], "--sonar-project-key") == "acme_app"


def test_shallow_history_warns_about_fetch_depth(sonar_project, run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def git(*args: str, cwd: Path) -> None:
        subprocess.run(
            ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            cwd=cwd,
            check=True,
            capture_output=True,
        )

    git("init", "-q", "-b", "main", cwd=sonar_project.root)
    git("add", "-A", cwd=sonar_project.root)
    git("commit", "-q", "-m", "one", cwd=sonar_project.root)
    git("commit", "-q", "--allow-empty", "-m", "two", cwd=sonar_project.root)
    clone = tmp_path / "shallow"
    git("clone", "-q", "--depth", "1", f"file://{sonar_project.root}", str(clone), cwd=tmp_path)
    result = run_cli("--config", str(clone / "pipelines" / "devops.yaml"), "quality", "--dry-run", "--json")
    assert result.code == 0
    assert "the git history is shallow" in result.err and "fetch-depth: 0" in result.err
    full = run_cli("--config", str(sonar_project.config), "quality", "--dry-run", "--json")
    assert "history is shallow" not in full.err


def test_without_token_the_analysis_is_skipped(sonar_project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SONAR_TOKEN", raising=False)
    result = run_cli("--config", str(sonar_project.config), "quality", "--json")
    assert result.code == 0
    assert result.json()["status"] == "SKIPPED"
    assert "Sonar reported as SKIPPED (not configured: $SONAR_TOKEN is unset)" in result.err


def test_real_scanner_that_cannot_reach_the_server_is_exit_3(project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The real pysonar, pointed at a port where nothing listens: it fails, devops says so."""
    import shutil

    if not shutil.which("pysonar"):
        pytest.fail("pysonar not installed: pip install -e .[test]")
    project.write_config(SONAR.format(host="http://127.0.0.1:9") + "    scanner_timeout_seconds: 120\n")
    secret = "sqp_do_not_print_me_0123456789"
    monkeypatch.setenv("SONAR_TOKEN", secret)
    result = run_cli("--config", str(project.config), "quality", "app")
    assert result.code == 3
    line = result.err.strip().splitlines()[-1]
    assert line.startswith("devops: error: pysonar --sonar-host-url http://127.0.0.1:9 ")
    assert "exited 1" in line
    assert secret not in result.err and secret not in result.out


@responses.activate
def test_scanner_then_gate(project, run_cli, monkeypatch, fake_bin, shared_fixtures) -> None:  # type: ignore[no-untyped-def]
    """A stand-in pysonar (first on PATH) writes report-task.txt as the real one does; the gate
    then reads the recorded Sonar answers. The token reaches the scanner only by environment."""
    project.write_config(
        SONAR.format(host="https://sonarcloud.io")
        + "    poll_initial_seconds: 0.01\n    poll_max_seconds: 0.01\n    http_backoff_seconds: 0\n"
    )
    secret = "sqp_env_only_0123456789"
    monkeypatch.setenv("SONAR_TOKEN", secret)
    seen = project.root / "scanner-call.json"
    fake_bin(
        "pysonar",
        f"""
import json, os, sys
json.dump({{"argv": sys.argv[1:], "token": os.environ.get("SONAR_TOKEN"), "cwd": os.getcwd()}},
          open({str(seen)!r}, "w"))
# Where the real scanner writes it: sonar.scanner.metadataFilepath when given.
target = sys.argv[sys.argv.index("--sonar-scanner-metadata-filepath") + 1]
open(target, "w").write('''organization=techitfactory
projectKey=techitfactory_gates-test_app
serverUrl=https://sonarcloud.io
dashboardUrl=https://sonarcloud.io/dashboard?id=techitfactory_gates-test_app
ceTaskId=AYhSC2-LY0CHkWJxvNA9
ceTaskUrl=https://sonarcloud.io/api/ce/task?id=AYhSC2-LY0CHkWJxvNA9
''')
""",
    )
    stale = project.root / ".devops" / "sonar" / "services" / "app"
    stale.mkdir(parents=True)
    (stale / "report-task.txt").write_text("serverUrl=https://sonarcloud.io\nceTaskId=OLD\n")
    # What a pull request could commit where the scanner used to write: never read.
    planted = project.root / "services" / "app" / ".scannerwork"
    planted.mkdir(parents=True)
    (planted / "report-task.txt").write_text("serverUrl=https://sonarcloud.io\nceTaskId=PLANTED\n")
    task = json.loads((shared_fixtures / "sonar" / "ce-task.json").read_text())
    task["task"]["componentKey"] = "techitfactory_gates-test_app"  # the project this run analysed
    gate = json.loads((shared_fixtures / "sonar" / "qualitygate-project-status.json").read_text())
    gate["projectStatus"]["status"] = "OK"
    responses.get("https://sonarcloud.io/api/ce/task", json=task)
    responses.get("https://sonarcloud.io/api/qualitygates/project_status", json=gate)
    result = run_cli("--config", str(project.config), "quality", "app", "--json")
    assert result.code == 0, result.err
    assert result.json()["status"] == "OK"
    call = json.loads(seen.read_text())
    assert call["token"] == secret and secret not in " ".join(call["argv"])
    assert call["cwd"] == str(project.root / "services" / "app")
    assert responses.calls[0].request.params == {"id": "AYhSC2-LY0CHkWJxvNA9"}  # the new task, not OLD
