"""What Terraform tells the infra workflow, as typed values: the vocabulary shared by the
Terraform port (devops/app/infra/ports.py) and its adapter (devops/adapters/terraform/).

Results: a plan's diagnostics, what an apply changed, who holds a state lock, which state
version a plan was made against. Failures: `TerraformFailed` (with what was applied before
it), `StateLocked` (with the lock), `BackendMissing` (bootstrap was never run). All are exit 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.errors import ExternalError, ToolFailed


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    address: str | None = None

    def one_line(self) -> str:
        first = next((line.strip() for line in self.detail.splitlines() if line.strip()), "")
        where = f"{self.address}: " if self.address else ""
        return f"{where}{self.summary}" + (f": {first}" if first else "")


@dataclass(frozen=True)
class LockInfo:
    id: str
    who: str = ""
    operation: str = ""
    created: str = ""
    path: str = ""


@dataclass(frozen=True)
class PlanResult:
    path: Path
    has_changes: bool
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True)
class ApplyResult:
    applied: tuple[str, ...]
    summary: Mapping[str, int] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StateStamp:
    """Identity of a state version: Terraform bumps `serial` on every write."""

    lineage: str
    serial: int

    def describe(self) -> str:
        return f"serial {self.serial}" + (f" (lineage {self.lineage[:8]})" if self.lineage else "")


class TerraformFailed(ToolFailed):
    """Terraform exited non-zero; `diagnostics` holds what it said, `applied` what it did first."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        diagnostics: Sequence[Diagnostic] = (),
        applied: Sequence[str] = (),
    ) -> None:
        super().__init__(message, hint=hint)
        self.diagnostics = tuple(diagnostics)
        self.applied = tuple(applied)


class StateLocked(ExternalError):
    """The state lock is held by another run (or by one that died)."""

    def __init__(self, message: str, *, lock: LockInfo, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.lock = lock


class BackendMissing(ExternalError):
    """The S3 bucket or DynamoDB table of the backend does not exist: bootstrap was not run."""
