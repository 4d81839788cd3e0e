"""A verification of a released environment (`devops verify`): checks, verdicts, evidence.

Fail closed: a service passes only when it has checks and all of them passed; an environment
only when it has services and all of them passed. The checks themselves (health endpoints,
Prometheus queries) run in devops/app/verify.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from devops.domain.release.evidence import iso
from devops.errors import GateFailed

PASSED, FAILED = "PASSED", "FAILED"


@dataclass
class Check:
    name: str
    verdict: str
    detail: str
    value: float | None = None
    threshold: float | None = None


@dataclass
class ServiceVerification:
    service: str
    checks: list[Check] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return PASSED if self.checks and all(c.verdict == PASSED for c in self.checks) else FAILED

    @property
    def failing(self) -> list[Check]:
        return [c for c in self.checks if c.verdict != PASSED]


@dataclass
class Verification:
    environment: str
    window: str
    prometheus: str
    verified_at: dt.datetime
    services: list[ServiceVerification] = field(default_factory=list)
    # service -> the digest its values file named when the checks ran ("" none); empty when the
    # GitOps repository was not read (--no-record): then nothing can be recorded.
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return PASSED if self.services and all(s.verdict == PASSED for s in self.services) else FAILED

    def evidence(self, service: str) -> dict[str, Any]:
        """What the release record keeps for one service (`verification` of its entry)."""
        found = next(s for s in self.services if s.service == service)
        return {"verdict": found.verdict, "verified_at": iso(self.verified_at), "window": self.window,
                "failing": [f"{c.name}: {c.detail}" for c in found.failing]}


@dataclass
class VerifyOutcome:
    """A verification and what became of its evidence.

    `recording`: the verdict was to be written into the release record; then `recorded` says
    what was written, or `record_error` why nothing could be (the verdict still stands).
    """

    verification: Verification
    recording: bool = False
    recorded: str | None = None
    record_error: str | None = None


def failure(verification: Verification) -> GateFailed:
    """The exit-1 error: one clause per failing service naming its failing checks."""
    parts = [f"{s.service}: " + "; ".join(f"{c.name} {c.detail}" for c in s.failing)
             for s in verification.services if s.failing]
    return GateFailed(f"{verification.environment} is not healthy: " + " | ".join(parts),
                      hint="see the Grafana dashboards shop-<service> and docs/runbooks/alerts.md")
