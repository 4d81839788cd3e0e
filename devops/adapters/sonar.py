"""SonarCloud / SonarQube: the web API the quality gate reads, and the pysonar scanner.

HTTP goes through `devops.adapters.http` (retries on 429/5xx with backoff). Answers are turned
into typed objects here; anything else (401/403, a redirect, a non-JSON page, a missing field)
is an exit-3 error that says what to check. The token is sent as a Bearer header to
`server_url` only (gates.sonar.host_url): redirects are not followed, so it never travels on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devops.adapters import process
from devops.adapters.http import RetryPolicy, request, session
from devops.domain.gates.sonar import CeTask, GateCondition, ProjectStatus
from devops.domain.urls import redact
from devops.errors import GateUnavailable, HttpError

__all__ = ["CeTask", "GateCondition", "ProjectStatus", "PySonar", "SonarClient"]

if TYPE_CHECKING:
    import requests

SCANNER_HINT = "pip install pysonar (the Sonar scanner for Python projects)"


class SonarClient:
    """The two endpoints the gate needs, on one server (gates.sonar.host_url)."""

    def __init__(
        self,
        server_url: str,
        token: str | None,
        *,
        policy: RetryPolicy | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.token = token
        self._policy = policy or RetryPolicy(total=4, backoff_factor=0.5, timeout=30)
        self._http = http

    @property
    def http(self) -> requests.Session:
        if self._http is None:
            self._http = session(self._policy, token=self.token)
        return self._http

    def ce_task(self, task_id: str) -> CeTask:
        data = self._get("api/ce/task", {"id": task_id}, what=f"Sonar task {task_id}")
        task = data.get("task")
        if not isinstance(task, dict) or "status" not in task:
            raise GateUnavailable(
                f"{self.server_url}/api/ce/task?id={task_id}: answer has no task.status",
                hint="is gates.sonar.host_url a SonarQube/SonarCloud server?",
            )
        return CeTask(
            id=str(task.get("id", task_id)),
            status=str(task["status"]),
            analysis_id=str(task.get("analysisId") or ""),
            component_key=str(task.get("componentKey") or ""),
            error_message=str(task.get("errorMessage") or ""),
            warnings=tuple(str(w) for w in task.get("warnings") or ()),
            branch=str(task.get("branch") or ""),
            pull_request=str(task.get("pullRequest") or ""),
        )

    def project_status(self, analysis_id: str) -> ProjectStatus:
        data = self._get(
            "api/qualitygates/project_status",
            {"analysisId": analysis_id},
            what=f"Sonar quality gate of analysis {analysis_id}",
        )
        status = data.get("projectStatus")
        if not isinstance(status, dict) or "status" not in status:
            raise GateUnavailable(
                f"{self.server_url}/api/qualitygates/project_status?analysisId={analysis_id}: "
                "answer has no projectStatus.status"
            )
        conditions = tuple(
            GateCondition(
                metric=str(c.get("metricKey", "?")),
                comparator=str(c.get("comparator", "")),
                threshold=str(c.get("errorThreshold", "")),
                actual=str(c.get("actualValue", "")),
                status=str(c.get("status", "")),
            )
            for c in status.get("conditions") or ()
            if isinstance(c, dict)
        )
        return ProjectStatus(
            status=str(status["status"]),
            conditions=conditions,
            ignored_conditions=bool(status.get("ignoredConditions")),
        )

    def _get(self, path: str, params: Mapping[str, str], *, what: str) -> dict[str, Any]:
        url = f"{self.server_url}/{path}"
        shown = f"GET {url}?{'&'.join(f'{k}={v}' for k, v in params.items())}"
        response = request(
            self.http,
            "GET",
            url,
            params=dict(params),
            ok=(200, 301, 302, 303, 307, 308, 401, 403, 404),
            what=f"{what} ({shown})",
            hint="check the Sonar server status and retry",
            allow_redirects=False,
        )
        if 300 <= response.status_code < 400:
            raise GateUnavailable(
                f"{shown}: HTTP {response.status_code} redirect to "
                f"{redact(response.headers.get('Location', '(no Location)'))[:200]!r}, not followed "
                "(the token goes only to gates.sonar.host_url)",
                hint="set gates.sonar.host_url to the address the Sonar API answers on",
            )
        if response.status_code in (401, 403):
            word = "unauthorized" if response.status_code == 401 else "forbidden"
            raise HttpError(
                f"{shown}: HTTP {response.status_code} {word}",
                hint="check SONAR_TOKEN: it must be set, valid, and allowed to browse the project",
            )
        if response.status_code == 404:
            raise GateUnavailable(
                f"{shown}: HTTP 404 not found",
                hint="check ceTaskId in report-task.txt, gates.sonar.host_url and the project key",
            )
        try:
            data = response.json()
        except ValueError:
            kind = response.headers.get("Content-Type", "unknown type")
            raise GateUnavailable(
                f"{shown}: the answer is not JSON ({kind}: {response.text[:80].strip()!r})",
                hint="a proxy or login page answered instead of the Sonar API; check gates.sonar.host_url",
            ) from None
        if not isinstance(data, dict):
            raise GateUnavailable(f"{shown}: expected a JSON object, got {type(data).__name__}")
        return data


def is_shallow(repo: Path) -> bool | None:
    """True when `repo` is a shallow git clone (Sonar then lacks blame and new-code history)."""
    try:
        result = process.run(
            ["git", "rev-parse", "--is-shallow-repository"], cwd=repo, check=False, timeout=30
        )
    except Exception:  # no git at all: nothing to warn about here
        return None
    if not result.ok:
        return None
    return result.stdout.strip() == "true"


def run_scanner(
    args: Sequence[str],
    *,
    cwd: Path,
    token: str,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> process.ProcessResult:
    """Run pysonar; the token goes in the environment (`SONAR_TOKEN`), never on the command line."""
    full_env = {**(env or {}), "SONAR_TOKEN": token}
    return process.run(
        list(args), cwd=cwd, env=full_env, timeout=timeout, install_hint=SCANNER_HINT, secrets=[token]
    )


def scanner_executable() -> str:
    """pysonar on PATH, or beside the running Python (its console script)."""
    import shutil
    import sysconfig

    found = shutil.which("pysonar")
    if found:
        return found
    beside = Path(sysconfig.get_path("scripts")) / "pysonar"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else "pysonar"


def load_json(path: Path) -> Any:
    """Read a JSON file (the GitHub event payload); None when unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class PySonar:
    """The scanner as `devops quality` uses it: pysonar, the checkout, the event payload."""

    def executable(self) -> str:
        return scanner_executable()

    def is_shallow(self, repo: Path) -> bool | None:
        return is_shallow(repo)

    def load_event(self, path: Path) -> Any:
        return load_json(path)

    def run(self, args: Sequence[str], *, cwd: Path, token: str, timeout: float) -> None:
        run_scanner(args, cwd=cwd, token=token, timeout=timeout)
