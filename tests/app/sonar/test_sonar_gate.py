"""`devops gate sonar` on an in-memory Sonar API and git: SKIPPED only when not configured, the
token only after report-task.txt proved it names the configured server, every wait on the one
retry policy, and fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.sonar_gate import (
    SonarPorts,
    clear_report_tasks,
    evaluate_sonar,
    read_report_task,
    report_task_path,
    wait_for_gate,
)
from devops.config.model import Config
from devops.domain.gates.sonar import SonarPolicy
from devops.errors import BadInput, GateUnavailable, HttpError, UnknownName
from tests.app.config import make_config
from tests.fakes.sonar import FAILING, PROJECT, TASK_ID, FakeSonarApi, report_task

HOST = "https://sonarcloud.io"


class Ports:
    """SonarPorts with a record of which server got which token, a fake clock and git."""

    def __init__(self, api: FakeSonarApi | None = None, tracked: set[Path] | None = None) -> None:
        self.api = api or FakeSonarApi()
        self.tracked = tracked or set()
        self.clients: list[tuple[str, str | None]] = []
        self.now = 0.0
        self.sleeps: list[float] = []

    def _client(self, host: str, token: str | None) -> FakeSonarApi:
        self.clients.append((host, token))
        self.api.token = token
        return self.api

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def ports(self) -> SonarPorts:
        return SonarPorts(api=self._client, is_tracked=lambda path: path in self.tracked, sleep=self._sleep,
                          clock=lambda: self.now)


def project(tmp_path: Path, **sonar: object) -> Config:
    settings = {"project_key": PROJECT, "poll_initial_seconds": 1, "poll_max_seconds": 4, "timeout_seconds": 30,
                **sonar}
    return make_config(tmp_path, gates={"sonar": settings})


def write(config: Config, service: str | None, server: str = HOST, **fields: str) -> Path:
    path = report_task_path(config, service)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_task(server, **fields))
    return path


def test_not_configured_is_skipped_with_the_reason(tmp_path: Path) -> None:
    ports = Ports()
    outcome = evaluate_sonar(project(tmp_path), None, token=None, ports=ports.ports())
    assert (outcome.status, outcome.skipped, outcome.outcome) == ("SKIPPED", True, "skipped")
    assert outcome.reason == "not configured: $SONAR_TOKEN is unset and no report-task.txt"
    assert ports.clients == []


def test_required_without_a_token_is_unavailable_and_sends_nothing(tmp_path: Path) -> None:
    config = project(tmp_path, required=True)
    write(config, None)
    ports = Ports()
    with pytest.raises(GateUnavailable, match=r"\$SONAR_TOKEN is unset; gates.sonar.required is true"):
        evaluate_sonar(config, None, token=None, ports=ports.ports())
    assert ports.clients == []


def test_the_gate_waits_for_the_task_then_reads_its_verdict(tmp_path: Path) -> None:
    config = project(tmp_path)
    write(config, None)
    ports = Ports(FakeSonarApi(statuses=["PENDING", "IN_PROGRESS", "SUCCESS"], gate="ERROR", conditions=FAILING))
    seen: list[str] = []
    outcome = evaluate_sonar(config, None, token="sqp_1", ports=ports.ports(), progress=seen.append)
    verdict = outcome.verdict
    assert verdict is not None and (outcome.status, verdict.outcome, verdict.exit_code) == ("ERROR", "fail", 1)
    assert verdict.polls == 3 and verdict.statuses_seen == ("PENDING", "IN_PROGRESS", "SUCCESS")
    assert ports.clients == [(HOST, "sqp_1")]
    assert all(0 <= wait <= cap for wait, cap in zip(ports.sleeps, [1, 2], strict=True))  # full jitter
    assert seen == [f"Sonar task {TASK_ID}: {s}" for s in ("PENDING", "IN_PROGRESS", "SUCCESS")]
    assert verdict.seconds == ports.now


def test_a_service_reads_its_own_analysis_then_the_repositorys(tmp_path: Path) -> None:
    config = project(tmp_path)
    write(config, None)
    outcome = evaluate_sonar(config, "alpha", token="sqp_1", ports=Ports().ports())
    assert outcome.outcome == "pass"  # the repository's analysis, judged as the repository's project
    write(config, "alpha", project=f"{PROJECT}_alpha")
    api = FakeSonarApi(component=f"{PROJECT}_alpha")
    assert evaluate_sonar(config, "alpha", token="sqp_1", ports=Ports(api).ports()).outcome == "pass"
    with pytest.raises(UnknownName):
        evaluate_sonar(config, "nope", token="sqp_1", ports=Ports().ports())


def test_an_analysis_of_another_project_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path)
    write(config, "alpha")
    with pytest.raises(BadInput, match=rf"analysed project '{PROJECT}', not {PROJECT}_alpha"):
        evaluate_sonar(config, "alpha", token="sqp_1", ports=Ports().ports())
    own_key = make_config(tmp_path, gates={"sonar": {"project_key": PROJECT},
                                           "services": {"alpha": {"sonar_project_key": PROJECT}}})
    assert evaluate_sonar(own_key, "alpha", token="sqp_1", ports=Ports().ports()).outcome == "pass"  # control


def test_a_committed_or_foreign_report_task_gets_no_token(tmp_path: Path) -> None:
    config = project(tmp_path)
    found = write(config, None)
    ports = Ports(tracked={found})
    with pytest.raises(BadInput, match="report-task.txt is committed to git"):
        evaluate_sonar(config, None, token="sqp_1", ports=ports.ports())
    write(config, None, server="https://evil.example")
    with pytest.raises(BadInput, match="is not gates.sonar.host_url.*nothing was sent"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports().ports())
    assert ports.clients == []


def test_a_linked_folder_on_the_way_is_refused(tmp_path: Path) -> None:
    config = project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "repository").mkdir(parents=True)
    (elsewhere / "repository" / "report-task.txt").write_text(report_task(HOST))
    (tmp_path / ".devops").mkdir()
    (tmp_path / ".devops" / "sonar").symlink_to(elsewhere)
    with pytest.raises(BadInput, match=r"\.devops/sonar: is a symbolic link"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports().ports())
    with pytest.raises(BadInput, match="is a symbolic link"):
        clear_report_tasks(config, None)


def test_an_explicit_report_task_outside_the_project_is_the_users_choice(tmp_path: Path) -> None:
    config = project(tmp_path / "proj")
    outside = tmp_path / "report-task.txt"
    outside.write_text(report_task(HOST))
    assert evaluate_sonar(config, None, token="sqp_1", ports=Ports().ports(), report_task=str(outside)).outcome == \
        "pass"
    with pytest.raises(BadInput, match="report-task.txt not found; looked in"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports().ports(), report_task=str(tmp_path / "none"))


def test_unreadable_report_task_is_bad_input(tmp_path: Path) -> None:
    config = project(tmp_path)
    report_task_path(config, None).mkdir(parents=True)  # a folder where the file should be
    with pytest.raises(BadInput, match="report-task.txt not found"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports().ports())
    with pytest.raises(BadInput, match="cannot read report-task.txt"):
        read_report_task(report_task_path(config, None))


@pytest.mark.parametrize(("status", "on", "outcome"), [("WARN", {}, "fail"), ("WARN", {"on_warn": "pass"}, "pass"),
                                                       ("NONE", {"on_none": "pass"}, "pass")])
def test_warn_and_none_follow_the_configured_rule(tmp_path: Path, status: str, on: dict[str, str],
                                                  outcome: str) -> None:
    config = project(tmp_path, **on)
    write(config, None)
    result = evaluate_sonar(config, None, token="sqp_1", ports=Ports(FakeSonarApi(gate=status)).ports())
    assert result.outcome == outcome


def test_none_by_default_cannot_be_judged(tmp_path: Path) -> None:
    config = project(tmp_path)
    write(config, None)
    with pytest.raises(GateUnavailable, match=r"status NONE: treated as error .*set gates.sonar.on_none/on_warn"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports(FakeSonarApi(gate="NONE")).ports())


def test_a_task_that_never_finishes_times_out_at_the_deadline(tmp_path: Path) -> None:
    config = project(tmp_path, timeout_seconds=10)
    write(config, None)
    ports = Ports(FakeSonarApi(statuses=["IN_PROGRESS"]))
    with pytest.raises(GateUnavailable) as caught:
        evaluate_sonar(config, None, token="sqp_1", ports=ports.ports())
    polls = len(ports.api.asked)
    assert str(caught.value).startswith(f"Sonar task {TASK_ID} still IN_PROGRESS after 10.0 s (timeout 10 s, "
                                        f"{polls} polls)")
    assert ports.now == pytest.approx(10.0)  # the last wait ends at the deadline, never after it
    assert ("project_status", "AYhSC3WDE6ILQDIMAPIp") not in ports.api.asked


def test_a_failed_task_and_a_refused_token_fail_closed(tmp_path: Path) -> None:
    config = project(tmp_path)
    write(config, None)
    failed = FakeSonarApi(statuses=["PENDING", "FAILED"], error_message="Fail to extract report")
    with pytest.raises(GateUnavailable, match=f"Sonar task {TASK_ID} FAILED: Fail to extract report"):
        evaluate_sonar(config, None, token="sqp_1", ports=Ports(failed).ports())
    with pytest.raises(HttpError, match="HTTP 401"):
        wait_for_gate(FakeSonarApi(token=None), read_report_task(write(config, None)), SonarPolicy(),
                      sleep=lambda s: None)


def test_clearing_removes_what_a_new_analysis_supersedes(tmp_path: Path) -> None:
    config = project(tmp_path)
    repository, alpha = write(config, None), write(config, "alpha")
    clear_report_tasks(config, "alpha")
    assert repository.exists() and not alpha.exists()
    write(config, "alpha")
    clear_report_tasks(config, None)
    assert not repository.exists() and not alpha.exists()
    report_task_path(config, None).mkdir()  # a folder cannot be unlinked
    with pytest.raises(BadInput, match="cannot remove the previous report-task.txt"):
        clear_report_tasks(config, None)
