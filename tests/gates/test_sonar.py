"""`devops gate sonar` against recorded SonarQube/SonarCloud answers.

SonarCloud cannot be reached from here, so the API is played back with `responses`; every
answer is the documented example from ../shared/fixtures/sonar (api/ce/task and
api/qualitygates/project_status) with only the status fields changed per scenario.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import responses

from devops.app.sonar_gate import find_report_task, read_report_task, wait_for_gate
from devops.domain.gates.sonar import ReportTask, SonarPolicy
from devops.errors import BadInput, GateUnavailable

SERVER = "https://sonarcloud.io"
TASK_ID = "AYhSC2-LY0CHkWJxvNA9"
ANALYSIS_ID = "AYhSC3WDE6ILQDIMAPIp"
TASK_URL = f"{SERVER}/api/ce/task"
GATE_URL = f"{SERVER}/api/qualitygates/project_status"
REPORT_TASK = f"""organization=techitfactory
projectKey=techitfactory_shop
serverUrl={SERVER}
serverVersion=8.0.0.46314
dashboardUrl={SERVER}/dashboard?id=techitfactory_shop
ceTaskId={TASK_ID}
ceTaskUrl={SERVER}/api/ce/task?id={TASK_ID}
"""
FAST = SonarPolicy(poll_initial_seconds=0.01, poll_max_seconds=0.02, timeout_seconds=5)


@pytest.fixture
def ce_task(shared_fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_fixtures / "sonar" / "ce-task.json").read_text())
    return data


@pytest.fixture
def gate_status(shared_fixtures: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (shared_fixtures / "sonar" / "qualitygate-project-status.json").read_text()
    )
    return data


def task_with(ce_task: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    answer = copy.deepcopy(ce_task)
    answer["task"]["status"] = status
    if status != "SUCCESS":
        answer["task"].pop("analysisId", None)
        answer["task"].pop("executedAt", None)
    answer["task"].update(extra)
    return answer


def gate_with(gate_status: dict[str, Any], status: str, *, conditions: bool = True) -> dict[str, Any]:
    answer = copy.deepcopy(gate_status)
    answer["projectStatus"]["status"] = status
    if not conditions:
        answer["projectStatus"]["conditions"] = []
    return answer


@pytest.fixture
def report_task(tmp_path: Path) -> ReportTask:
    path = tmp_path / ".scannerwork" / "report-task.txt"
    path.parent.mkdir()
    path.write_text(REPORT_TASK)
    return read_report_task(path)


def _client():  # type: ignore[no-untyped-def]
    from devops.adapters.http import RetryPolicy
    from devops.adapters.sonar import SonarClient

    return SonarClient(SERVER, "sqp_secret", policy=RetryPolicy(total=3, backoff_factor=0))


@responses.activate
def test_pending_in_progress_success_then_error_gate_lists_failing_conditions(
    report_task: ReportTask, ce_task: dict[str, Any], gate_status: dict[str, Any]
) -> None:
    for status in ("PENDING", "IN_PROGRESS", "IN_PROGRESS", "SUCCESS"):
        responses.get(
            TASK_URL,
            json=task_with(ce_task, status),
            match=[responses.matchers.query_param_matcher({"id": TASK_ID})],
        )
    responses.get(
        GATE_URL,
        json=gate_status,
        match=[responses.matchers.query_param_matcher({"analysisId": ANALYSIS_ID})],
    )
    sleeps: list[float] = []
    verdict = wait_for_gate(_client(), report_task, FAST, sleep=sleeps.append)
    assert verdict.statuses_seen == ("PENDING", "IN_PROGRESS", "SUCCESS")
    assert verdict.polls == 4 and len(sleeps) == 3
    # the one retry policy's full jitter: the n-th wait is in [0, min(max, initial * 2**n)]
    assert all(0 <= wait <= cap for wait, cap in zip(sleeps, [0.01, 0.02, 0.02], strict=True))
    assert (verdict.status, verdict.outcome, verdict.exit_code) == ("ERROR", "fail", 1)
    assert [c.metric for c in verdict.failing] == [
        "new_coverage",
        "new_blocker_violations",
        "new_critical_violations",
        "open_issues",
    ]
    message = verdict.message()
    assert "new_coverage = 82.50562381034781 (fails when < 85)" in message
    assert "open_issues = 17 (fails when > (none))" in message
    assert len(verdict.warnings) == 2
    assert responses.calls[0].request.headers["Authorization"] == "Bearer sqp_secret"


@responses.activate
def test_ok_gate_passes(
    report_task: ReportTask, ce_task: dict[str, Any], gate_status: dict[str, Any]
) -> None:
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, json=gate_with(gate_status, "OK"))
    verdict = wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)
    assert (verdict.status, verdict.outcome, verdict.exit_code) == ("OK", "pass", 0)


@responses.activate
@pytest.mark.parametrize("component", ["someone_elses_project", ""])
def test_a_task_of_another_project_is_refused_before_its_gate_is_read(
    report_task: ReportTask, ce_task: dict[str, Any], gate_status: dict[str, Any], component: str
) -> None:
    task = task_with(ce_task, "SUCCESS")
    task["task"]["componentKey"] = component
    responses.get(TASK_URL, json=task)
    responses.get(GATE_URL, json=gate_with(gate_status, "OK"))
    with pytest.raises(BadInput, match="analysed project"):
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None, expected_project="techitfactory_shop")
    assert [call.request.url.split("?")[0] for call in responses.calls] == [TASK_URL]  # no gate read
    # Control: the configured project's task passes.
    task["task"]["componentKey"] = "techitfactory_shop"
    responses.replace(responses.GET, TASK_URL, json=task)
    verdict = wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None, expected_project="techitfactory_shop")
    assert verdict.outcome == "pass"


@pytest.mark.parametrize(
    ("status", "settings", "outcome", "code"),
    [
        ("NONE", FAST, "error", 3),  # safe default: no gate evaluated is not a pass
        ("NONE", replace(FAST, on_none="pass"), "pass", 0),
        ("WARN", FAST, "fail", 1),
        ("WARN", replace(FAST, on_warn="pass"), "pass", 0),
    ],
)
@responses.activate
def test_warn_and_none_follow_the_configured_rule(
    report_task: ReportTask,
    ce_task: dict[str, Any],
    gate_status: dict[str, Any],
    status: str,
    settings: SonarPolicy,
    outcome: str,
    code: int,
) -> None:
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, json=gate_with(gate_status, status, conditions=False))
    verdict = wait_for_gate(_client(), report_task, settings, sleep=lambda _s: None)
    assert (verdict.outcome, verdict.exit_code) == (outcome, code)


@pytest.mark.parametrize("status", ["FAILED", "CANCELED"])
@responses.activate
def test_failed_or_canceled_task_is_unavailable_not_gate_not_set(
    report_task: ReportTask, ce_task: dict[str, Any], status: str
) -> None:
    responses.get(TASK_URL, json=task_with(ce_task, "PENDING"))
    responses.get(
        TASK_URL, json=task_with(ce_task, status, errorMessage="Fail to extract report AYh from database")
    )
    with pytest.raises(GateUnavailable, match=rf"^Sonar task {TASK_ID} {status}: Fail to extract report AYh"):
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)
    assert not any("project_status" in c.request.url for c in responses.calls)


@responses.activate
def test_task_that_never_finishes_times_out(report_task: ReportTask, ce_task: dict[str, Any]) -> None:
    responses.get(TASK_URL, json=task_with(ce_task, "IN_PROGRESS"))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = replace(FAST, timeout_seconds=1.0, poll_initial_seconds=0.1, poll_max_seconds=0.4)
    with pytest.raises(GateUnavailable) as caught:
        wait_for_gate(_client(), report_task, settings, sleep=sleep, clock=lambda: now[0])
    # The waits are jittered; the last one ends at the deadline, for one last look, never after it.
    assert now[0] == pytest.approx(1.0)
    polls = len(responses.calls)
    assert polls >= 5  # at 0 s, then after waits of at most 0.1, 0.2, 0.4, 0.4 (capped at the deadline)
    assert str(caught.value).startswith(
        f"Sonar task {TASK_ID} still IN_PROGRESS after 1.0 s (timeout 1 s, {polls} polls)"
    )
    assert "raise gates.sonar.timeout_seconds" in str(caught.value)


@pytest.mark.parametrize("code", [401, 403])
@responses.activate
def test_bad_token_is_exit_3_saying_check_the_token(report_task: ReportTask, code: int) -> None:
    from devops.errors import HttpError

    responses.get(TASK_URL, status=code, json={"errors": [{"msg": "Insufficient privileges"}]})
    with pytest.raises(HttpError, match=rf"HTTP {code} .*check SONAR_TOKEN: it must be set, valid") as caught:
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)
    assert caught.value.exit_code == 3


@responses.activate
def test_5xx_then_success_is_retried(
    report_task: ReportTask, ce_task: dict[str, Any], gate_status: dict[str, Any]
) -> None:
    responses.get(TASK_URL, status=502, body="<html>Bad Gateway</html>")
    responses.get(TASK_URL, status=503, body="busy")
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, status=500, body="oops")
    responses.get(GATE_URL, json=gate_with(gate_status, "OK"))
    verdict = wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)
    assert verdict.outcome == "pass" and verdict.polls == 1
    assert len(responses.calls) == 5


@responses.activate
def test_5xx_after_retries_is_exit_3(report_task: ReportTask) -> None:
    from devops.errors import HttpError

    responses.get(TASK_URL, status=503, body="maintenance")
    with pytest.raises(HttpError, match=r"HTTP 503 after retries") as caught:
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)
    assert caught.value.exit_code == 3
    assert len(responses.calls) == 4  # first try + 3 retries


@responses.activate
def test_non_json_answer_is_exit_3(report_task: ReportTask) -> None:
    responses.get(TASK_URL, body="<html><body>Log in to SonarCloud</body></html>", content_type="text/html")
    with pytest.raises(GateUnavailable, match=r"the answer is not JSON \(text/html: '<html><body>Log in"):
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)


@responses.activate
def test_json_without_the_expected_fields_is_exit_3(report_task: ReportTask) -> None:
    responses.get(TASK_URL, json={"errors": []})
    with pytest.raises(GateUnavailable, match=r"answer has no task.status"):
        wait_for_gate(_client(), report_task, FAST, sleep=lambda _s: None)


def test_report_task_missing_a_key_names_it(tmp_path: Path) -> None:
    path = tmp_path / "report-task.txt"
    path.write_text(REPORT_TASK.replace(f"ceTaskId={TASK_ID}\n", ""))
    with pytest.raises(BadInput, match=rf"^{path}: report-task.txt has no ceTaskId"):
        read_report_task(path)


def test_report_task_not_found_says_where_it_looked(tmp_path: Path) -> None:
    places = [tmp_path / "a" / "report-task.txt", tmp_path / "b" / "report-task.txt"]
    with pytest.raises(BadInput, match=rf"^report-task.txt not found; looked in {places[0]}, {places[1]}"):
        find_report_task(places)


def test_report_task_fields(report_task: ReportTask) -> None:
    assert (report_task.server_url, report_task.ce_task_id, report_task.project_key) == (
        SERVER,
        TASK_ID,
        "techitfactory_shop",
    )
    # ceTaskUrl and dashboardUrl are data the gate never uses: links are built from host_url.
    assert not hasattr(report_task, "dashboard_url") and not hasattr(report_task, "ce_task_url")


# --- through the CLI ----------------------------------------------------------------------

SONAR_FAST = """\
  sonar:
    project_key: sonarsource_test_AYhCAUXoEy1XQQcbVndf  # the project of the recorded ce-task.json
    poll_initial_seconds: 0.01
    poll_max_seconds: 0.02
    timeout_seconds: 5
    http_backoff_seconds: 0
"""


@pytest.fixture
def sonar_project(project, monkeypatch):  # type: ignore[no-untyped-def]
    project.write_config(SONAR_FAST)
    written = project.root / ".devops" / "sonar" / "repository"  # where `devops quality` writes it
    written.mkdir(parents=True)
    (written / "report-task.txt").write_text(REPORT_TASK)
    monkeypatch.setenv("SONAR_TOKEN", "sqp_0123456789abcdef")
    return project


@responses.activate
def test_cli_error_gate_exit_1_lists_conditions_and_masks_token(
    sonar_project, run_cli, ce_task, gate_status, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    responses.get(TASK_URL, json=task_with(ce_task, "IN_PROGRESS"))
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, json=gate_status)
    result = run_cli("--config", str(sonar_project.config), "gate", "sonar")
    assert result.code == 1, result.err
    assert "::add-mask::sqp_0123456789abcdef" in result.out
    assert result.out.count("::error title=Sonar quality gate::") == 4
    assert "Sonar quality gate failed: new_coverage = 82.50562381034781 (fails when < 85)" in result.out
    assert "| new_blocker_violations | GT | 0 | 14 | ERROR |" in (tmp_path / "summary.md").read_text()


@responses.activate
def test_cli_json_ok(sonar_project, run_cli, ce_task, gate_status) -> None:  # type: ignore[no-untyped-def]
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, json=gate_with(gate_status, "OK"))
    result = run_cli("--config", str(sonar_project.config), "gate", "sonar", "--json")
    assert result.code == 0
    data = result.json()
    assert (data["status"], data["verdict"], data["analysis_id"]) == ("OK", "pass", ANALYSIS_ID)


@responses.activate
def test_cli_canceled_task_exit_3_one_line(sonar_project, run_cli, ce_task) -> None:  # type: ignore[no-untyped-def]
    responses.get(TASK_URL, json=task_with(ce_task, "CANCELED"))
    result = run_cli("--config", str(sonar_project.config), "gate", "sonar")
    assert result.code == 3
    assert (
        result.err.strip()
        .splitlines()[-1]
        .startswith(
            f"devops: error: Sonar task {TASK_ID} CANCELED; the quality gate was not computed (see {SERVER}"
        )
    )


@responses.activate
def test_cli_none_status_is_exit_3_by_default(sonar_project, run_cli, ce_task, gate_status) -> None:  # type: ignore[no-untyped-def]
    responses.get(TASK_URL, json=task_with(ce_task, "SUCCESS"))
    responses.get(GATE_URL, json=gate_with(gate_status, "NONE", conditions=False))
    result = run_cli("--config", str(sonar_project.config), "gate", "sonar")
    assert result.code == 3
    assert "Sonar quality gate status NONE: treated as error (gates.sonar.on_none)" in result.err


def test_cli_report_task_not_found_is_exit_2(project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SONAR_TOKEN", "sqp_x")
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 2
    where = project.root / ".devops" / "sonar" / "repository" / "report-task.txt"
    assert result.err.strip().splitlines()[-1] == (
        f"devops: error: report-task.txt not found; looked in {where} (run `devops quality` "
        "(the Sonar scanner writes it) or pass --report-task PATH)"
    )


def test_cli_not_configured_is_skipped(project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SONAR_TOKEN", raising=False)
    result = run_cli("--config", str(project.config), "gate", "sonar", "--json")
    assert result.code == 0
    assert result.json()["status"] == "SKIPPED"
    assert "Sonar reported as SKIPPED (not configured: $SONAR_TOKEN is unset" in result.err


def test_cli_required_without_token_is_exit_3(sonar_project, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("SONAR_TOKEN", raising=False)
    sonar_project.write_config(SONAR_FAST + "    required: true\n")
    result = run_cli("--config", str(sonar_project.config), "gate", "sonar")
    assert result.code == 3
    assert "$SONAR_TOKEN is unset; gates.sonar.required is true" in result.err
