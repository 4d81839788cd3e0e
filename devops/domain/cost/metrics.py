"""What a cost run tells Prometheus: per node group, does the schedule want it up, and how big.

Pushed to a Pushgateway after every `devops cost schedule|up|down` that changed or confirmed
state (not on a dry run). The alert `NodeGroupAtZeroInUptime` joins
`devops_cost_nodegroup_desired_up` with the nodes kube-state-metrics sees, and
`CostScheduleStale` watches `devops_cost_schedule_last_run_timestamp_seconds`, so a schedule
that failed to restore in the morning, or stopped running, pages someone.
"""

from __future__ import annotations

from dataclasses import dataclass

from devops.domain.cost.outcome import RunResult

DESIRED_UP = "devops_cost_nodegroup_desired_up"
DESIRED_NODES = "devops_cost_nodegroup_desired_nodes"
LAST_RUN = "devops_cost_schedule_last_run_timestamp_seconds"

HELP = {
    DESIRED_UP: "1 when the cost schedule (with overrides and holds) wants the node group up, 0 when down",
    DESIRED_NODES: "Desired node count of the node group after the cost run",
    LAST_RUN: "Unix time of the last cost run that reached the target's cluster",
}


@dataclass(frozen=True)
class MetricSample:
    name: str
    labels: dict[str, str]
    value: float


def run_samples(result: RunResult) -> list[MetricSample]:
    """Samples of one run: node groups that were judged, and each target that was reached."""
    samples: list[MetricSample] = []
    reached: dict[tuple[str, str], None] = {}
    for outcome in result.outcomes:
        if outcome.action == "failed" or outcome.want is None:
            continue
        reached[(outcome.target, outcome.cluster)] = None
        if outcome.nodegroup == "*":
            continue
        labels = {"target": outcome.target, "cluster": outcome.cluster, "nodegroup": outcome.nodegroup}
        samples.append(MetricSample(DESIRED_UP, labels, 1.0 if outcome.want == "up" else 0.0))
        size = outcome.after or outcome.before
        if size is not None:
            samples.append(MetricSample(DESIRED_NODES, labels, float(size.desired)))
    stamp = result.at.timestamp()
    samples += [MetricSample(LAST_RUN, {"target": t, "cluster": c}, stamp) for t, c in reached]
    return samples
