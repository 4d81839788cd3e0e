"""An in-memory Sonar web API and scanner (the ports of devops/app/sonar_gate.py and
devops/app/quality.py), honest to devops/adapters/sonar.py by tests/contract/test_sonar.py
(whose real side is a local server answering with SonarCloud's recorded documented examples:
SonarCloud itself cannot be reached from here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.domain.gates.sonar import CeTask, GateCondition, ProjectStatus
from devops.errors import GateUnavailable, HttpError

TASK_ID = "AYhSC2-LY0CHkWJxvNA9"
ANALYSIS_ID = "AYhSC3WDE6ILQDIMAPIp"
PROJECT = "sonarsource_test_AYhCAUXoEy1XQQcbVndf"  # the project of the recorded ce-task.json
FAILING = (GateCondition("new_coverage", "LT", "85", "82.50562381034781", "ERROR"),
           GateCondition("new_duplicated_lines_density", "GT", "3", "0.0", "OK"))


@dataclass
class FakeSonarApi:
    """Answers `ce_task` with `statuses` in turn (the last one repeats), then `gate` for the
    analysis; `token` None is refused as SonarCloud refuses a missing token (HTTP 401)."""

    statuses: list[str] = field(default_factory=lambda: ["SUCCESS"])
    gate: str = "OK"
    conditions: tuple[GateCondition, ...] = ()
    task_id: str = TASK_ID
    component: str = PROJECT
    analysis_id: str = ANALYSIS_ID
    error_message: str = ""
    token: str | None = "sqp_token"
    asked: list[tuple[str, str]] = field(default_factory=list)

    def _check_token(self, what: str) -> None:
        if self.token is None:
            raise HttpError(f"GET {what}: HTTP 401 unauthorized",
                            hint="check SONAR_TOKEN: it must be set, valid, and allowed to browse the project")

    def ce_task(self, task_id: str) -> CeTask:
        self.asked.append(("ce_task", task_id))
        self._check_token("api/ce/task")
        if task_id != TASK_ID:
            raise GateUnavailable(f"GET api/ce/task?id={task_id}: HTTP 404 not found")
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        done = status == "SUCCESS"
        return CeTask(id=self.task_id, status=status, analysis_id=self.analysis_id if done else "",
                      component_key=self.component, error_message=self.error_message if status == "FAILED" else "",
                      warnings=("The 'report' folder is deprecated",) if done else ())

    def project_status(self, analysis_id: str) -> ProjectStatus:
        self.asked.append(("project_status", analysis_id))
        self._check_token("api/qualitygates/project_status")
        if analysis_id != ANALYSIS_ID:
            raise GateUnavailable(f"GET api/qualitygates/project_status?analysisId={analysis_id}: HTTP 404")
        return ProjectStatus(self.gate, self.conditions)


def report_task(server: str, *, task_id: str = TASK_ID, project: str = PROJECT) -> str:
    """report-task.txt as the scanner writes it."""
    return (f"organization=sonarsource\nprojectKey={project}\nserverUrl={server}\nserverVersion=8.0.0.46314\n"
            f"dashboardUrl={server}/dashboard?id={project}\nceTaskId={task_id}\n"
            f"ceTaskUrl={server}/api/ce/task?id={task_id}\n")


@dataclass
class FakeScanner:
    """pysonar: a run writes report-task.txt where the command line says (as the real one does)."""

    server: str = "https://sonarcloud.io"
    shallow: bool | None = False
    event: Any = None
    fail: str | None = None
    runs: list[tuple[tuple[str, ...], Path, str]] = field(default_factory=list)

    def executable(self) -> str:
        return "/usr/bin/pysonar"

    def is_shallow(self, repo: Path) -> bool | None:
        return self.shallow

    def load_event(self, path: Path) -> Any:
        return self.event

    def run(self, args: Sequence[str], *, cwd: Path, token: str, timeout: float) -> None:
        self.runs.append((tuple(args), cwd, token))
        if self.fail is not None:
            from devops.errors import ToolFailed

            raise ToolFailed(self.fail)
        where = Path(args[list(args).index("--sonar-scanner-metadata-filepath") + 1])
        key = args[list(args).index("--sonar-project-key") + 1]
        where.write_text(report_task(self.server, project=key))
