"""The cluster side of a cost schedule: what each object becomes off-hours and back, and where the
value to restore is kept (on the object itself, so a run killed anywhere loses nothing).

- Argo CD: a deny sync window on the AppProjects of the Applications whose objects change (self-heal
  would undo them); kept as the window itself; removed last in the morning.
- Cluster Autoscaler: the Auto Scaling group's tag `k8s.io/cluster-autoscaler/enabled` moved to
  `devops.cost.suspended/k8s.io/cluster-autoscaler/enabled`, so it no longer scales the group;
  moved back in the morning.
- Deployments and StatefulSets: replicas 0 with the count saved in annotation
  `devops.cost/replicas` in the same patch; the morning restores both in one patch.
- Karpenter NodePools: every `spec.limits` "0" with the limits saved in annotation
  `devops.cost/limits` in the same patch, and their NodeClaims deleted (Karpenter drains them);
  the morning restores the limits exactly.

Every change is one write of one object with its saved value in it, and decided from what is
read each run, so the next run finishes whatever a killed one left. Pure: the reconciler
(devops/app/cost_cluster.py) reads and writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from devops.domain.cost.nodegroups import tagged_true

REPLICAS_ANNOTATION = "devops.cost/replicas"
LIMITS_ANNOTATION = "devops.cost/limits"
DISCOVERY_TAG = "k8s.io/cluster-autoscaler/enabled"
SUSPENDED_PREFIX = "devops.cost.suspended/"
WINDOW_PREFIX = "devops cost: "
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
INSTANCE_LABEL = "argocd.argoproj.io/instance"
NODEPOOL_LABEL = "karpenter.sh/nodepool"

ClusterAction = Literal["window-on", "window-off", "suspend", "resume", "scale-down", "restore", "drain",
                        "clear-state", "none", "skipped", "failed"]
CLUSTER_CHANGES: tuple[ClusterAction, ...] = ("window-on", "window-off", "suspend", "resume", "scale-down",
                                              "restore", "drain", "clear-state")


@dataclass
class ClusterOutcome:
    """What happened (or would) to one object of the cluster side."""

    target: str
    cluster: str
    kind: str  # SyncWindow, AutoScalingGroup, Deployment, StatefulSet, NodePool, NodeClaim
    name: str  # namespace/name, the project of a window, the group name
    want: str
    action: ClusterAction
    before: str = ""
    after: str = ""
    message: str = ""


@dataclass(frozen=True)
class Change:
    """One write: a merge patch of an object at the version it was read (or a tag move)."""

    patch: Mapping[str, Any]
    action: ClusterAction
    before: str
    after: str
    message: str = ""


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def application_of(obj: Mapping[str, Any]) -> str | None:
    """The Argo CD Application that manages `obj` (annotation tracking, Argo CD 3's default, or
    the instance label), None for an object no Application tracks."""
    tracking = _annotations(obj).get(TRACKING_ANNOTATION)
    if tracking and ":" in tracking:
        return tracking.split(":", 1)[0]
    label = ((obj.get("metadata") or {}).get("labels") or {}).get(INSTANCE_LABEL)
    return str(label) if label else None


# -- workloads ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedReplicas:
    replicas: int
    at: datetime
    schedule: str

    def encode(self) -> str:
        return f"replicas={self.replicas} at={self.at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} schedule={self.schedule}"

    @classmethod
    def decode(cls, value: str) -> SavedReplicas:
        fields = dict(part.split("=", 1) for part in value.split() if "=" in part)
        try:
            replicas = int(fields["replicas"])
            at = datetime.strptime(fields["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            raise ValueError(f"not a saved replica count: {value!r}") from None
        if replicas < 1:
            raise ValueError(f"saved replica count {replicas} cannot be restored")
        return cls(replicas, at, fields.get("schedule", ""))


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str
    replicas: int
    version: str  # metadata.resourceVersion as read
    saved: SavedReplicas | None = None
    broken: str = ""  # why the saved annotation cannot be read
    opted_out: bool = False
    application: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def of(cls, obj: Mapping[str, Any], opt_out_key: str) -> Workload:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        annotations = _annotations(obj)
        raw = annotations.get(REPLICAS_ANNOTATION)
        saved, broken = None, ""
        if raw is not None:
            try:
                saved = SavedReplicas.decode(raw)
            except ValueError as exc:
                broken = str(exc)
        replicas = (obj.get("spec") or {}).get("replicas")
        return cls(str(obj.get("kind")), str(meta.get("namespace") or ""), str(meta.get("name")),
                   1 if replicas is None else int(replicas), str(meta.get("resourceVersion") or ""), saved, broken,
                   tagged_true(labels, opt_out_key) or tagged_true(annotations, opt_out_key), application_of(obj))


def workload_change(workload: Workload, want: str, at: datetime, schedule: str) -> Change | None:
    """The one patch that takes `workload` where `want` says, its saved count in the same write;
    None when there is nothing to do. A count of 0 is never saved as the running count, and a
    saved count is never overwritten while down (it is the count of the last uptime)."""
    if workload.broken:
        return None
    if want == "down":
        if workload.replicas == 0:
            return None
        saved = workload.saved or SavedReplicas(workload.replicas, at, schedule)
        again = " (scaled up meanwhile; the saved count is kept)" if workload.saved else ""
        return Change({"metadata": {"annotations": {REPLICAS_ANNOTATION: saved.encode()}}, "spec": {"replicas": 0}},
                      "scale-down", str(workload.replicas), "0", f"saved {saved.replicas}{again}")
    if workload.saved is None:
        return None
    if workload.replicas != 0:
        return Change({"metadata": {"annotations": {REPLICAS_ANNOTATION: None}}}, "clear-state",
                      str(workload.replicas), str(workload.replicas),
                      f"scaled to {workload.replicas} by hand meanwhile; keeping it, clearing the saved count")
    return Change({"metadata": {"annotations": {REPLICAS_ANNOTATION: None}},
                   "spec": {"replicas": workload.saved.replicas}},
                  "restore", "0", str(workload.saved.replicas))


# -- Karpenter NodePools -------------------------------------------------------------------------


@dataclass(frozen=True)
class NodePool:
    name: str
    limits: Mapping[str, str]
    version: str
    saved: Mapping[str, str] | None = None
    broken: str = ""
    application: str | None = None

    @property
    def at_zero(self) -> bool:
        return bool(self.limits) and "cpu" in self.limits and all(_zero(v) for v in self.limits.values())

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> NodePool:
        meta = obj.get("metadata") or {}
        limits = {str(k): str(v) for k, v in ((obj.get("spec") or {}).get("limits") or {}).items()}
        raw = _annotations(obj).get(LIMITS_ANNOTATION)
        saved: dict[str, str] | None = None
        broken = ""
        if raw is not None:
            try:
                loaded = json.loads(raw)
                if not isinstance(loaded, dict) or not all(isinstance(v, str | int) for v in loaded.values()):
                    raise ValueError
                saved = {str(k): str(v) for k, v in loaded.items()}
            except ValueError:
                broken = f"annotation {LIMITS_ANNOTATION} is not a JSON object of limits: {raw!r}"
        return cls(str(meta.get("name")), limits, str(meta.get("resourceVersion") or ""), saved, broken,
                   application_of(obj))


def _zero(value: str) -> bool:
    return re.fullmatch(r"0+(\.0*)?[a-zA-Z]*", value.strip()) is not None


def _limits_text(limits: Mapping[str, str] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((limits or {}).items())) or "(none)"


def nodepool_change(pool: NodePool, want: str) -> Change | None:
    """Limit the NodePool to zero (every limit "0", cpu at least), saving its limits in the same
    patch; in the morning restore them exactly (keys added at night removed)."""
    if pool.broken:
        return None
    if want == "down":
        if pool.at_zero:
            return None
        saved = pool.saved if pool.saved is not None else dict(pool.limits)
        zero = {key: "0" for key in {*pool.limits, "cpu"}}
        return Change({"metadata": {"annotations": {LIMITS_ANNOTATION: json.dumps(saved, sort_keys=True)}},
                       "spec": {"limits": zero}}, "scale-down", _limits_text(pool.limits), _limits_text(zero),
                      f"saved {_limits_text(saved)}")
    if pool.saved is None:
        return None
    restored: dict[str, str | None] = {key: None for key in pool.limits if key not in pool.saved}
    restored.update(pool.saved)
    spec: dict[str, Any] = {"limits": restored} if pool.saved else {"limits": None}
    return Change({"metadata": {"annotations": {LIMITS_ANNOTATION: None}}, "spec": spec}, "restore",
                  _limits_text(pool.limits), _limits_text(pool.saved))


# -- Cluster Autoscaler's discovery tag on the Auto Scaling groups --------------------------------


@dataclass(frozen=True)
class AutoScalingGroup:
    name: str
    nodegroup: str  # eks:nodegroup-name
    min: int
    max: int
    desired: int
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def suspended_key(self) -> str:
        return SUSPENDED_PREFIX + DISCOVERY_TAG


@dataclass(frozen=True)
class TagMove:
    """Set `set` first, then delete `delete`: the value is never only in flight."""

    set: Mapping[str, str]
    delete: Sequence[str]
    action: ClusterAction
    message: str


def discovery_change(group: AutoScalingGroup, want: str) -> TagMove | None:
    """Off-hours Cluster Autoscaler must not scale the group up for pending pods: its discovery tag
    is moved aside (set the copy, then delete the tag); the morning moves it back."""
    saved_key = group.suspended_key
    if want == "down":
        if DISCOVERY_TAG in group.tags:
            value = group.tags.get(saved_key, group.tags[DISCOVERY_TAG])
            return TagMove({saved_key: value} if saved_key not in group.tags else {}, [DISCOVERY_TAG], "suspend",
                           f"{DISCOVERY_TAG} moved to {saved_key}: Cluster Autoscaler leaves the group alone")
        return None
    if saved_key in group.tags:
        return TagMove({DISCOVERY_TAG: group.tags[saved_key]}, [saved_key], "resume",
                       f"{DISCOVERY_TAG} restored: Cluster Autoscaler manages the group again")
    return None


# -- Argo CD sync windows ------------------------------------------------------------------------


def window_description(target: str) -> str:
    return f"{WINDOW_PREFIX}{target} off-hours (removed by the morning run)"


def deny_window(target: str, applications: Sequence[str]) -> dict[str, Any]:
    """A deny window that is always active while it exists (a start every minute, lasting an hour):
    no automated sync or self-heal of these Applications until the morning run removes it."""
    return {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "applications": sorted(set(applications)),
            "manualSync": False, "timeZone": "UTC", "description": window_description(target)}


def project_windows(project: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [dict(w) for w in (project.get("spec") or {}).get("syncWindows") or []]


def cost_windows(project: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The windows of `project` that devops cost holds."""
    return [w for w in project_windows(project) if str(w.get("description", "")).startswith(WINDOW_PREFIX)]


def windows_with(project: Mapping[str, Any], target: str, applications: Sequence[str]) -> list[dict[str, Any]] | None:
    """The project's windows with this target's deny window covering `applications` (kept: ones it
    covered already); None when that is already so."""
    mine = window_description(target)
    others = [w for w in project_windows(project) if w.get("description") != mine]
    current = [w for w in project_windows(project) if w.get("description") == mine]
    covered = set(applications) | {a for w in current for a in w.get("applications") or []}
    wanted = deny_window(target, sorted(covered))
    if len(current) == 1 and current[0] == wanted:
        return None
    return [*others, wanted]


def windows_without(project: Mapping[str, Any], target: str) -> list[dict[str, Any]] | None:
    """The project's windows without this target's; None when it has none."""
    mine = window_description(target)
    windows = project_windows(project)
    kept = [w for w in windows if w.get("description") != mine]
    return None if len(kept) == len(windows) else kept
