"""The Sonar quality gate: what report-task.txt may say, which server may be asked, and what
the answers mean.

Fail closed: a FAILED or CANCELED task, an answer about another task or project, an unknown
status or a missing analysis is `GateUnavailable` (exit 3), never a pass and never "no gate
set". WARN and NONE follow `gates.sonar.on_warn` / `on_none`. Waiting for the task is the use
case's (devops/app/sonar_gate.py); the scanner's command line is devops/domain/gates/sonar_scanner.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from devops.domain.gates.severity import GateOutcome
from devops.domain.urls import origin, redact, service_url_problem
from devops.errors import BadInput, ExitCode, GateUnavailable

# Only these are used from report-task.txt: where the analysis went (checked against
# gates.sonar.host_url) and which task to ask about. ceTaskUrl and dashboardUrl are ignored:
# links are built from host_url, so the file cannot point a reader or a token elsewhere.
REQUIRED_KEYS = ("serverUrl", "ceTaskId")
DONE = {"SUCCESS", "FAILED", "CANCELED"}
WAITING = {"PENDING", "IN_PROGRESS"}
# Sonar's task and analysis ids ("AYhSC2-LY0CHkWJxvNA9", older ones UUID-like).
SONAR_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# The scanner writes a few hundred bytes; anything much larger is not its report.
REPORT_TASK_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class SonarPolicy:
    """`gates.sonar` as the gate needs it (built by `SonarSettings.policy()`)."""

    host_url: str = "https://sonarcloud.io"
    organization: str | None = None
    project_key: str | None = None
    timeout_seconds: float = 300
    poll_initial_seconds: float = 1.0
    poll_max_seconds: float = 15.0
    on_warn: GateOutcome = "fail"
    on_none: GateOutcome = "error"


@dataclass(frozen=True)
class ReportTask:
    """What the scanner wrote in report-task.txt (only the fields the gate trusts)."""

    path: Path
    server_url: str
    ce_task_id: str
    project_key: str = ""
    organization: str = ""


@dataclass(frozen=True)
class CeTask:
    """`api/ce/task`: the background task that processes an analysis report."""

    id: str
    status: str  # PENDING, IN_PROGRESS, SUCCESS, FAILED, CANCELED
    analysis_id: str = ""
    component_key: str = ""
    error_message: str = ""
    warnings: tuple[str, ...] = ()
    branch: str = ""
    pull_request: str = ""


@dataclass(frozen=True)
class GateCondition:
    """One condition of `api/qualitygates/project_status`."""

    metric: str
    comparator: str
    threshold: str
    actual: str
    status: str

    def describe(self) -> str:
        words = {"GT": ">", "LT": "<", "EQ": "=", "NE": "!="}
        shown = words.get(self.comparator, self.comparator)
        threshold = self.threshold if self.threshold else "(none)"
        return f"{self.metric} = {self.actual} (fails when {shown} {threshold})"


@dataclass(frozen=True)
class ProjectStatus:
    status: str  # OK, WARN, ERROR, NONE
    conditions: tuple[GateCondition, ...] = ()
    ignored_conditions: bool = False


def parse_report_task(raw: bytes, path: Path) -> ReportTask:
    """Parse report-task.txt (Java properties: key=value lines) from at most
    `REPORT_TASK_MAX_BYTES + 1` bytes of it; `BadInput` naming the file when it is too large, not
    UTF-8, repeats a key or lacks one the gate needs."""
    if len(raw) > REPORT_TASK_MAX_BYTES:
        raise BadInput(f"{path}: larger than {REPORT_TASK_MAX_BYTES // 1024} KiB: not a report-task.txt "
                       "the Sonar scanner wrote", hint="rerun `devops quality`")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text: not a report-task.txt the Sonar scanner wrote",
                       hint="rerun `devops quality`") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key in values:
            # A second serverUrl or ceTaskId would silently win; the scanner never writes one.
            raise BadInput(f"{path}:{number}: {key} is given twice", hint="rerun `devops quality`")
        values[key] = value.strip().replace("\\:", ":").replace("\\=", "=")
    missing = [key for key in REQUIRED_KEYS if not values.get(key)]
    if missing:
        raise BadInput(
            f"{path}: report-task.txt has no {missing[0]}",
            hint="the Sonar scanner did not finish; rerun `devops quality`",
        )
    task_id = values["ceTaskId"]
    if not SONAR_ID.match(task_id):
        raise BadInput(f"{path}: ceTaskId {shown(task_id)} is not a Sonar task id (letters, digits, - and _)",
                       hint="rerun `devops quality`")
    return ReportTask(
        path=path,
        server_url=values["serverUrl"],
        ce_task_id=task_id,
        project_key=values.get("projectKey", ""),
        organization=values.get("organization", ""),
    )


def check_server(task: ReportTask, host_url: str) -> None:
    """The analysis must have gone to `gates.sonar.host_url`: same scheme, host and port.

    Otherwise `BadInput` naming the file, before anything is sent: the token goes only to
    host_url, and a verdict read from elsewhere would be the other server's to give.
    """
    problem = service_url_problem(task.server_url, what="serverUrl")
    if problem is None:
        try:
            if origin(task.server_url) == origin(host_url):
                return
        except ValueError:
            pass
        problem = f"serverUrl {shown(redact(task.server_url))} is not gates.sonar.host_url ({host_url})"
    else:
        problem = problem.replace(repr(task.server_url), shown(redact(task.server_url)))
    raise BadInput(
        f"{task.path}: {problem}; nothing was sent",
        hint="the analysis must run against gates.sonar.host_url: rerun `devops quality`",
    )


def shown(value: str, limit: int = 120) -> str:
    """A value from a file or an answer, safe for a one-line message (no control characters, bounded)."""
    cleaned = "".join(c if c.isprintable() else "?" for c in value)
    return repr(cleaned if len(cleaned) <= limit else cleaned[:limit] + "...")


def gate_outcome(status: str, policy: SonarPolicy) -> GateOutcome | None:
    """The one mapping of a quality-gate status to pass/fail/error, shared by `devops gate sonar`
    and releases: OK passes, ERROR fails, WARN and NONE follow gates.sonar.on_warn / on_none.
    None for a status Sonar does not document (the caller fails closed)."""
    outcomes: dict[str, GateOutcome] = {"OK": "pass", "ERROR": "fail", "WARN": policy.on_warn,
                                        "NONE": policy.on_none}
    return outcomes.get(status)


def task_link(host_url: str, task_id: str) -> str:
    return f"{host_url}/api/ce/task?{urlencode({'id': task_id})}"


def dashboard_link(host_url: str, component: str, *, branch: str = "", pull_request: str = "") -> str:
    """The project's dashboard on host_url (never the dashboardUrl written in the file)."""
    query = {"id": component}
    if pull_request:
        query["pullRequest"] = pull_request
    elif branch:
        query["branch"] = branch
    return f"{host_url}/dashboard?{urlencode(query)}"


def check_task(current: CeTask, task: ReportTask, host_url: str, expected_project: str | None) -> None:
    """An answer of `api/ce/task` must be about the task asked for and, with `expected_project`,
    about that project (else `BadInput` naming the file: a task id is data, and the passing
    analysis of another project must not pass this gate)."""
    if current.id != task.ce_task_id:
        raise GateUnavailable(
            f"Sonar answered about task {shown(current.id)} when asked for {task.ce_task_id}",
            hint=f"check {host_url}",
        )
    if expected_project is not None and current.component_key != expected_project:
        raise BadInput(
            f"{task.path}: task {task.ce_task_id} analysed project {shown(current.component_key or '(none)')}, "
            f"not {expected_project}",
            hint="rerun `devops quality` for this service; the gate judges only the configured project",
        )


def is_done(current: CeTask, task: ReportTask, host_url: str) -> bool:
    """True when the task finished (in any way), False while it waits; a status Sonar does not
    document is `GateUnavailable`."""
    if current.status in DONE:
        return True
    if current.status not in WAITING:
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id}: unknown status {shown(current.status)}",
            hint=f"see {task_link(host_url, task.ce_task_id)}",
        )
    return False


def analysis_of(done: CeTask, task: ReportTask, host_url: str) -> str:
    """The analysis id of a finished task; `GateUnavailable` unless it SUCCEEDED with a valid id."""
    where = task_link(host_url, task.ce_task_id)
    if done.status != "SUCCESS":
        why = f": {done.error_message}" if done.error_message else ""
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id} {done.status}{why}; the quality gate was not computed",
            hint=f"see {where} and the scanner's log; rerun `devops quality`",
        )
    if not done.analysis_id:
        raise GateUnavailable(f"Sonar task {task.ce_task_id} SUCCESS without an analysisId", hint=f"see {where}")
    if not SONAR_ID.match(done.analysis_id):
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id}: analysisId {shown(done.analysis_id)} is not a Sonar id",
            hint=f"see {where}",
        )
    return done.analysis_id


@dataclass(frozen=True)
class SonarVerdict:
    status: str  # OK, WARN, ERROR, NONE
    outcome: str  # pass, fail, error
    task_id: str
    analysis_id: str
    dashboard_url: str
    conditions: tuple[GateCondition, ...] = ()
    warnings: tuple[str, ...] = ()
    polls: int = 0
    seconds: float = 0.0
    statuses_seen: tuple[str, ...] = field(default=())

    @property
    def failing(self) -> tuple[GateCondition, ...]:
        return tuple(c for c in self.conditions if c.status == "ERROR")

    @property
    def exit_code(self) -> int:
        return {"pass": int(ExitCode.OK), "fail": int(ExitCode.GATE_FAILED)}.get(
            self.outcome, int(ExitCode.EXTERNAL)
        )

    def message(self) -> str:
        if self.status == "OK":
            return f"Sonar quality gate passed ({self.dashboard_url})"
        if self.status == "ERROR":
            listed = "; ".join(c.describe() for c in self.failing) or "no failing condition listed"
            return f"Sonar quality gate failed: {listed} ({self.dashboard_url})"
        return (
            f"Sonar quality gate status {self.status}: treated as {self.outcome} "
            f"(gates.sonar.on_{self.status.lower()}) ({self.dashboard_url})"
        )


def judge(done: CeTask, task: ReportTask, status: ProjectStatus, policy: SonarPolicy, *, polls: int = 0,
          seconds: float = 0.0, statuses_seen: tuple[str, ...] = ()) -> SonarVerdict:
    """The verdict of a finished analysis' gate status; an undocumented status is `GateUnavailable`."""
    outcome = gate_outcome(status.status, policy)
    if outcome is None:
        raise GateUnavailable(
            f"Sonar quality gate of analysis {done.analysis_id}: unknown status {shown(status.status)}"
        )
    host = policy.host_url
    component = done.component_key or task.project_key
    return SonarVerdict(
        status=status.status,
        outcome=outcome,
        task_id=task.ce_task_id,
        analysis_id=done.analysis_id,
        dashboard_url=dashboard_link(host, component, branch=done.branch, pull_request=done.pull_request)
        if component else host,
        conditions=status.conditions,
        warnings=done.warnings,
        polls=polls,
        seconds=seconds,
        statuses_seen=statuses_seen,
    )


@dataclass(frozen=True)
class SonarOutcome:
    """SKIPPED (with the reason) or the gate's verdict."""

    status: str  # SKIPPED, OK, WARN, ERROR, NONE
    reason: str = ""
    verdict: SonarVerdict | None = None

    @property
    def skipped(self) -> bool:
        return self.verdict is None

    @property
    def outcome(self) -> str:
        """pass, fail or skipped: what a release records (the verdict's, never re-derived)."""
        return "skipped" if self.verdict is None else self.verdict.outcome
