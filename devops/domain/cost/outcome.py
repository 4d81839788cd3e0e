"""What a cost run did (or would do): one row per node group, the run's result, what each
schedule says now, and the verdict of a run (its notes and the error it ends with).

Built by the reconciler (devops/app/cost_reconcile.py) and the cost use cases
(devops/app/cost_run.py); rendered by devops/report/cost.py, whose `--json` models mirror them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from devops.domain.cost.cluster_state import CLUSTER_CHANGES, ClusterOutcome
from devops.domain.cost.nodegroups import Size
from devops.domain.cost.target import Target
from devops.domain.schedule import State
from devops.errors import DevopsError

Action = Literal[
    "scale-down",
    "restore",
    "confirm",
    "clear-state",
    "hold",
    "none",
    "skipped",
    "refused",
    "failed",
    "mismatch",
]
# Actions that change (or, on a dry run, would change) something in AWS.
CHANGES: tuple[Action, ...] = ("scale-down", "restore", "confirm", "clear-state", "hold")
WHOLE_TARGET = "*"


@dataclass
class Outcome:
    """What happened (or would happen) to one node group; `nodegroup` is `*` for a whole target."""

    target: str
    cluster: str
    region: str
    nodegroup: str
    want: State | None
    reason: str
    action: Action
    before: Size | None = None
    after: Size | None = None
    saved: Size | None = None
    message: str = ""

    @classmethod
    def of(cls, target: Target, nodegroup: str, want: State | None, reason: str, action: Action, *,
           before: Size | None = None, after: Size | None = None, saved: Size | None = None,
           message: str = "") -> Outcome:
        return cls(target.name, target.cluster, target.region, nodegroup, want, reason, action,
                   before, after, saved, message)

    @property
    def where(self) -> str:
        """`cluster/nodegroup`, or the cluster alone for a whole target."""
        return self.cluster if self.nodegroup == WHOLE_TARGET else f"{self.cluster}/{self.nodegroup}"


@dataclass
class RunResult:
    at: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    # The cluster side: sync windows, autoscaler tags, workloads, NodePools (devops/app/cost_cluster.py).
    cluster: list[ClusterOutcome] = field(default_factory=list)

    def having(self, *actions: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.action in actions]

    def cluster_having(self, *actions: str) -> list[ClusterOutcome]:
        return [o for o in self.cluster if o.action in actions]

    @property
    def cluster_changed(self) -> list[ClusterOutcome]:
        return self.cluster_having(*CLUSTER_CHANGES)

    @property
    def changed(self) -> list[Outcome]:
        return self.having(*CHANGES)

    @property
    def nodegroups(self) -> int:
        return len([o for o in self.outcomes if o.nodegroup != WHOLE_TARGET])

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op.startswith(("Describe", "List")))

    @property
    def writes(self) -> int:
        return sum(self.calls.values()) - self.reads


@dataclass(frozen=True)
class Manual:
    """`devops cost down|up` by hand: the state wanted, optionally one node group and a hold."""

    state: State
    nodegroup: str | None = None
    hold_until: datetime | None = None


@dataclass(frozen=True)
class ScheduleLine:
    """What a target's schedule says at one instant, and when that changes next."""

    target: str
    cluster: str
    schedule: str
    zone: ZoneInfo
    state: State
    reason: str
    next_change: datetime | None

    @classmethod
    def of(cls, target: Target, at: datetime) -> ScheduleLine:
        schedule = target.schedule
        decision = schedule.decide(at)
        return cls(target.name, target.cluster, schedule.name, schedule.zone, decision.state, decision.reason,
                   schedule.next_change(at))


@dataclass(frozen=True)
class Note:
    """A line for people beside the table: a warning, or detail shown with --verbose."""

    level: Literal["info", "warn", "debug"]
    text: str


@dataclass
class CostRun:
    """A `cost schedule|down|up` run: its rows, what the schedules say (`schedule` only), the
    notes to show, and the error it ends with (None: exit 0), raised after rendering."""

    title: str
    result: RunResult
    schedules: list[ScheduleLine] | None = None
    notes: list[Note] = field(default_factory=list)
    failure: DevopsError | None = None
    # No cost.targets at all: nothing ran, nothing to tabulate.
    configured: bool = True

    @property
    def at_utc(self) -> datetime:
        return self.result.at.astimezone(UTC)
