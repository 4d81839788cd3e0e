"""What `devops cluster values|bootstrap|status` did or found: plain dataclasses the renderers and
the `--json` models (devops/report/cluster_models.py) read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from devops.domain.gitops.change import PublishResult, ValueEdit

ApplyAction = Literal["create", "update", "unchanged"]


@dataclass(frozen=True)
class ValuesResult:
    """`devops cluster values`: the scalars the mapping asked for and what publishing did."""

    environment: str
    cluster: str
    autoscaler: str
    edits: tuple[ValueEdit, ...]
    publish: PublishResult


@dataclass(frozen=True)
class ObjectPlan:
    """One object bootstrap applies: where it comes from, and whether the cluster already has it."""

    api_version: str
    kind: str
    namespace: str  # "" for cluster-scoped objects
    name: str
    source: str  # "argo-cd 10.10.0" or the bootstrap file
    action: ApplyAction
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass(frozen=True)
class ChartRef:
    """The pinned chart bootstrap installs (the self-managed Application's)."""

    repo: str
    chart: str
    version: str
    release: str
    namespace: str
    value_files: tuple[str, ...]
    origin: str = ""  # "cache" (an archive already there) or "pulled" (downloaded into the cache)


@dataclass(frozen=True)
class BootstrapResult:
    environment: str
    cluster: str
    server: str
    chart: ChartRef
    bootstrap_file: str
    objects: tuple[ObjectPlan, ...]
    dry_run: bool

    @property
    def applied(self) -> tuple[ObjectPlan, ...]:
        """What was (or, on a dry run, would be) applied: everything not already as wanted."""
        return tuple(o for o in self.objects if o.action != "unchanged")


@dataclass(frozen=True)
class ApplicationStatus:
    name: str
    project: str
    sync: str  # Synced, OutOfSync, Unknown
    health: str  # Healthy, Progressing, Degraded, Suspended, Missing, Unknown
    wave: str
    revision: str = ""

    @property
    def ready(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"


@dataclass(frozen=True)
class NodegroupStatus:
    name: str
    min: int
    desired: int
    max: int
    nodes: int  # Kubernetes nodes of this group (label eks.amazonaws.com/nodegroup)
    protected: bool
    instance_types: tuple[str, ...]
    status: str
    saved: str = ""  # the size devops cost saved while it is down, "" when none


@dataclass(frozen=True)
class NodePoolStatus:
    name: str
    limits: dict[str, str]
    nodes: int
    saved: dict[str, str] | None  # limits saved by devops cost while limited to zero


@dataclass
class StatusResult:
    environment: str
    cluster: str
    region: str
    server: str
    autoscaler: str
    applications: list[ApplicationStatus] = field(default_factory=list)
    nodegroups: list[NodegroupStatus] = field(default_factory=list)
    nodepools: list[NodePoolStatus] = field(default_factory=list)
    # The Argo CD sync windows devops cost holds open while the environment is down.
    cost_windows: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.applications) and all(app.ready for app in self.applications)

    @property
    def protected(self) -> list[str]:
        return [group.name for group in self.nodegroups if group.protected]
