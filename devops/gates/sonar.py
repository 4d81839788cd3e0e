"""The Sonar quality gate: report-task.txt -> wait for the analysis task -> gate status.

Fail closed: a FAILED or CANCELED task, a timeout, a bad token, a server error after retries
or an answer we do not understand is exit 3 (`GateUnavailable`/`HttpError`), never a pass and
never "no gate set". WARN and NONE follow `gates.sonar.on_warn` / `on_none`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from devops.config.gates import SonarSettings
from devops.errors import BadInput, ExitCode, GateUnavailable

REQUIRED_KEYS = ("serverUrl", "ceTaskId", "ceTaskUrl", "dashboardUrl")
DONE = {"SUCCESS", "FAILED", "CANCELED"}


@dataclass(frozen=True)
class ReportTask:
    """What the scanner wrote in report-task.txt."""

    path: Path
    server_url: str
    ce_task_id: str
    ce_task_url: str
    dashboard_url: str
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
    """Parse report-task.txt (Java properties: key=value lines); every needed key must be there."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read report-task.txt: {exc.strerror}") from None
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip().replace("\\:", ":").replace("\\=", "=")
    missing = [key for key in REQUIRED_KEYS if not values.get(key)]
    if missing:
        raise BadInput(
            f"{path}: report-task.txt has no {missing[0]}",
            hint="the Sonar scanner did not finish; rerun `devops quality`",
        )
    return ReportTask(
        path=path,
        server_url=values["serverUrl"].rstrip("/"),
        ce_task_id=values["ceTaskId"],
        ce_task_url=values["ceTaskUrl"],
        dashboard_url=values["dashboardUrl"],
        project_key=values.get("projectKey", ""),
        organization=values.get("organization", ""),
    )


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
) -> SonarVerdict:
    """Poll `api/ce/task` with backoff until the task is done or `timeout` passes, then read
    the gate of its analysis. Raises `GateUnavailable` when it cannot decide."""
    limit = settings.timeout_seconds if timeout is None else timeout
    started = clock()
    interval = settings.poll_initial_seconds
    polls = 0
    seen: list[str] = []
    while True:
        current = api.ce_task(task.ce_task_id)
        polls += 1
        if not seen or seen[-1] != current.status:
            seen.append(current.status)
            progress(f"Sonar task {task.ce_task_id}: {current.status}")
        if current.status in DONE:
            break
        if current.status not in {"PENDING", "IN_PROGRESS"}:
            raise GateUnavailable(
                f"Sonar task {task.ce_task_id}: unknown status {current.status!r}",
                hint=f"see {task.ce_task_url}",
            )
        elapsed = clock() - started
        if elapsed + interval > limit:
            raise GateUnavailable(
                f"Sonar task {task.ce_task_id} still {current.status} after {elapsed:.1f} s "
                f"(timeout {limit:g} s, {polls} polls)",
                hint=f"check the background tasks at {task.ce_task_url} or raise gates.sonar.timeout_seconds",
            )
        sleep(interval)
        interval = min(interval * 2, settings.poll_max_seconds)
    if current.status != "SUCCESS":
        why = f": {current.error_message}" if current.error_message else ""
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id} {current.status}{why}; the quality gate was not computed",
            hint=f"see {task.ce_task_url} and the scanner's log; rerun `devops quality`",
        )
    if not current.analysis_id:
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id} SUCCESS without an analysisId", hint=f"see {task.ce_task_url}"
        )
    status = api.project_status(current.analysis_id)
    outcome = {"OK": "pass", "ERROR": "fail", "WARN": settings.on_warn, "NONE": settings.on_none}.get(
        status.status
    )
    if outcome is None:
        raise GateUnavailable(
            f"Sonar quality gate of analysis {current.analysis_id}: unknown status {status.status!r}"
        )
    return SonarVerdict(
        status=status.status,
        outcome=outcome,
        task_id=task.ce_task_id,
        analysis_id=current.analysis_id,
        dashboard_url=task.dashboard_url,
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
    extra: Sequence[str] = (),
) -> ScannerPlan:
    """The pysonar arguments: server, organisation, key, sources, and branch or pull-request keys
    from the GitHub environment (`GITHUB_EVENT_NAME`, the event payload, `GITHUB_REF_NAME`)."""
    args = [
        executable,
        "--sonar-host-url",
        settings.host_url,
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
        report_task=source_dir / settings.report_task,
        mode=mode,
        notes=tuple(notes),
    )
