"""What release, promote, rollback and status found and did: the result types `devops/report/release.py`
renders (console, job summary, step outputs and the `--json` models).

Built step by step by the use cases (a service is appended as it is decided), so these are plain
mutable dataclasses; the `--json` output is their frozen pydantic mirror in the report layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devops.domain.gitops.change import PublishResult
from devops.domain.release.verification import VerifyOutcome


@dataclass
class ServiceRelease:
    service: str
    status: str                     # unchanged, released, would-release, refused
    repository: str = ""
    tag: str = ""
    digest: str = ""                # new digest ("" when unknown before a dry-run build)
    previous_digest: str = ""
    note: str = ""
    scan: dict[str, Any] | None = None
    sonar: dict[str, Any] | None = None
    # promote: the bundles verified against the target's signature policy, or SKIPPED and why
    signatures: dict[str, Any] | None = None


@dataclass
class ReleaseReport:
    environment: str
    action: str                      # release, promote, rollback
    services: list[ServiceRelease] = field(default_factory=list)
    publish: PublishResult | None = None
    dry_run: bool = False
    source: str | None = None        # promote: the environment promoted from
    # `devops verify` after the release, when the environment configures it: its outcome, or
    # why it could not run (Prometheus unreachable: the release stands, not verified).
    verification: VerifyOutcome | None = None
    verification_error: str | None = None

    @property
    def changed(self) -> list[ServiceRelease]:
        return [s for s in self.services if s.status in ("released", "would-release")]


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    tag: str
    digest: str
    source_commit: str
    released_at: str
    age: str
    scan: str
    sonar: str
    promotion: str  # what a promotion from the source environment would do: "", "-> sha256:…"
    verification: str = ""  # `devops verify` verdict recorded for this digest, "" when none


@dataclass
class EnvironmentStatus:
    environment: str
    gitops_commit: str
    promote_from: str | None
    released_at: str
    released_by: str
    services: list[ServiceStatus] = field(default_factory=list)
    pending: dict[str, tuple[str, str]] = field(default_factory=dict)  # service -> (digest now, source's)
