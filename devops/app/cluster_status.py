"""`devops cluster status --env E`: what the platform looks like now.

Every Argo CD Application (sync and health, sync wave), the environment's autoscaler, the
managed node groups with their sizes and how many Kubernetes nodes each has (protected ones
marked: tagged with the cost opt-out tag or labelled `techitfactory.com/capacity=system`), what
`devops cost` saved for them while down, Karpenter's NodePools (karpenter) and the sync windows
the cost schedule holds. Reads only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from devops.app.cluster_ports import KubePort
from devops.app.cost_reconcile import EksPort
from devops.config import Config
from devops.domain.cluster.results import NodegroupStatus, StatusResult
from devops.domain.cluster.status import application_status, is_protected, nodepool_status
from devops.domain.cost import cluster_state
from devops.domain.cost.state import ClusterState

APPS = "argoproj.io/v1alpha1"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"


@dataclass(frozen=True)
class StatusPorts:
    eks: EksPort
    kube: Callable[[], KubePort]


def status(config: Config, environment: str, ports: StatusPorts) -> StatusResult:
    """Read the environment's cluster: EKS for the node groups, its API for the rest."""
    env = config.environment(environment)
    cluster = env.cluster
    namespace = config.cluster.argocd_namespace
    found = ports.eks.describe_cluster(cluster.name)
    saved = ClusterState.from_tags(found.tags).saved
    result = StatusResult(environment, cluster.name, cluster.region, "", cluster.autoscaler)
    kube = ports.kube()
    try:
        nodes = kube.list("v1", "Node")
        per_group = Counter(str(((n.get("metadata") or {}).get("labels") or {}).get(NODEGROUP_LABEL, ""))
                            for n in nodes)
        for name in ports.eks.list_nodegroups(cluster.name):
            group = ports.eks.describe_nodegroup(cluster.name, name)
            keep = saved.get(name)
            result.nodegroups.append(NodegroupStatus(
                name, group.size.min, group.size.desired, group.size.max, per_group.get(name, 0),
                is_protected(group.tags, group.labels, config.cost.opt_out_tag), group.instance_types, group.status,
                f"{keep.size} ({keep.phase} since {keep.at:%Y-%m-%d %H:%M}Z)" if keep else ""))
        apps = kube.list(APPS, "Application", namespace) if kube.served(APPS, "Application") else []
        result.applications = sorted((application_status(app) for app in apps), key=lambda a: (a.wave, a.name))
        if cluster.autoscaler == "karpenter" and kube.served("karpenter.sh/v1", "NodePool"):
            result.nodepools = [nodepool_status(pool, nodes) for pool in kube.list("karpenter.sh/v1", "NodePool")]
        if kube.served(APPS, "AppProject"):
            for project in kube.list(APPS, "AppProject", namespace):
                for window in cluster_state.cost_windows(project):
                    held = ", ".join(window.get("applications") or [])
                    result.cost_windows.append(f"{project['metadata']['name']}: {held}")
    finally:
        kube.close()
    return result
