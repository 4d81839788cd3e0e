"""A cost target: one EKS cluster, the schedule that scales it and the rules that hold it back
(production, opt-out, exclude_until, force_up, which node groups). Built from the `cost:` block
by devops/config/cost.py; read by the planner, the reconciler and the report."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime

from devops.domain.schedule import Schedule
from devops.domain.timespec import to_instant


@dataclass(frozen=True)
class Selector:
    """Which node groups of the cluster the schedule applies to (shell-style patterns)."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()

    def selects(self, name: str) -> bool:
        """True when `name` matches an include pattern and no exclude pattern."""
        return any(fnmatch.fnmatchcase(name, p) for p in self.include) and not any(
            fnmatch.fnmatchcase(name, p) for p in self.exclude
        )


@dataclass(frozen=True)
class Workloads:
    """Which Deployments and StatefulSets run on the scheduled capacity (scaled to zero with it):
    those of `namespaces`, except `exclude` patterns of `namespace/name`."""

    namespaces: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selects(self, namespace: str, name: str) -> bool:
        return namespace in self.namespaces and not any(
            fnmatch.fnmatchcase(f"{namespace}/{name}", p) for p in self.exclude)


@dataclass(frozen=True)
class Capacity:
    """A node group as the report prices it: from the config, or as EKS shows it."""

    nodegroup: str
    instance_type: str
    count: int
    source: str  # "config" or "aws"


@dataclass(frozen=True)
class FixedCounts:
    """What keeps running while the nodes sleep (priced by the report)."""

    eks_control_planes: int = 1
    nat_gateways: int = 1
    load_balancers: int = 1


@dataclass(frozen=True)
class Target:
    """A configured target with its schedule resolved and its production status known."""

    name: str
    cluster: str
    region: str
    schedule: Schedule
    production: bool = False
    opt_out_tag: str = "devops.cost.opt-out"
    # Production is scaled only with this (on purpose, in review).
    allow_production: bool = False
    nodegroups: Selector = Selector()
    # Not touched at all until this local date/time of the schedule (the config's text).
    exclude_until: str | None = None
    force_up: bool = False
    # For the report, when AWS is not asked (sorted by node group).
    capacity: tuple[Capacity, ...] = ()
    fixed: FixedCounts = FixedCounts()
    # The cluster's node autoscaler (environments.<env>.cluster.autoscaler): none,
    # cluster-autoscaler or karpenter; the schedule cooperates with it (docs/cost.md).
    autoscaler: str = "none"
    workloads: Workloads = Workloads()
    # Karpenter NodePools limited to zero off-hours (karpenter only).
    nodepools: Selector = Selector()

    @property
    def cooperates(self) -> bool:
        """Whether a run touches more than the node groups: the autoscaler, workloads, NodePools."""
        return self.autoscaler != "none" or bool(self.workloads.namespaces)

    @property
    def needs_kube(self) -> bool:
        """Whether a run talks to the cluster's Kubernetes API (workloads or NodePools)."""
        return self.autoscaler == "karpenter" or bool(self.workloads.namespaces)

    @property
    def held_back(self) -> bool:
        """Production without `allow_production`: never scaled, never even read."""
        return self.production and not self.allow_production

    def excluded_until(self) -> datetime | None:
        """`exclude_until` as a UTC instant (local to the schedule's zone), None when unset."""
        return to_instant(self.exclude_until, self.schedule.zone) if self.exclude_until else None
