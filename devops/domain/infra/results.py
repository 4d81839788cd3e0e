"""What the infra use cases return (devops/app/infra/): typed results that the CLI renders
(devops/report/infra.py) and turns into its `--json` models."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.estimate import CostEstimate
from devops.domain.infra.plan_summary import PlanSummary


@dataclass(frozen=True)
class PlanReport:
    environment: str
    plan: Path
    backend: BackendSettings
    summary: PlanSummary
    cost: CostEstimate
    has_changes: bool
    destroy: bool = False
    # The cost warnings first (a region priced at another's rates), then Terraform's warnings.
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ApplyReport:
    environment: str
    applied: tuple[str, ...]
    counts: Mapping[str, int] = field(default_factory=dict)
    dry_run: bool = False
    outputs: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DestroyReport:
    """The destroy plan, and what applying it did (None on a dry run)."""

    plan: PlanReport
    applied: ApplyReport | None = None


@dataclass(frozen=True)
class BootstrapReport:
    bucket: str
    lock_table: str
    kms_alias: str
    state_key: str
    created: bool
    dry_run: bool
    steps: tuple[str, ...]
    needed: bool = True


@dataclass(frozen=True)
class OutputsReport:
    environment: str
    values: Mapping[str, Any]
    show_sensitive: bool = False


@dataclass(frozen=True)
class UnlockReport:
    environment: str
    lock_id: str
    held: bool  # False: no lock was held, nothing to release
    dry_run: bool = False

    @property
    def released(self) -> bool:
        return self.held and not self.dry_run
