"""The cluster side of a cost schedule: what `devops cost` does besides sizing node groups, so
that the autoscaler and Argo CD cooperate instead of undoing the night (docs/cost.md, "Autoscalers
and Argo CD").

Off-hours, in this order, before the node groups go to zero:
  1. a deny sync window on the AppProjects of the Applications whose objects change (Argo CD's
     self-heal would scale them straight back);
  2. the autoscaler can no longer add capacity: Cluster Autoscaler's discovery tag moved aside on
     the scheduled groups' Auto Scaling groups; Karpenter's NodePools limited to zero;
  3. the workloads of the scheduled capacity to zero replicas (nothing left Pending);
  4. Karpenter's NodeClaims of those NodePools deleted (Karpenter drains and terminates them).
The morning, after the node groups are restored: the autoscaler back, the workloads back (by
Argo CD sync wave, StatefulSets first), then the windows removed.

Each change is one write of one object carrying the value to restore (devops/domain/cost/
cluster_state.py), checked against the version read (409: the next run reads it again). Anything
that fails stops this target's side and keeps its capacity up (fail closed): scaling nodes away
under an autoscaler that still runs would only make it churn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from devops.app.cluster_ports import KubePort
from devops.domain.cost import cluster_state as rules
from devops.domain.cost.cluster_state import AutoScalingGroup, ClusterOutcome, NodePool, Workload
from devops.domain.cost.target import Target
from devops.errors import DevopsError

APPS = "argoproj.io/v1alpha1"
KARPENTER = "karpenter.sh/v1"
WORKLOAD_KINDS = ("StatefulSet", "Deployment")  # restored in this order within a wave


class AsgPort(Protocol):
    """The Auto Scaling groups of EKS managed node groups (devops/adapters/aws/autoscaling.py)."""

    def groups(self, cluster: str) -> list[AutoScalingGroup]:
        """Every Auto Scaling group EKS made for `cluster`'s node groups, with its tags."""
        ...

    def set_tags(self, group: str, tags: Mapping[str, str]) -> None: ...

    def delete_tags(self, group: str, keys: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class ClusterPorts:
    """How the cost run reaches a target's cluster side (built by devops/wiring/cost.py)."""

    kube_for: Callable[[Target], KubePort]
    asg_for: Callable[[str], AsgPort]
    argocd_namespace: str = "argocd"


class _Stop(Exception):
    """A step failed: this target's side stops here (rows say what failed)."""


@dataclass
class ClusterSide:
    """One target's cluster side for one run."""

    target: Target
    at: datetime
    want: str
    reason: str
    ports: ClusterPorts
    dry_run: bool = False
    checkpoint: Callable[[str], None] = lambda _step: None
    rows: list[ClusterOutcome] = field(default_factory=list)
    _kube: KubePort | None = None

    # -- plumbing ----------------------------------------------------------------------------

    def _row(self, kind: str, name: str, action: rules.ClusterAction, before: str = "", after: str = "",
             message: str = "") -> ClusterOutcome:
        if self.dry_run and action in rules.CLUSTER_CHANGES:
            message = f"{message} (dry run)".strip()
        row = ClusterOutcome(self.target.name, self.target.cluster, kind, name, self.want, action, before, after,
                             message)
        self.rows.append(row)
        return row

    def _k(self, method: str, *args: Any, **kwargs: Any) -> Callable[[], Any]:
        """A call of the cluster's API to run later (inside `_read`/`_write`, which report failures)."""
        return partial(self._kube_call, method, args, kwargs)

    def _kube_call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return getattr(self.kube(), method)(*args, **kwargs)

    def kube(self) -> KubePort:
        if self._kube is None:
            self._kube = self.ports.kube_for(self.target)
        return self._kube

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()
            self._kube = None

    def _write(self, kind: str, name: str, action: rules.ClusterAction, before: str, after: str, message: str,
               write: Callable[[], object]) -> None:
        """Do one write (not on a dry run) and report it; a failure is a failed row and stops the side."""
        if not self.dry_run:
            try:
                write()
            except DevopsError as exc:
                self._row(kind, name, "failed", before, after, f"{exc}; the next run finishes it")
                raise _Stop from None
        self._row(kind, name, action, before, after, message)

    def _read(self, what: str, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except DevopsError as exc:
            self._row(what, "*", "failed", message=f"{exc}; the next run finishes it")
            raise _Stop from None

    # -- reads -------------------------------------------------------------------------------

    def workloads(self) -> list[Workload]:
        found: list[Workload] = []
        for namespace in self.target.workloads.namespaces:
            for kind in WORKLOAD_KINDS:
                objects = self._read(kind, self._k("list", "apps/v1", kind, namespace))
                for obj in objects:
                    workload = Workload.of(obj, self.target.opt_out_tag)
                    if self.target.workloads.selects(workload.namespace, workload.name):
                        found.append(workload)
        return found

    def nodepools(self) -> list[NodePool]:
        if self.target.autoscaler != "karpenter":
            return []
        objects = self._read("NodePool", self._k("list", KARPENTER, "NodePool"))
        return [pool for pool in (NodePool.of(o) for o in objects) if self.target.nodepools.selects(pool.name)]

    def applications(self) -> dict[str, Mapping[str, Any]]:
        if not self.target.needs_kube:
            return {}
        objects = self._read("Application", self._k("list", APPS, "Application", self.ports.argocd_namespace))
        return {str(o["metadata"]["name"]): o for o in objects}

    def groups(self, nodegroups: Iterable[str]) -> list[AutoScalingGroup]:
        if self.target.autoscaler != "cluster-autoscaler":
            return []
        wanted = set(nodegroups)
        found = self._read("AutoScalingGroup", lambda: self.ports.asg_for(self.target.region).groups(
            self.target.cluster))
        return [group for group in found if group.nodegroup in wanted]

    # -- off-hours ---------------------------------------------------------------------------

    def night(self, nodegroups: Sequence[str]) -> bool:
        """Steps 1-4 of the module docstring; True when the node groups may go to zero now."""
        try:
            pools, workloads = self.nodepools(), self.workloads()
            apps = self.applications()
            touched = [p.application for p in pools if p.saved is not None or rules.nodepool_change(p, "down")]
            touched += [w.application for w in workloads
                        if not w.opted_out and (w.saved is not None or rules.workload_change(w, "down", self.at, ""))]
            self._windows_on(apps, [a for a in touched if a])
            self.checkpoint("after-window")
            for group in self.groups(nodegroups):
                self._move_tag(group, "down")
            for pool in pools:
                self._nodepool(pool, "down")
            self.checkpoint("after-suspend")
            for workload in workloads:
                self._workload(workload, "down")
            self.checkpoint("after-workloads")
            for pool in pools:
                self._drain(pool)
        except _Stop:
            return False
        return True

    def _windows_on(self, apps: Mapping[str, Mapping[str, Any]], touched: Iterable[str]) -> None:
        by_project: dict[str, list[str]] = {}
        for name in sorted(set(touched)):
            app = apps.get(name)
            if app is None:
                self._row("SyncWindow", name, "skipped", message="no such Application in "
                          f"{self.ports.argocd_namespace}; nothing to hold")
                continue
            by_project.setdefault(str((app.get("spec") or {}).get("project") or "default"), []).append(name)
        for project, names in sorted(by_project.items()):
            found = self._read("AppProject", self._k("get", APPS, "AppProject", project,
                                                     self.ports.argocd_namespace))
            if found is None:
                self._row("SyncWindow", project, "failed", message="AppProject not found")
                raise _Stop
            windows = rules.windows_with(found, self.target.name, names)
            if windows is None:
                self._row("SyncWindow", project, "none", message=f"deny window holds {', '.join(names)}")
                continue
            version = str(found["metadata"].get("resourceVersion") or "")
            self._write("SyncWindow", project, "window-on", "", ", ".join(names),
                        "Argo CD will not sync or self-heal these until the morning run",
                        self._k("patch", APPS, "AppProject", project, {"spec": {"syncWindows": windows}},
                                namespace=self.ports.argocd_namespace, resource_version=version))

    def _move_tag(self, group: AutoScalingGroup, want: str) -> None:
        move = rules.discovery_change(group, want)
        if move is None:
            state = "suspended" if rules.DISCOVERY_TAG not in group.tags else "managed"
            self._row("AutoScalingGroup", group.name, "none", message=f"Cluster Autoscaler: {state}")
            return
        asg = self.ports.asg_for(self.target.region)

        def write() -> None:
            if move.set:
                asg.set_tags(group.name, move.set)
            asg.delete_tags(group.name, list(move.delete))

        self._write("AutoScalingGroup", group.name, move.action, "", "", f"{group.nodegroup}: {move.message}", write)

    def _nodepool(self, pool: NodePool, want: str) -> None:
        if pool.broken:
            self._row("NodePool", pool.name, "skipped", message=f"{pool.broken}; fix or remove the annotation")
            return
        change = rules.nodepool_change(pool, want)
        if change is None:
            self._row("NodePool", pool.name, "none", rules._limits_text(pool.limits), message=(
                "limited to zero" if want == "down" else "nothing saved"))
            return
        self._write("NodePool", pool.name, change.action, change.before, change.after, change.message,
                    self._k("patch", KARPENTER, "NodePool", pool.name, change.patch, resource_version=pool.version))

    def _workload(self, workload: Workload, want: str) -> None:
        name = workload.ref
        if workload.opted_out:
            self._row(workload.kind, name, "skipped", message=f"tagged {self.target.opt_out_tag}")
            return
        if workload.broken:
            self._row(workload.kind, name, "skipped", message=f"{workload.broken}; fix or remove the annotation "
                      f"{rules.REPLICAS_ANNOTATION}")
            return
        change = rules.workload_change(workload, want, self.at, self.target.schedule.name)
        if change is None:
            self._row(workload.kind, name, "none", str(workload.replicas), message=(
                "at zero" if want == "down" else "nothing saved"))
            return
        self._write(workload.kind, name, change.action, change.before, change.after, change.message,
                    self._k("patch", "apps/v1", workload.kind, workload.name, change.patch,
                            namespace=workload.namespace, resource_version=workload.version))

    def _drain(self, pool: NodePool) -> None:
        claims = self._read("NodeClaim", self._k("list", KARPENTER, "NodeClaim",
                                                 label_selector=f"{rules.NODEPOOL_LABEL}={pool.name}"))
        for claim in claims:
            meta = claim.get("metadata") or {}
            if meta.get("deletionTimestamp"):
                self._row("NodeClaim", str(meta.get("name")), "none", message="being drained by Karpenter")
                continue
            self._write("NodeClaim", str(meta.get("name")), "drain", pool.name, "",
                        "deleted: Karpenter drains the node and terminates it",
                        self._k("delete", KARPENTER, "NodeClaim", str(meta.get("name"))))

    # -- the morning -------------------------------------------------------------------------

    def morning(self, nodegroups: Sequence[str]) -> None:
        """After the node groups are restored: the autoscaler, the workloads, then the windows."""
        try:
            for group in self.groups(nodegroups):
                self._move_tag(group, "up")
            for pool in self.nodepools():
                self._nodepool(pool, "up")
            apps = self.applications()
            workloads = sorted(self.workloads(), key=lambda w: (_wave(apps.get(w.application or "")),
                                                                 WORKLOAD_KINDS.index(w.kind), w.ref))
            for workload in workloads:
                self._workload(workload, "up")
            if self.target.needs_kube:
                self._windows_off(apps)
        except _Stop:
            return

    def _windows_off(self, apps: Mapping[str, Mapping[str, Any]]) -> None:
        projects = sorted({str((a.get("spec") or {}).get("project") or "default") for a in apps.values()})
        for project in projects:
            found = self._read("AppProject", self._k("get", APPS, "AppProject", project,
                                                     self.ports.argocd_namespace))
            windows = rules.windows_without(found, self.target.name) if found is not None else None
            if windows is None or found is None:
                continue
            version = str(found["metadata"].get("resourceVersion") or "")
            self._write("SyncWindow", project, "window-off", "deny", "",
                        "Argo CD syncs and self-heals again",
                        self._k("patch", APPS, "AppProject", project, {"spec": {"syncWindows": windows}},
                                namespace=self.ports.argocd_namespace, resource_version=version))


def _wave(app: Mapping[str, Any] | None) -> int:
    """An Application's sync wave (its annotation), 0 when unset or not a number."""
    value = ((app or {}).get("metadata") or {}).get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0")
    try:
        return int(str(value))
    except ValueError:
        return 0
