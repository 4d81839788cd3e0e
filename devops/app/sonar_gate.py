"""Evaluate the Sonar quality gate for a service: shared by `devops gate sonar`, `devops quality`
and releases.

The rules live in `devops.domain.gates.sonar`; the Sonar API and git come in as ports
(`SonarPorts`), the token as a value the wiring read. SKIPPED is returned only when Sonar is not
configured (no token, not required, no report-task.txt): that is a decision, not a pass.

report-task.txt is read from one place, `.devops/sonar/` under the project root, which only
`devops quality` writes (git ignores `.devops/`): `services/<svc>/report-task.txt` for an
analysis of one service, `repository/report-task.txt` for the whole repository. A file git
tracks is refused: it came with the commit (a pull request), not from the scanner. The token
goes only to gates.sonar.host_url, and only after the file proved it names that server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from devops.config import Config
from devops.domain.gates.sonar import (
    REPORT_TASK_MAX_BYTES,
    CeTask,
    ProjectStatus,
    ReportTask,
    SonarOutcome,
    SonarPolicy,
    SonarVerdict,
    analysis_of,
    check_server,
    check_task,
    is_done,
    judge,
    parse_report_task,
    task_link,
)
from devops.domain.gates.sonar_scanner import project_key
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import BadInput, GateUnavailable

SONAR_DIR = Path(".devops") / "sonar"
REPORT_TASK = "report-task.txt"
# The poll is bounded by gates.sonar.timeout_seconds, not by a count.
POLL_ATTEMPTS = 1_000_000

__all__ = ["SONAR_DIR", "SonarApi", "SonarOutcome", "SonarPorts", "check_location", "clear_report_tasks",
           "evaluate_sonar", "expected_project_key", "find_report_task", "read_report_task", "report_task_candidates",
           "report_task_path", "sonar_dir", "wait_for_gate"]


class SonarApi(Protocol):
    """The two endpoints the gate reads (devops/adapters/sonar.py), on gates.sonar.host_url."""

    def ce_task(self, task_id: str) -> CeTask: ...

    def project_status(self, analysis_id: str) -> ProjectStatus: ...


@dataclass(frozen=True)
class SonarPorts:
    """The outside world of the gate: a client for (host_url, token), git, and the clock."""

    api: Callable[[str, str | None], SonarApi]
    is_tracked: Callable[[Path], bool]  # does the project's git repository track this file?
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def sonar_dir(config: Config) -> Path:
    return config.root / SONAR_DIR


def report_task_path(config: Config, service: str | None) -> Path:
    """Where `devops quality [SERVICE]` has the scanner write report-task.txt."""
    folder = sonar_dir(config) / ("services" / Path(service) if service else Path("repository"))
    return folder / REPORT_TASK


def report_task_candidates(config: Config, service: str | None, explicit: str | None = None) -> list[Path]:
    """The explicit path, else the service's analysis, then the whole repository's."""
    if explicit:
        return [Path(explicit)]
    if service:
        config.service(service)  # UnknownName (exit 2) before any path is built from the name
        return [report_task_path(config, service), report_task_path(config, None)]
    return [report_task_path(config, None)]


def clear_report_tasks(config: Config, service: str | None) -> None:
    """Remove the results a new analysis supersedes, so the gate never reads an older one: the
    service's, or for the whole repository every result (each service's included)."""
    stale = [report_task_path(config, service)]
    if service is None:
        stale += [report_task_path(config, name) for name in config.services]
    for path in stale:
        check_location(config, path)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise BadInput(f"{path}: cannot remove the previous report-task.txt: {exc.strerror}",
                           hint="remove it by hand") from None


def check_location(config: Config, path: Path) -> None:
    """`BadInput` when a folder on the way to `path` under the project is a symbolic link: a
    committed link could make the scanner write, or the gate read, somewhere else."""
    root = config.root
    try:
        relative = path.relative_to(root)
    except ValueError:
        return  # an explicit --report-task outside the project: the user's own choice
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise BadInput(f"{current}: is a symbolic link; {SONAR_DIR}/ holds only what `devops quality` writes",
                           hint=f"remove {current}")


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
    """Read at most a bounded prefix of report-task.txt and parse it (`BadInput` naming the file)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(REPORT_TASK_MAX_BYTES + 1)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read report-task.txt: {exc.strerror}") from None
    return parse_report_task(raw, path)


def expected_project_key(config: Config, service: str | None, found: Path) -> str:
    """The project key `devops quality` analysed for the file found: the service's own key for
    its own file, the repository's for the repository file (the fallback)."""
    policy = config.gates.sonar.policy()
    if service is None or found != report_task_path(config, service):
        return project_key(policy, config.project, None, None)
    return project_key(policy, config.project, service, config.gates.sonar_project_key(service))


class _Waiting(Exception):
    """The task is still PENDING or IN_PROGRESS: poll again."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def wait_for_gate(
    api: SonarApi,
    task: ReportTask,
    policy: SonarPolicy,
    *,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] = lambda _msg: None,
    expected_project: str | None = None,
) -> SonarVerdict:
    """Poll `api/ce/task` until the task is done or `timeout` passes, then read the gate of its
    analysis. Polls wait on the one retry policy (devops/domain/retry.py: exponential backoff
    from gates.sonar.poll_initial_seconds, capped at poll_max_seconds, full jitter); the last
    wait ends at the deadline, for one last look. Raises `GateUnavailable` when it cannot decide.

    `api` talks to gates.sonar.host_url; call `check_server` on the task first."""
    limit = policy.timeout_seconds if timeout is None else timeout
    host = policy.host_url
    started = clock()
    polls = 0
    seen: list[str] = []

    def until_the_deadline(seconds: float) -> None:
        sleep(max(0.0, min(seconds, limit - (clock() - started))))

    schedule = RetryPolicy(attempts=POLL_ATTEMPTS, base_seconds=policy.poll_initial_seconds,
                           max_seconds=policy.poll_max_seconds, deadline_seconds=limit)
    current: CeTask | None = None
    try:
        for attempt in retrying(schedule, retry_on=lambda error: isinstance(error, _Waiting),
                                sleep=until_the_deadline, clock=clock):
            with attempt:
                current = api.ce_task(task.ce_task_id)
                polls += 1
                check_task(current, task, host, expected_project)
                if not seen or seen[-1] != current.status:
                    seen.append(current.status)
                    progress(f"Sonar task {task.ce_task_id}: {current.status}")
                if not is_done(current, task, host):
                    raise _Waiting(current.status)
    except _Waiting as waiting:
        raise GateUnavailable(
            f"Sonar task {task.ce_task_id} still {waiting.status} after {clock() - started:.1f} s "
            f"(timeout {limit:g} s, {polls} polls)",
            hint=f"check the background tasks at {task_link(host, task.ce_task_id)} "
                 "or raise gates.sonar.timeout_seconds",
        ) from None
    assert current is not None
    status = api.project_status(analysis_of(current, task, host))
    return judge(current, task, status, policy, polls=polls, seconds=clock() - started,
                 statuses_seen=tuple(seen))


def evaluate_sonar(
    config: Config,
    service: str | None,
    *,
    token: str | None,
    ports: SonarPorts,
    report_task: str | None = None,
    timeout: float | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> SonarOutcome:
    """Wait for the analysis and read the gate; raise `GateUnavailable` when it cannot be judged."""
    settings = config.gates.sonar
    candidates = report_task_candidates(config, service, report_task)
    if token is None and not settings.required and not any(c.is_file() for c in candidates):
        return SonarOutcome("SKIPPED", f"not configured: ${settings.token_env} is unset and no report-task.txt")
    for candidate in candidates:
        check_location(config, candidate)
    found = find_report_task(candidates)
    if ports.is_tracked(found):
        raise BadInput(
            f"{found}: report-task.txt is committed to git; the gate reads only what `devops quality` writes",
            hint=f"git rm --cached {found}; results belong in {SONAR_DIR}/, which git ignores",
        )
    task = read_report_task(found)
    check_server(task, settings.host_url)
    if token is None and settings.required:
        raise GateUnavailable(
            f"${settings.token_env} is unset; gates.sonar.required is true",
            hint="add the SONAR_TOKEN secret to the workflow environment",
        )
    verdict = wait_for_gate(ports.api(settings.host_url, token), task, settings.policy(), timeout=timeout,
                            sleep=ports.sleep, clock=ports.clock, progress=progress,
                            expected_project=expected_project_key(config, service, found))
    if verdict.outcome == "error":
        raise GateUnavailable(verdict.message(), hint="set gates.sonar.on_none/on_warn to decide this status")
    return SonarOutcome(verdict.status, verdict=verdict)
