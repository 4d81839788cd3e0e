"""The Sonar quality gate: report-task.txt -> wait for the analysis task -> gate status.

Fail closed: a FAILED or CANCELED task, a timeout, a bad token, a server error after retries
or an answer we do not understand is exit 3 (`GateUnavailable`/`HttpError`), never a pass and
never "no gate set". WARN and NONE follow `gates.sonar.on_warn` / `on_none`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from devops.config.gates import GateOutcome, SonarSettings
from devops.domain.urls import origin, redact, service_url_problem
from devops.errors import BadInput, ExitCode, GateUnavailable

# Only these are used from report-task.txt: where the analysis went (checked against
# gates.sonar.host_url) and which task to ask about. ceTaskUrl and dashboardUrl are ignored:
# links are built from host_url, so the file cannot point a reader or a token elsewhere.
REQUIRED_KEYS = ("serverUrl", "ceTaskId")
DONE = {"SUCCESS", "FAILED", "CANCELED"}
# Sonar's task and analysis ids ("AYhSC2-LY0CHkWJxvNA9", older ones UUID-like).
SONAR_ID = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# The scanner writes a few hundred bytes; anything much larger is not its report.
REPORT_TASK_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class ReportTask:
    """What the scanner wrote in report-task.txt (only the fields the gate trusts)."""

    path: Path
    server_url: str
    ce_task_id: str
    project_key: str = ""
    organization: str = ""


def find_report_task(candidates: Sequence[Path]) -> Path:
    """The first existing candidate; `BadInput` listing every place looked in otherwise."""
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in candidates)
    raise BadInput(
        f"report-task.txt not found; looked in {looked}",
        hint="run `devops quality` (the Sonar scanner writes it) or pass --report-task PATH",
    )


def read_report_task(path: Path) -> ReportTask:
    """Parse report-task.txt (Java properties: key=value lines); `BadInput` naming the file when
    it is unreadable, too large, not UTF-8, repeats a key or lacks one the gate needs."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(REPORT_TASK_MAX_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read report-task.txt: {exc.strerror}") from None
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
        raise BadInput(f"{path}: ceTaskId {_shown(task_id)} is not a Sonar task id (letters, digits, - and _)",
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
        problem = f"serverUrl {_shown(redact(task.server_url))} is not gates.sonar.host_url ({host_url})"
    else:
        problem = problem.replace(repr(task.server_url), _shown(redact(task.server_url)))
    raise BadInput(
        f"{task.path}: {problem}; nothing was sent",
        hint="the analysis must run against gates.sonar.host_url: rerun `devops quality`",
    )


def _shown(value: str, limit: int = 120) -> str:
    """A value from a file, safe for a one-line message (no control characters, bounded)."""
    cleaned = "".join(c if c.isprintable() else "?" for c in value)
    return repr(cleaned if len(cleaned) <= limit else cleaned[:limit] + "...")


def gate_outcome(status: str, settings: SonarSettings) -> GateOutcome | None:
    """The one mapping of a quality-gate status to pass/fail/error, shared by `devops gate sonar`
    and releases: OK passes, ERROR fails, WARN and NONE follow gates.sonar.on_warn / on_none.
    None for a status Sonar does not document (the caller fails closed)."""
    outcomes: dict[str, GateOutcome] = {"OK": "pass", "ERROR": "fail", "WARN": settings.on_warn,
                                        "NONE": settings.on_none}
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


class SonarApi(Protocol):
    """What the gate needs from `devops.adapters.sonar.SonarClient`."""

    def ce_task(self, task_id: str) -> Any: ...

    def project_status(self, analysis_id: str) -> Any: ...


@dataclass(frozen=True)
class SonarVerdict:
    status: str  # OK, WARN, ERROR, NONE
    outcome: str  # pass, fail, error
    task_id: str
    analysis_id: str
    dashboard_url: str
    conditions: tuple[Any, ...] = ()
    warnings: tuple[str, ...] = ()
    polls: int = 0
    seconds: float = 0.0
    statuses_seen: tuple[str, ...] = field(default=())

    @property
    def failing(self) -> tuple[Any, ...]:
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": "sonar",
            "status": self.status,
            "verdict": self.outcome,
            "exit_code": self.exit_code,
            "task_id": self.task_id,
            "analysis_id": self.analysis_id,
            "dashboard_url": self.dashboard_url,
            "failing_conditions": [c.to_dict() for c in self.failing],
            "conditions": [c.to_dict() for c in self.conditions],
            "warnings": list(self.warnings),
            "polls": self.polls,
            "seconds": round(self.seconds, 3),
            "task_statuses": list(self.statuses_seen),
        }


def wait_for_gate(
    api: SonarApi,
    task: ReportTask,
    settings: SonarSettings,
    *,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda _msg: None,
    expected_project: str | None = None,
) -> SonarVerdict:
    """Poll `api/ce/task` with backoff until the task is done or `timeout` passes, then read
    the gate of its analysis. Raises `GateUnavailable` when it cannot decide.

    `api` talks to gates.sonar.host_url; call `check_server` on the task first. With
    `expected_project`, a task of any other project is refused (`BadInput`, naming the file): a
    task id is data, and the passing analysis of another project must not pass this gate."""
    limit = settings.timeout_seconds if timeout is None else timeout
    host = settings.host_url
    where = task_link(host, task.ce_task_id)
    started = clock()
    interval = settings.poll_initial_seconds
    polls = 0
    seen: list[str] = []
    while True:
        current = api.ce_task(task.ce_task_id)
        polls += 1
        if current.id != task.ce_task_id:
            raise GateUnavailable(
                f"Sonar answered about task {_shown(current.id)} when asked for {task.ce_task_id}",
                hint=f"check {host}",
            )
        if expected_project is not None and current.component_key != expected_project:
            raise BadInput(
                f"{task.path}: task {task.ce_task_id} analysed project {_shown(current.component_key or '(none)')}, "
                f"not {expected_project}",
                hint="rerun `devops quality` for this service; the gate judges only the configured project",
            )
        if not seen or seen[-1] != current.status:
            seen.append(current.status)
            progress(f"Sonar task {task.ce_task_id}: {current.status}")
        if current.status in DONE:
            break
        if current.status not in {"PENDING", "IN_PROGRESS"}:
            raise GateUnavailable(
                f"Sonar task {task.ce_task_id}: unknown status {_shown(current.status)}",
                hint=f"see {where}",
            )
        elapsed = clock() - started
        if elapsed + interval > limit:
            raise GateUnavailable(
                f"Sonar task {task.ce_task_id} still {current.status} after {elapsed:.1f} s "
                f"(timeout {limit:g} s, {polls} polls)",
                hint=f"check the background tasks at {where} or raise gates.sonar.timeout_seconds",
            )
        sleep(interval)
        interval = min(interval * 2, settings.poll_max_seconds)
    if current.status != "SUCCESS":
        why = f": {current.error_message}" if current.error_message else ""
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id} {current.status}{why}; the quality gate was not computed",
            hint=f"see {where} and the scanner's log; rerun `devops quality`",
        )
    if not current.analysis_id:
        raise GateUnavailable(f"Sonar task {task.ce_task_id} SUCCESS without an analysisId", hint=f"see {where}")
    if not SONAR_ID.match(current.analysis_id):
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id}: analysisId {_shown(current.analysis_id)} is not a Sonar id",
            hint=f"see {where}",
        )
    status = api.project_status(current.analysis_id)
    outcome = gate_outcome(status.status, settings)
    if outcome is None:
        raise GateUnavailable(
            f"Sonar quality gate of analysis {current.analysis_id}: unknown status {_shown(status.status)}"
        )
    component = current.component_key or task.project_key
    return SonarVerdict(
        status=status.status,
        outcome=outcome,
        task_id=task.ce_task_id,
        analysis_id=current.analysis_id,
        dashboard_url=dashboard_link(host, component, branch=current.branch, pull_request=current.pull_request)
        if component else host,
        conditions=status.conditions,
        warnings=current.warnings,
        polls=polls,
        seconds=clock() - started,
        statuses_seen=tuple(seen),
    )


# --- the scanner (`devops quality`) -------------------------------------------------------


@dataclass(frozen=True)
class ScannerPlan:
    """The pysonar command for one service, and what was inferred from the CI environment."""

    args: tuple[str, ...]
    cwd: Path
    project_key: str
    report_task: Path
    mode: str  # branch, pull-request, local
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "command": list(self.args),
            "cwd": str(self.cwd),
            "project_key": self.project_key,
            "report_task": str(self.report_task),
            "mode": self.mode,
            "notes": list(self.notes),
        }


def project_key(settings: SonarSettings, project: str, service: str | None, override: str | None) -> str:
    """Explicit service key, else `<gates.sonar.project_key>[_<service>]`, else `<org>_<project>`."""
    if override:
        return override
    base = settings.project_key or (
        f"{settings.organization}_{project}" if settings.organization else project
    )
    return f"{base}_{service}" if service else base


def plan_scanner(
    *,
    executable: str,
    settings: SonarSettings,
    key: str,
    source_dir: Path,
    environ: Mapping[str, str],
    event: Mapping[str, Any] | None,
    shallow: bool | None,
    report_task: Path,
    extra: Sequence[str] = (),
) -> ScannerPlan:
    """The pysonar arguments: server, organisation, key, sources, and branch or pull-request keys
    from the GitHub environment (`GITHUB_EVENT_NAME`, the event payload, `GITHUB_REF_NAME`).

    Where the token may go and where report-task.txt is written are pinned on the command line,
    which pysonar ranks above `sonar-project.properties`, `pyproject.toml` and `SONAR_*`
    variables: files in the analysed folder (a pull request's) cannot move them."""
    check_scanner_args(extra)
    args = [
        executable,
        "--sonar-host-url",
        settings.host_url,
        *scanner_server_args(settings.host_url),
        "--sonar-scanner-metadata-filepath",
        str(report_task),
        "--sonar-project-key",
        key,
        "--sonar-project-base-dir",
        str(source_dir),
        "--sonar-sources",
        ".",
    ]
    if settings.organization:
        args += ["--sonar-organization", settings.organization]
    notes: list[str] = []
    mode = "local"
    pull = (
        (event or {}).get("pull_request")
        if environ.get("GITHUB_EVENT_NAME", "").startswith("pull_request")
        else None
    )
    if isinstance(pull, dict) and pull.get("number") is not None:
        mode = "pull-request"
        args += [
            "--sonar-pullrequest-key",
            str(pull["number"]),
            "--sonar-pullrequest-branch",
            str((pull.get("head") or {}).get("ref", "")),
            "--sonar-pullrequest-base",
            str((pull.get("base") or {}).get("ref", "")),
        ]
        head_sha = (pull.get("head") or {}).get("sha")
        if head_sha:
            # Actions checks out a merge commit for PRs; Sonar must attribute to the PR head.
            args += ["--sonar-scm-revision", str(head_sha)]
    elif environ.get("GITHUB_REF_NAME") and environ.get("GITHUB_REF_TYPE", "branch") == "branch":
        mode = "branch"
        args += ["--sonar-branch-name", environ["GITHUB_REF_NAME"]]
    if shallow:
        notes.append(
            "the git history is shallow: Sonar cannot compute blame or new code correctly; "
            "set `fetch-depth: 0` on actions/checkout"
        )
    args += list(extra)
    return ScannerPlan(
        args=tuple(args),
        cwd=source_dir,
        project_key=key,
        report_task=report_task,
        mode=mode,
        notes=tuple(notes),
    )


# pysonar's SonarQube Cloud hosts and their API hosts (pysonar_scanner/api.py).
SONARCLOUD_API = {"https://sonarcloud.io": "https://api.sonarcloud.io", "https://sonarqube.us": "https://api.sonarqube.us"}
# Scanner properties that decide where the token goes or which report-task.txt the gate reads:
# set by `devops quality` only (from gates.sonar.host_url), never through --scanner-arg.
PINNED_PROPERTIES = (
    "sonar.host.url", "sonar.token", "sonar.login", "sonar.password", "sonar.region",
    "sonar.scanner.cloudUrl", "sonar.scanner.sonarcloudUrl", "sonar.scanner.apiUrl",
    "sonar.scanner.apiBaseUrl", "sonar.scanner.metadataFilepath", "sonar.scanner.metadataFilePath",
)


def scanner_server_args(host_url: str) -> list[str]:
    """The API (and for SonarQube Cloud the cloud) URL the scanner would derive from host_url,
    given explicitly so no project file can replace them."""
    cloud_api = SONARCLOUD_API.get(host_url)
    if cloud_api:
        return ["--sonar-scanner-cloud-url", host_url, "--sonar-scanner-api-url", cloud_api]
    return ["--sonar-scanner-api-url", f"{host_url}/api/v2"]


def _pinned_flags() -> set[str]:
    flags = {"-t", "--token"}
    for prop in PINNED_PROPERTIES:
        flags.add(f"-D{prop}".lower())
        flags.add("--" + re.sub(r"([A-Z])", r"-\1", prop.replace(".", "-")).lower())
    return flags


def check_scanner_args(extra: Sequence[str]) -> None:
    """`BadInput` for a --scanner-arg that would set a pinned property."""
    pinned = _pinned_flags()
    for arg in extra:
        given = arg.split("=", 1)[0].strip()
        name = given.lower()
        # argparse also takes an unambiguous prefix (--sonar-host) and a glued short value (-tX).
        abbreviated = name.startswith("--") and len(name) > 3 and any(f.startswith(name) for f in pinned)
        if name in pinned or abbreviated or (name.startswith("-t") and not name.startswith("--")):
            raise BadInput(
                f"--scanner-arg {given[:60]}: set by devops from gates.sonar.host_url and $SONAR_TOKEN, "
                "not on the command line",
                hint="change gates.sonar.host_url in pipelines/devops.yaml",
            )
