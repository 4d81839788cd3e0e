"""`devops cost report` as a use case: the targets to price, their node groups (from the
config, or as EKS shows them), and the month's cost with and without the schedules
(devops/domain/cost/estimate.py)."""

from __future__ import annotations

from collections.abc import Iterable

from devops.app.cost_reconcile import EksPort
from devops.app.cost_run import CostPorts, select_targets
from devops.config import Config
from devops.domain.cost.estimate import CostReport, compute_report
from devops.domain.cost.pricing import price_table
from devops.domain.cost.state import ClusterState
from devops.domain.cost.target import Capacity, Target
from devops.errors import UnknownName


def report(config: Config, ports: CostPorts, *, schedule: str | None = None, month: tuple[int, int] | None = None,
           names: Iterable[str] = ()) -> CostReport:
    """Monthly cost of the targets (those using `schedule`, or named), for `month` (year,
    month; default: this month)."""
    cost = config.cost
    if schedule and schedule not in cost.schedules:
        known = ", ".join(sorted(cost.schedules)) or "none configured"
        raise UnknownName(f"{config.source}: unknown schedule {schedule!r}; known: {known}")
    targets = [t for t in select_targets(config, names) if not schedule or t.schedule.name == schedule]
    if not targets:
        raise UnknownName(
            f"{config.source}: no cost.targets use schedule {schedule!r}"
            if schedule
            else f"{config.source}: no cost.targets configured"
        )
    today = ports.clock().date()
    year, mon = month or (today.year, today.month)
    regions: dict[str, EksPort] = {}

    def capacity(target: Target) -> list[Capacity]:
        if target.capacity:
            return list(target.capacity)
        if target.region not in regions:
            regions[target.region] = ports.eks_for(target.region)
        return capacity_from_aws(target, regions[target.region])

    return compute_report(targets, year, mon, lambda region: price_table(region, cost.prices), capacity)


def capacity_from_aws(target: Target, eks: EksPort) -> list[Capacity]:
    """Selected node groups' instance type and running count (the saved size while down)."""
    cluster = eks.describe_cluster(target.cluster)
    state = ClusterState.from_tags(cluster.tags)
    found = []
    for name in eks.list_nodegroups(target.cluster):
        if not target.nodegroups.selects(name) and name not in state.saved:
            continue
        group = eks.describe_nodegroup(target.cluster, name)
        count = group.size.desired
        if count == 0 and name in state.saved:
            count = state.saved[name].size.desired
        kind = group.instance_types[0] if group.instance_types else "unknown"
        found.append(Capacity(name, kind, count, "aws"))
    return found
