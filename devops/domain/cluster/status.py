"""Reading the platform's state from Kubernetes objects (`devops cluster status`): pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from devops.domain.cluster.results import ApplicationStatus, NodePoolStatus
from devops.domain.cost.cluster_state import NODEPOOL_LABEL, NodePool
from devops.domain.cost.nodegroups import tagged_true

CAPACITY_LABEL = "techitfactory.com/capacity"
WAVE = "argocd.argoproj.io/sync-wave"


def application_status(app: Mapping[str, Any]) -> ApplicationStatus:
    """Sync and health as Argo CD reports them (Unknown before its first reconciliation)."""
    meta = app.get("metadata") or {}
    status = app.get("status") or {}
    sync = status.get("sync") or {}
    return ApplicationStatus(
        name=str(meta.get("name")),
        project=str((app.get("spec") or {}).get("project") or "default"),
        sync=str(sync.get("status") or "Unknown"),
        health=str((status.get("health") or {}).get("status") or "Unknown"),
        wave=str((meta.get("annotations") or {}).get(WAVE, "0")),
        revision=str(sync.get("revision") or "")[:12],
    )


def is_protected(tags: Mapping[str, str], labels: Mapping[str, str], opt_out_tag: str) -> bool:
    """Capacity the cost schedule never takes down: the opt-out tag, or the system capacity label
    (infra/modules/capacity puts both on the protected node group)."""
    return tagged_true(tags, opt_out_tag) or labels.get(CAPACITY_LABEL) == "system"


def nodepool_status(pool: Mapping[str, Any], nodes: Iterable[Mapping[str, Any]]) -> NodePoolStatus:
    """A NodePool's limits, the limits devops cost saved while it is at zero, and its nodes."""
    read = NodePool.of(pool)
    count = sum(1 for n in nodes if ((n.get("metadata") or {}).get("labels") or {}).get(NODEPOOL_LABEL) == read.name)
    return NodePoolStatus(read.name, dict(read.limits), count, dict(read.saved) if read.saved is not None else None)
