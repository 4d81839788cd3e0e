"""Evaluate the Sonar quality gate for a service: shared by `devops gate sonar` and releases.

Wiring only (token from the environment, where report-task.txt is, the HTTP client); the rules
live in `devops.domain.gates.sonar`. SKIPPED is returned only when Sonar is not configured (no token,
not required, no report-task.txt): that is a decision, not a pass.

report-task.txt is read from one place, `.devops/sonar/` under the project root, which only
`devops quality` writes (git ignores `.devops/`): `services/<svc>/report-task.txt` for an
analysis of one service, `repository/report-task.txt` for the whole repository. A file git
tracks is refused: it came with the commit (a pull request), not from the scanner. The token
goes only to gates.sonar.host_url, and only after the file proved it names that server.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devops.config import Config

if TYPE_CHECKING:
    from devops.domain.gates.sonar import SonarVerdict

SONAR_DIR = Path(".devops") / "sonar"
REPORT_TASK = "report-task.txt"


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
    from devops.errors import BadInput

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
    from devops.errors import BadInput

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


def expected_project_key(config: Config, service: str | None, found: Path) -> str:
    """The project key `devops quality` analysed for the file found: the service's own key for
    its own file, the repository's for the repository file (the fallback)."""
    from devops.domain.gates.sonar import project_key

    settings = config.gates.sonar
    if service is None or found != report_task_path(config, service):
        return project_key(settings, config.project, None, None)
    override = config.gates.services[service].sonar_project_key if service in config.gates.services else None
    return project_key(settings, config.project, service, override)


def evaluate_sonar(
    config: Config,
    service: str | None,
    *,
    report_task: str | None = None,
    timeout: float | None = None,
    mask: Callable[[str | None], None] = lambda _secret: None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> SonarOutcome:
    """Wait for the analysis and read the gate; raise `GateUnavailable` when it cannot be judged."""
    from devops.adapters.git import is_tracked
    from devops.adapters.http import RetryPolicy
    from devops.adapters.sonar import SonarClient
    from devops.domain.gates.sonar import check_server, find_report_task, read_report_task, wait_for_gate
    from devops.errors import BadInput, GateUnavailable

    settings = config.gates.sonar
    token = os.environ.get(settings.token_env) or None
    mask(token)
    candidates = report_task_candidates(config, service, report_task)
    if token is None and not settings.required and not any(c.is_file() for c in candidates):
        return SonarOutcome("SKIPPED", f"not configured: ${settings.token_env} is unset and no report-task.txt")
    for candidate in candidates:
        check_location(config, candidate)
    found = find_report_task(candidates)
    if is_tracked(config.root, found):
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
    client = SonarClient(
        settings.host_url,
        token,
        policy=RetryPolicy(total=settings.http_retries, backoff_factor=settings.http_backoff_seconds, timeout=30),
    )
    verdict = wait_for_gate(client, task, settings, timeout=timeout, progress=progress,
                            expected_project=expected_project_key(config, service, found))
    if verdict.outcome == "error":
        raise GateUnavailable(verdict.message(), hint="set gates.sonar.on_none/on_warn to decide this status")
    return SonarOutcome(verdict.status, verdict=verdict)
