"""The Sonar gate's rules: what report-task.txt may say, which server may be asked, what the
answers mean. Answers are the domain's values here; the HTTP side is tests/contract/test_sonar.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.domain.gates.sonar import (
    REPORT_TASK_MAX_BYTES,
    CeTask,
    GateCondition,
    ProjectStatus,
    ReportTask,
    SonarOutcome,
    SonarPolicy,
    analysis_of,
    check_server,
    check_task,
    dashboard_link,
    gate_outcome,
    is_done,
    judge,
    parse_report_task,
    shown,
    task_link,
)
from devops.errors import BadInput, GateUnavailable

PATH = Path("/p/.devops/sonar/repository/report-task.txt")
TASK = ReportTask(PATH, "https://sonarcloud.io", "AYh-1", "acme_shop")
HOST = "https://sonarcloud.io"


def test_a_report_task_as_the_scanner_writes_it() -> None:
    raw = (b"# written by the scanner\n! also a comment\nprojectKey=acme_shop\norganization : acme\n"
           b"serverUrl=https\\://sonarcloud.io\nceTaskId=AYh-1\nno separator here\n\n")
    task = parse_report_task(raw, PATH)
    assert (task.server_url, task.ce_task_id, task.project_key, task.organization) == (HOST, "AYh-1", "acme_shop",
                                                                                       "acme")


@pytest.mark.parametrize(("raw", "message"), [
    (b"x" * (REPORT_TASK_MAX_BYTES + 1), "larger than 64 KiB"),
    (b"serverUrl=\xff\n", "not UTF-8 text"),
    (b"serverUrl=a\nserverUrl=b\nceTaskId=x\n", r":2: serverUrl is given twice"),
    (b"serverUrl=https://sonarcloud.io\n", "report-task.txt has no ceTaskId"),
    (b"serverUrl=https://sonarcloud.io\nceTaskId=../../api\n", "is not a Sonar task id"),
])
def test_what_the_scanner_never_writes_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_report_task(raw, PATH)


def test_the_analysis_must_have_gone_to_the_configured_server() -> None:
    check_server(TASK, HOST)
    check_server(ReportTask(PATH, "https://SonarCloud.io:443/", "x"), HOST)
    with pytest.raises(BadInput, match=r"serverUrl 'https://evil.example' is not gates.sonar.host_url .*nothing was sent"):
        check_server(ReportTask(PATH, "https://evil.example", "x"), HOST)
    with pytest.raises(BadInput, match=r"nothing was sent"):
        check_server(ReportTask(PATH, "ftp://sonarcloud.io", "x"), HOST)
    with pytest.raises(BadInput, match=r"https://\*\*\*@sonarcloud.io|nothing was sent"):
        check_server(ReportTask(PATH, "https://user:secret@sonarcloud.io", "x"), HOST)
    with pytest.raises(BadInput, match=r"nothing was sent"):
        check_server(ReportTask(PATH, "https://sonarcloud.io:99999", "x"), HOST)
    with pytest.raises(BadInput, match=r"is not gates.sonar.host_url \(no-url\)"):  # a host no URL can match
        check_server(TASK, "no-url")


def test_values_from_files_are_shown_safely() -> None:
    assert shown("a\nb") == "'a?b'" and shown("x" * 200).endswith("...'") and len(shown("x" * 200)) < 130


@pytest.mark.parametrize(("status", "outcome"), [("OK", "pass"), ("ERROR", "fail"), ("WARN", "fail"),
                                                 ("NONE", "error"), ("MAYBE", None)])
def test_gate_outcomes_under_the_default_policy(status: str, outcome: str | None) -> None:
    assert gate_outcome(status, SonarPolicy()) == outcome
    assert gate_outcome("WARN", SonarPolicy(on_warn="pass")) == "pass"
    assert gate_outcome("NONE", SonarPolicy(on_none="fail")) == "fail"


def test_links_are_built_from_the_host() -> None:
    assert task_link(HOST, "a b") == f"{HOST}/api/ce/task?id=a+b"
    assert dashboard_link(HOST, "k") == f"{HOST}/dashboard?id=k"
    assert dashboard_link(HOST, "k", branch="dev") == f"{HOST}/dashboard?id=k&branch=dev"
    assert dashboard_link(HOST, "k", branch="dev", pull_request="7") == f"{HOST}/dashboard?id=k&pullRequest=7"


def test_answers_about_another_task_or_project_are_refused() -> None:
    check_task(CeTask("AYh-1", "PENDING", component_key="acme_shop"), TASK, HOST, "acme_shop")
    check_task(CeTask("AYh-1", "PENDING", component_key="other"), TASK, HOST, None)
    with pytest.raises(GateUnavailable, match="answered about task 'AYh-2' when asked for AYh-1"):
        check_task(CeTask("AYh-2", "SUCCESS"), TASK, HOST, None)
    with pytest.raises(BadInput, match=r"analysed project '\(none\)', not acme_shop"):
        check_task(CeTask("AYh-1", "SUCCESS"), TASK, HOST, "acme_shop")


def test_task_statuses() -> None:
    assert [is_done(CeTask("AYh-1", s), TASK, HOST) for s in ("PENDING", "IN_PROGRESS", "SUCCESS", "FAILED",
                                                              "CANCELED")] == [False, False, True, True, True]
    with pytest.raises(GateUnavailable, match="unknown status 'PAUSED'"):
        is_done(CeTask("AYh-1", "PAUSED"), TASK, HOST)


def test_only_a_successful_task_with_a_valid_analysis_has_a_gate() -> None:
    assert analysis_of(CeTask("AYh-1", "SUCCESS", analysis_id="AN-1"), TASK, HOST) == "AN-1"
    with pytest.raises(GateUnavailable, match=r"AYh-1 FAILED: out of memory; the quality gate was not computed"):
        analysis_of(CeTask("AYh-1", "FAILED", error_message="out of memory"), TASK, HOST)
    with pytest.raises(GateUnavailable, match=r"AYh-1 CANCELED; the quality gate"):
        analysis_of(CeTask("AYh-1", "CANCELED"), TASK, HOST)
    with pytest.raises(GateUnavailable, match="SUCCESS without an analysisId"):
        analysis_of(CeTask("AYh-1", "SUCCESS"), TASK, HOST)
    with pytest.raises(GateUnavailable, match="is not a Sonar id"):
        analysis_of(CeTask("AYh-1", "SUCCESS", analysis_id="a/b"), TASK, HOST)


FAILING = GateCondition("new_coverage", "LT", "85", "80", "ERROR")
PASSING = GateCondition("bugs", "GT", "", "0", "OK")


def test_verdicts_say_what_failed_and_exit_accordingly() -> None:
    done = CeTask("AYh-1", "SUCCESS", analysis_id="AN-1", component_key="acme_shop", pull_request="7",
                  warnings=("w",))
    failed = judge(done, TASK, ProjectStatus("ERROR", (FAILING, PASSING)), SonarPolicy(), polls=3, seconds=1.5,
                   statuses_seen=("PENDING", "SUCCESS"))
    assert (failed.outcome, failed.exit_code, failed.failing) == ("fail", 1, (FAILING,))
    assert failed.dashboard_url == f"{HOST}/dashboard?id=acme_shop&pullRequest=7"
    assert failed.message() == f"Sonar quality gate failed: new_coverage = 80 (fails when < 85) ({failed.dashboard_url})"
    assert PASSING.describe() == "bugs = 0 (fails when > (none))"
    assert GateCondition("m", "XX", "1", "2", "ERROR").describe() == "m = 2 (fails when XX 1)"
    ok = judge(done, TASK, ProjectStatus("OK"), SonarPolicy())
    assert (ok.outcome, ok.exit_code, ok.message()) == ("pass", 0, f"Sonar quality gate passed ({ok.dashboard_url})")
    empty = judge(done, TASK, ProjectStatus("ERROR"), SonarPolicy())
    assert "no failing condition listed" in empty.message()
    none = judge(CeTask("AYh-1", "SUCCESS", analysis_id="AN-1"), ReportTask(PATH, HOST, "AYh-1"),
                 ProjectStatus("NONE"), SonarPolicy())
    assert (none.outcome, none.exit_code, none.dashboard_url) == ("error", 3, HOST)  # no project: the host
    assert "treated as error (gates.sonar.on_none)" in none.message()
    with pytest.raises(GateUnavailable, match="unknown status 'MAYBE'"):
        judge(done, TASK, ProjectStatus("MAYBE"), SonarPolicy())


def test_an_outcome_is_skipped_or_the_verdicts() -> None:
    assert SonarOutcome("SKIPPED", "no token").skipped and SonarOutcome("SKIPPED").outcome == "skipped"
    verdict = judge(CeTask("AYh-1", "SUCCESS", analysis_id="AN-1"), TASK, ProjectStatus("OK"), SonarPolicy())
    outcome = SonarOutcome("OK", verdict=verdict)
    assert not outcome.skipped and outcome.outcome == "pass"
