"""The Sonar API port: the same assertions against tests/fakes/sonar.py and the real client
(devops/adapters/sonar.py). SonarCloud cannot be reached from here, so the real side talks HTTP
to a local server that answers with SonarCloud's recorded, documented examples
(../shared/fixtures/sonar) and refuses a missing or wrong token as SonarCloud does (401)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devops.errors import GateUnavailable, HttpError
from tests.fakes.sonar import ANALYSIS_ID, PROJECT, TASK_ID, FakeSonarApi
from tests.support.recording_http import Answer, Recorded, RecordingServer

TOKEN = "sqp_contract"
FAILING = {"new_coverage", "new_blocker_violations", "new_critical_violations", "open_issues"}


class RecordedAnswers:
    def __init__(self, fixtures: Path) -> None:
        self.task = (fixtures / "sonar" / "ce-task.json").read_bytes()
        self.gate = (fixtures / "sonar" / "qualitygate-project-status.json").read_bytes()

    def __call__(self, request: Recorded) -> Answer:
        path, _, query = request.path.partition("?")
        if request.authorization != f"bearer {TOKEN}":
            return Answer(401, {"Content-Type": "application/json"}, b'{"errors":[{"msg":"Insufficient privileges"}]}')
        if path == "/api/ce/task" and query == f"id={TASK_ID}":
            return Answer(200, {"Content-Type": "application/json"}, self.task)
        if path == "/api/qualitygates/project_status" and query == f"analysisId={ANALYSIS_ID}":
            return Answer(200, {"Content-Type": "application/json"}, self.gate)
        return Answer(404, {"Content-Type": "application/json"}, b'{"errors":[{"msg":"not found"}]}')


def fake_like_the_recording(fixtures: Path, token: str | None) -> FakeSonarApi:
    gate = json.loads((fixtures / "sonar" / "qualitygate-project-status.json").read_text())["projectStatus"]
    from devops.domain.gates.sonar import GateCondition

    conditions = tuple(GateCondition(c["metricKey"], c["comparator"], c.get("errorThreshold", ""),
                                     c["actualValue"], c["status"]) for c in gate["conditions"])
    return FakeSonarApi(gate=gate["status"], conditions=conditions, token=token)


# The real side serves HTTP on a local port: the `slow` tier, not the unit tier (fakes only).
REAL = pytest.param("real", marks=pytest.mark.slow)


@pytest.fixture(params=["fake", REAL])
def client(request: pytest.FixtureRequest, shared_fixtures: Path) -> Iterator[Any]:
    """A client with the token, and one without."""

    def make(token: str | None) -> Any:
        if request.param == "fake":
            return fake_like_the_recording(shared_fixtures, token)
        from devops.adapters.http import RetryPolicy
        from devops.adapters.sonar import SonarClient

        return SonarClient(server.url, token, policy=RetryPolicy(total=0, backoff_factor=0, timeout=10))

    if request.param == "fake":
        yield make
        return
    with RecordingServer("127.0.0.1", RecordedAnswers(shared_fixtures)) as server:
        yield make


def test_a_finished_task_names_its_analysis_and_project(client: Any) -> None:
    task = client(TOKEN).ce_task(TASK_ID)
    assert (task.id, task.status, task.analysis_id, task.component_key) == (TASK_ID, "SUCCESS", ANALYSIS_ID, PROJECT)
    assert task.warnings


def test_the_gate_of_the_analysis_lists_its_conditions(client: Any) -> None:
    status = client(TOKEN).project_status(ANALYSIS_ID)
    assert status.status == "ERROR"
    assert {c.metric for c in status.conditions if c.status == "ERROR"} == FAILING


def test_without_the_token_nothing_is_read(client: Any) -> None:
    with pytest.raises(HttpError, match="HTTP 401") as caught:
        client(None).ce_task(TASK_ID)
    assert caught.value.exit_code == 3


def test_an_unknown_task_is_unavailable(client: Any) -> None:
    with pytest.raises(GateUnavailable, match="404"):
        client(TOKEN).ce_task("AYh-unknown")
