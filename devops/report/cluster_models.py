"""The `--json` results of `devops cluster values|bootstrap|status` (docs/schemas/cluster-*.json);
their field names are a stable interface (docs/platform.md, "Machine output")."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.cluster.results import BootstrapResult, StatusResult, ValuesResult
from devops.report.release_models import PublishModel


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class ValueModel(_Result):
    file: str = Field(description="values file in the GitOps repository")
    key: str = Field(description="dotted key path (list indexes as numbers)")
    value: str
    source: str = Field(description="the terraform output it came from")


class ClusterValuesResult(_Result):
    """`devops cluster values --json`."""

    environment: str
    cluster: str
    autoscaler: str
    values: list[ValueModel] = Field(description="every value the mapping asks for (changed or not)")
    publish: PublishModel = Field(description="what the GitOps engine did: changes, commit, diff")

    @classmethod
    def of(cls, result: ValuesResult) -> ClusterValuesResult:
        return cls(environment=result.environment, cluster=result.cluster, autoscaler=result.autoscaler,
                   values=[ValueModel(file=e.file, key=".".join(str(k) for k in e.key), value=e.value,
                                      source=e.source) for e in result.edits],
                   publish=PublishModel.of(result.publish))


class ChartModel(_Result):
    repo: str
    chart: str
    version: str
    release: str
    namespace: str
    value_files: list[str]
    origin: str = Field(description="cache (an archive already there) or pulled")


class ObjectModel(_Result):
    api_version: str
    kind: str
    namespace: str
    name: str
    source: str = Field(description="the chart (name version) or the bootstrap file")
    action: str = Field(description="create, update or unchanged")
    manifest: dict[str, Any] | None = Field(description="the object applied (dry run: that would be); null when "
                                                        "unchanged or after a real run")


class ClusterBootstrapResult(_Result):
    """`devops cluster bootstrap --json`."""

    environment: str
    cluster: str
    dry_run: bool
    chart: ChartModel
    bootstrap_file: str
    objects: list[ObjectModel]
    applied: int = Field(description="objects applied (dry run: that would be); 0 on a second run")
    unchanged: int

    @classmethod
    def of(cls, result: BootstrapResult) -> ClusterBootstrapResult:
        chart = result.chart
        return cls(
            environment=result.environment, cluster=result.cluster, dry_run=result.dry_run,
            chart=ChartModel(repo=chart.repo, chart=chart.chart, version=chart.version, release=chart.release,
                             namespace=chart.namespace, value_files=list(chart.value_files), origin=chart.origin),
            bootstrap_file=result.bootstrap_file,
            objects=[ObjectModel(api_version=o.api_version, kind=o.kind, namespace=o.namespace, name=o.name,
                                 source=o.source, action=o.action,
                                 manifest=o.manifest if result.dry_run and o.action != "unchanged" else None)
                     for o in result.objects],
            applied=len(result.applied), unchanged=len(result.objects) - len(result.applied))


class ApplicationModel(_Result):
    name: str
    project: str
    sync: str
    health: str
    wave: str
    revision: str


class NodegroupModel(_Result):
    name: str
    min: int
    desired: int
    max: int
    nodes: int = Field(description="Kubernetes nodes labelled with this node group")
    protected: bool = Field(description="never scaled by devops cost (opt-out tag or system capacity label)")
    instance_types: list[str]
    status: str
    saved: str = Field(description="the size devops cost saved while it is down; empty when none")


class NodePoolModel(_Result):
    name: str
    limits: dict[str, str]
    nodes: int
    saved: dict[str, str] | None = Field(description="limits devops cost saved while it holds the pool at zero")


class ClusterStatusResult(_Result):
    """`devops cluster status --json`."""

    environment: str
    cluster: str
    region: str
    autoscaler: str
    ready: bool = Field(description="every Application Synced and Healthy")
    applications: list[ApplicationModel]
    nodegroups: list[NodegroupModel]
    protected: list[str] = Field(description="protected node groups")
    nodepools: list[NodePoolModel]
    cost_windows: list[str] = Field(description="sync windows devops cost holds (project: applications)")

    @classmethod
    def of(cls, result: StatusResult) -> ClusterStatusResult:
        return cls(
            environment=result.environment, cluster=result.cluster, region=result.region,
            autoscaler=result.autoscaler, ready=result.ready,
            applications=[ApplicationModel(name=a.name, project=a.project, sync=a.sync, health=a.health, wave=a.wave,
                                           revision=a.revision) for a in result.applications],
            nodegroups=[NodegroupModel(name=g.name, min=g.min, desired=g.desired, max=g.max, nodes=g.nodes,
                                       protected=g.protected, instance_types=list(g.instance_types),
                                       status=g.status, saved=g.saved) for g in result.nodegroups],
            protected=result.protected,
            nodepools=[NodePoolModel(name=p.name, limits=dict(p.limits), nodes=p.nodes, saved=p.saved)
                       for p in result.nodepools],
            cost_windows=list(result.cost_windows))
