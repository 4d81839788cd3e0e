"""Evaluate the Sonar quality gate for a service: shared by `devops gate sonar` and releases.

Wiring only (token from the environment, report-task.txt candidates, the HTTP client); the
rules live in `devops.gates.sonar`. SKIPPED is returned only when Sonar is not configured
(no token, not required, no report-task.txt): that is a decision, not a pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from devops.config import Config

if TYPE_CHECKING:
    from devops.gates.sonar import SonarVerdict


@dataclass(frozen=True)
class SonarOutcome:
    """SKIPPED (with the reason) or the gate's verdict."""

    status: str  # SKIPPED, OK, WARN, ERROR, NONE
    reason: str = ""
    verdict: SonarVerdict | None = None

    @property
    def skipped(self) -> bool:
        return self.verdict is None


def report_task_candidates(config: Config, service: str | None, explicit: str | None = None) -> list[Path]:
    """Where report-task.txt may be: the explicit path, else the service's folder, then the root."""
    if explicit:
        return [Path(explicit)]
    report_task = config.gates.sonar.report_task
    folders = [config.service_dir(service), config.root] if service else [config.root]
    return [folder / report_task for folder in folders]


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
    from devops.adapters.http import RetryPolicy
    from devops.adapters.sonar import SonarClient
    from devops.errors import GateUnavailable
    from devops.gates.sonar import find_report_task, read_report_task, wait_for_gate

    settings = config.gates.sonar
    token = os.environ.get(settings.token_env) or None
    mask(token)
    candidates = report_task_candidates(config, service, report_task)
    if token is None and not settings.required and not any(c.is_file() for c in candidates):
        return SonarOutcome("SKIPPED", f"not configured: ${settings.token_env} is unset and no report-task.txt")
    task = read_report_task(find_report_task(candidates))
    if token is None and settings.required:
        raise GateUnavailable(
            f"${settings.token_env} is unset; gates.sonar.required is true",
            hint="add the SONAR_TOKEN secret to the workflow environment",
        )
    client = SonarClient(
        task.server_url,
        token,
        policy=RetryPolicy(total=settings.http_retries, backoff_factor=settings.http_backoff_seconds, timeout=30),
    )
    verdict = wait_for_gate(client, task, settings, timeout=timeout, progress=progress)
    if verdict.outcome == "error":
        raise GateUnavailable(verdict.message(), hint="set gates.sonar.on_none/on_warn to decide this status")
    return SonarOutcome(verdict.status, verdict=verdict)
