"""The wiring of `devops gate sonar`, `devops quality` (and the Sonar step of releases): the
Sonar client for gates.sonar.host_url, git, the scanner, and the token of this run.
Use cases: devops/app/sonar_gate.py, devops/app/quality.py."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from devops.wiring.run import Run

if TYPE_CHECKING:
    from devops.adapters.sonar import PySonar
    from devops.app.sonar_gate import SonarOutcome, SonarPorts
    from devops.config import Config

# The GitHub Actions variables the scanner plan reads (branch or pull request).
GITHUB_CONTEXT = ("GITHUB_EVENT_NAME", "GITHUB_REF_NAME", "GITHUB_REF_TYPE")


def token(app: Run) -> str | None:
    """$<gates.sonar.token_env> of this run, masked in GitHub Actions' log before any use."""
    value = app.settings.get(app.config.gates.sonar.token_env)
    app.reporter.github.mask(value)
    return value


def sonar_ports(config: Config) -> SonarPorts:
    from devops.adapters.git import is_tracked
    from devops.adapters.http import RetryPolicy
    from devops.adapters.sonar import SonarClient
    from devops.app.sonar_gate import SonarPorts

    settings = config.gates.sonar
    policy = RetryPolicy(total=settings.http_retries, backoff_factor=settings.http_backoff_seconds, timeout=30)
    root = config.root

    def tracked(path: Path) -> bool:
        return is_tracked(root, path)

    return SonarPorts(api=lambda host_url, secret: SonarClient(host_url, secret, policy=policy), is_tracked=tracked)


def evaluate_sonar(app: Run, service: str | None, *, report_task: str | None = None,
                   timeout: float | None = None, progress: Callable[[str], None] | None = None) -> SonarOutcome:
    """The Sonar gate of a service (or of the whole repository) for this run."""
    from devops.app.sonar_gate import evaluate_sonar as evaluate

    return evaluate(app.config, service, token=token(app), ports=sonar_ports(app.config), report_task=report_task,
                    timeout=timeout, progress=progress or app.reporter.debug)


def github_context(app: Run) -> dict[str, str]:
    environ = app.settings.environ
    return {name: environ[name] for name in GITHUB_CONTEXT if name in environ}


def scanner() -> PySonar:
    from devops.adapters.sonar import PySonar

    return PySonar()
