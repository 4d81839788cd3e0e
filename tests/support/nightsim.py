"""The night-and-morning simulation: `devops cost` (the real reconciler, devops/app/cost_reconcile.py
with its cluster side) every 30 minutes against a dev cluster whose controllers act every minute
in between, and while the run is in flight (at each of its checkpoints):

- the scheduler binds Pending pods to Ready nodes with room (the protected `system` node is
  tainted CriticalAddonsOnly: shop pods never land there);
- EKS keeps each node group's nodes at its desired size (a launched node is Ready after
  NODE_BOOT minutes; a removed one is billed for TERMINATE minutes while it drains);
- a simulated Cluster Autoscaler (cluster-autoscaler): Pending pods that fit nowhere raise the
  desired size of a group whose Auto Scaling group still carries the discovery tags, up to its
  max; nodes empty for SCALE_DOWN_UNNEEDED minutes are removed down to the min;
- a simulated Karpenter (karpenter): Pending pods that fit nowhere get new NodeClaims of a
  NodePool unless its `limits.cpu` would be exceeded (so a limit of "0" creates none); deleted
  NodeClaims are drained and terminated; empty nodes consolidated after CONSOLIDATE minutes;
- a simulated Argo CD: every Application self-heals (replicas and NodePool limits back to git)
  unless a deny sync window of its AppProject names it (or "*").

The worlds are the in-memory EKS and Kubernetes API of tests/fakes (tests/contract holds them
equal to moto and to the API stand-in of tests/support/kubeapi.py); with `standin=` a started
API stand-in holds the Kubernetes objects instead, the cost runs reach it over HTTPS through the
real adapter (devops/adapters/kubernetes.py, the official client) and the simulated controllers
write to it directly, as controllers in the cluster would. Time is simulated (one tick a
minute): the figures are minutes and node-hours of the simulated night, not wall-clock speed.
Used by tests/app/cost/test_night_simulation.py (the properties) and
benchmarks/bench_cluster_night.py (the figures).
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from devops.app.cost_cluster import ClusterPorts
from devops.app.cost_reconcile import reconcile
from devops.domain.cost.cluster_state import DISCOVERY_TAG, LIMITS_ANNOTATION, REPLICAS_ANNOTATION
from devops.domain.cost.target import Selector, Target, Workloads
from devops.domain.retry import RetryPolicy
from devops.domain.schedule import Schedule
from tests.fakes.platform import APPS, CLUSTER, REGION, Platform, platform
from tests.support.kubeapi import KubeAPI

ZONE = "Asia/Kolkata"
OFFICE_HOURS = Schedule.build("office-hours", timezone=ZONE, uptime=["Mon-Fri 08:00-20:00"])
START = datetime.fromisoformat("2026-11-25T19:00:00+05:30")  # Wednesday, an hour before the edge
NIGHT_EDGE = datetime.fromisoformat("2026-11-25T20:00:00+05:30")
MORNING_EDGE = datetime.fromisoformat("2026-11-26T08:00:00+05:30")
END = datetime.fromisoformat("2026-11-26T10:00:00+05:30")
RUN_EVERY = 30  # minutes: .github/workflows/cost-schedule.yml

NODE_BOOT = 3  # minutes from launch to Ready (EC2 boot, kubelet join)
POD_START = 2  # minutes from binding to Ready (image pull on a fresh node, readiness probe)
TERMINATE = 2  # minutes a removed node is still billed (drain, EC2 shutdown)
SCALE_DOWN_UNNEEDED = 10  # Cluster Autoscaler's --scale-down-unneeded-time default
CONSOLIDATE = 5  # the NodePool's consolidateAfter
NODE_CPU = 2000  # t3.medium: 2 vCPU, what a NodePool limit counts
ALLOCATABLE = 1500  # what pods may request on it (kubelet and DaemonSets take the rest)
QUICK = RetryPolicy(attempts=3, base_seconds=0, max_seconds=0)
MODES = ("none", "cluster-autoscaler", "karpenter")


@dataclass
class Node:
    name: str
    capacity: str  # node group name, or "nodepool/<name>"
    launched: int
    ready_at: int
    protected: bool = False
    gone_at: int | None = None  # removed: billed until then
    empty_since: int | None = None


@dataclass
class Pod:
    workload: str  # Kind namespace/name
    cpu: int
    node: str | None = None
    ready_at: int | None = None


class Killed(Exception):
    """The cost run "killed" at a checkpoint."""


@dataclass
class Figures:
    """What one simulated night shows."""

    mode: str
    schedule: str  # "cooperating", "node groups only" or "always on"
    node_hours: float  # scheduled capacity, NIGHT_EDGE to MORNING_EDGE
    protected_node_hours: float
    zero_from: int | None  # minutes after the night edge from which no scheduled node exists until morning
    pending_pod_hours: float  # Pending pods through the night (alerts fire on those)
    minutes_to_ready: int | None  # after the morning edge, every pod of git's replicas Ready
    morning_launches: int  # nodes launched after the morning edge
    drift: list[str]  # after the simulation: live differs from git, windows or saved values left
    argocd_reverts: int
    autoscaler_scale_ups: int
    runs: int
    failed_rows: int
    killed: list[str] = field(default_factory=list)


def quantity(value: str) -> int:
    """A cpu quantity in millicores ("16" -> 16000, "500m" -> 500)."""
    text = str(value).strip()
    return int(float(text[:-1])) if text.endswith("m") else int(float(text) * 1000)


@dataclass
class Simulation:
    mode: str  # none, cluster-autoscaler, karpenter
    schedule: str = "cooperating"
    kill: tuple[datetime, str] | None = None  # (run instant, checkpoint) to kill once
    tamper: Callable[[Simulation, int], None] | None = None  # someone acting on the cluster at a minute
    standin: KubeAPI | None = None  # a started API stand-in (token STANDIN_TOKEN) to hold the objects
    world: Platform = field(init=False)
    nodes: list[Node] = field(default_factory=list)
    pods: dict[str, list[Pod]] = field(default_factory=dict)
    git: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)
    minute: int = 0
    reverts: int = 0
    scale_ups: int = 0
    runs: int = 0
    failed_rows: int = 0
    killed: list[str] = field(default_factory=list)
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.world = platform(karpenter=self.mode == "karpenter", general=(1, 2, 3))
        if self.standin is not None:
            self.world.kube = StandinKube(self.standin, self.world.kube.objects.values())  # type: ignore[assignment]
        for obj in self._tracked():
            self.git[self._key(obj)] = self._spec(obj)
        self.nodes.append(Node("system-1", "system", 0, 0, protected=True))
        if self.mode == "karpenter":
            for claim in self.world.kube.all("karpenter.sh/v1", "NodeClaim"):
                self.nodes.append(Node(claim["metadata"]["name"], "nodepool/default", 0, 0))
        else:
            self.nodes += [Node(f"general-{i}", "general", 0, 0) for i in (1, 2)]
        self.step(settle=True)

    # -- the target the schedule runs with ----------------------------------------------------

    def target(self) -> Target:
        cooperating = self.schedule == "cooperating"
        return Target(name="dev", cluster=CLUSTER, region=REGION, schedule=OFFICE_HOURS,
                      nodegroups=Selector(exclude=("system",)),
                      autoscaler=self.mode if cooperating else "none",
                      workloads=Workloads(namespaces=("shop", "monitoring")) if cooperating else Workloads())

    # -- objects Argo CD tracks, and git's version of them ------------------------------------

    def _tracked(self) -> list[dict[str, Any]]:
        kube = self.world.kube
        found = [o for ns in ("shop", "monitoring") for kind in ("Deployment", "StatefulSet")
                 for o in kube.all("apps/v1", kind, ns)]
        return found + kube.all("karpenter.sh/v1", "NodePool")

    @staticmethod
    def _key(obj: dict[str, Any]) -> tuple[str, str, str, str]:
        meta = obj["metadata"]
        return obj["apiVersion"], obj["kind"], str(meta.get("namespace") or ""), meta["name"]

    @staticmethod
    def _spec(obj: dict[str, Any]) -> Any:
        return obj["spec"].get("limits") if obj["kind"] == "NodePool" else obj["spec"].get("replicas")

    # -- the clock ------------------------------------------------------------------------------

    def at(self, minute: int) -> datetime:
        return START + timedelta(minutes=minute)

    def run(self) -> Figures:
        total = int((END - START).total_seconds() // 60)
        night = (int((NIGHT_EDGE - START).total_seconds() // 60), int((MORNING_EDGE - START).total_seconds() // 60))
        scheduled_minutes, protected_minutes, pending_minutes = 0, 0, 0
        nonzero: list[int] = []
        ready_at: int | None = None
        for minute in range(1, total + 1):
            self.minute = minute
            if self.tamper is not None:
                self.tamper(self, minute)
            if self.schedule != "always on" and minute % RUN_EVERY == 0:
                self.cost_run()
            self.step()
            if night[0] <= minute < night[1]:
                billed = [n for n in self.nodes if n.launched <= minute and (n.gone_at is None or n.gone_at > minute)]
                scheduled = [n for n in billed if not n.protected]
                scheduled_minutes += len(scheduled)
                protected_minutes += len(billed) - len(scheduled)
                pending_minutes += sum(1 for pods in self.pods.values() for p in pods if p.ready_at is None)
                if scheduled:
                    nonzero.append(minute - night[0])
            if minute >= night[1] and ready_at is None and self.all_ready():
                ready_at = minute - night[1]
        launches = sum(1 for n in self.nodes if n.launched >= night[1])
        quiet = max(nonzero) + 1 if nonzero else 0
        return Figures(self.mode, self.schedule, scheduled_minutes / 60, protected_minutes / 60,
                       quiet if quiet < night[1] - night[0] else None, pending_minutes / 60, ready_at,
                       launches, self.drift(), self.reverts, self.scale_ups, self.runs, self.failed_rows, self.killed)

    def cost_run(self) -> None:
        at = self.at(self.minute)

        def checkpoint(step: str) -> None:
            if self.kill is not None and self.kill == (at, step):
                self.killed.append(f"{at:%H:%M} {step}")
                raise Killed(step)
            self.step(settle=True)  # the controllers act while the run is in flight

        self.runs += 1
        try:
            result = reconcile([self.target()], at, self.world.eks.port, checkpoint=checkpoint, readback=QUICK,
                               sleep=lambda _s: None, cluster=self.ports())
        except Killed:
            return
        self.failed_rows += len(result.cluster_having("failed")) + len(result.having("failed"))

    def ports(self) -> ClusterPorts:
        api = self.standin
        if api is None:
            return self.world.ports()
        from devops.adapters.kubernetes import Endpoint, Kube

        return ClusterPorts(lambda _target: Kube(Endpoint("standin", api.url, api.ca_pem, lambda: STANDIN_TOKEN,
                                                          timeout=10)), self.world.eks.asg_port)

    # -- the controllers, one minute ----------------------------------------------------------

    def step(self, *, settle: bool = False) -> None:
        """Every controller once, at the current minute (`settle`: no time passes, as within a run)."""
        self.argocd()
        self.follow_nodegroups()
        if self.mode == "karpenter":
            self.karpenter_terminate()
        self.follow_replicas()
        self.schedule_pods()
        if self.mode == "cluster-autoscaler":
            self.cluster_autoscaler()
        if self.mode == "karpenter":
            self.karpenter_provision()
        if not settle:
            self.empty_nodes()

    def live(self) -> list[Node]:
        return [n for n in self.nodes if n.gone_at is None]

    def _remove(self, node: Node) -> None:
        node.gone_at = self.minute + TERMINATE
        for pods in self.pods.values():
            for pod in pods:
                if pod.node == node.name:
                    pod.node, pod.ready_at = None, None

    def argocd(self) -> None:
        kube = self.world.kube
        for obj in self._tracked():
            app = obj["metadata"].get("annotations", {}).get("argocd.argoproj.io/tracking-id", "").split(":")[0]
            wanted = self.git[self._key(obj)]
            if self._spec(obj) == wanted or self._held(app):
                continue
            if obj["kind"] == "NodePool":
                obj["spec"]["limits"] = wanted
            else:
                obj["spec"]["replicas"] = wanted
            kube.put(obj)
            self.reverts += 1

    def _held(self, app: str) -> bool:
        application = self.world.kube.find(APPS, "Application", app, "argocd")
        project = (application or {}).get("spec", {}).get("project", "default")
        found = self.world.kube.find(APPS, "AppProject", project, "argocd") or {}
        return any(w.get("kind") == "deny" and ({"*", app} & set(w.get("applications") or []))
                   for w in (found.get("spec") or {}).get("syncWindows") or [])

    def follow_nodegroups(self) -> None:
        for name, group in self.world.eks.clusters[(REGION, CLUSTER)].groups.items():
            mine = [n for n in self.live() if n.capacity == name]
            for _ in range(group.size.desired - len(mine)):
                self.nodes.append(Node(f"{name}-{next(self._names)}", name, self.minute, self.minute + NODE_BOOT,
                                       protected=name == "system"))
            if len(mine) > group.size.desired:
                # the ASG terminates the emptiest instances first
                for node in sorted(mine, key=self._load)[: len(mine) - group.size.desired]:
                    self._remove(node)

    def _load(self, node: Node) -> int:
        return sum(p.cpu for pods in self.pods.values() for p in pods if p.node == node.name)

    def follow_replicas(self) -> None:
        kube = self.world.kube
        seen: set[str] = set()
        for ns in ("shop", "monitoring"):
            for kind in ("StatefulSet", "Deployment"):
                for obj in kube.all("apps/v1", kind, ns):
                    ref = f"{kind} {ns}/{obj['metadata']['name']}"
                    seen.add(ref)
                    containers = obj["spec"]["template"]["spec"]["containers"]
                    cpu = sum(quantity(c["resources"]["requests"]["cpu"]) for c in containers)
                    pods = self.pods.setdefault(ref, [])
                    want = int(obj["spec"].get("replicas", 1))
                    while len(pods) < want:
                        pods.append(Pod(ref, cpu))
                    if len(pods) > want:  # the controller deletes Pending pods first
                        pods.sort(key=lambda p: p.node is not None)
                        del pods[: len(pods) - want]
        for ref in set(self.pods) - seen:
            del self.pods[ref]

    def _room(self, node: Node) -> int:
        return ALLOCATABLE - self._load(node)

    def schedule_pods(self) -> None:
        for pods in self.pods.values():
            for pod in pods:
                if pod.node is None:
                    fits = [n for n in self.live() if not n.protected and n.ready_at <= self.minute
                            and self._room(n) >= pod.cpu]
                    if fits:
                        pod.node, pod.ready_at = fits[0].name, self.minute + POD_START

    def pending(self) -> list[Pod]:
        return [p for pods in self.pods.values() for p in pods if p.node is None]

    def _unplaceable_cpu(self) -> int:
        """CPU of the Pending pods that no node (Ready or still booting) has room for."""
        room = {n.name: self._room(n) for n in self.live() if not n.protected}
        left = 0
        for pod in self.pending():
            spot = next((name for name, free in room.items() if free >= pod.cpu), None)
            if spot is None:
                left += pod.cpu
            else:
                room[spot] -= pod.cpu
        return left

    def cluster_autoscaler(self) -> None:
        need = self._unplaceable_cpu()
        if not need:
            return
        for name, group in sorted(self.world.eks.clusters[(REGION, CLUSTER)].groups.items()):
            tags = group.asg_tags
            if name == "system" or DISCOVERY_TAG not in tags or f"k8s.io/cluster-autoscaler/{CLUSTER}" not in tags:
                continue
            extra = min(math.ceil(need / ALLOCATABLE), group.size.max - group.size.desired)
            if extra > 0:
                size = group.size
                group.size = type(size)(size.min, size.max, size.desired + extra)
                self.scale_ups += 1
                return

    def empty_nodes(self) -> None:
        """Cluster Autoscaler's scale-down and Karpenter's consolidation of empty nodes."""
        for node in self.live():
            if node.protected or node.ready_at > self.minute:
                continue
            if self._load(node):
                node.empty_since = None
                continue
            node.empty_since = self.minute if node.empty_since is None else node.empty_since
            idle = self.minute - node.empty_since
            if self.mode == "cluster-autoscaler" and idle >= SCALE_DOWN_UNNEEDED:
                group = self.world.eks.clusters[(REGION, CLUSTER)].groups[node.capacity]
                if DISCOVERY_TAG in group.asg_tags and group.size.desired > group.size.min:
                    size = group.size
                    group.size = type(size)(size.min, size.max, size.desired - 1)
                    self._remove(node)
            if self.mode == "karpenter" and idle >= CONSOLIDATE and node.capacity.startswith("nodepool/"):
                claim = self.world.kube.find("karpenter.sh/v1", "NodeClaim", node.name)
                if claim is not None and not claim["metadata"].get("deletionTimestamp"):
                    claim["metadata"]["deletionTimestamp"] = self.at(self.minute).isoformat()
                    self.world.kube.put(claim)

    def karpenter_terminate(self) -> None:
        kube = self.world.kube
        claims = {c["metadata"]["name"]: c for c in kube.all("karpenter.sh/v1", "NodeClaim")}
        for node in self.live():
            if not node.capacity.startswith("nodepool/"):
                continue
            claim = claims.get(node.name)
            if claim is None or claim["metadata"].get("deletionTimestamp"):
                self._remove(node)  # drained: its pods go Pending
                if claim is not None:
                    claim["metadata"]["finalizers"] = []
                    kube.put(claim)  # the finalizer gone, the object goes

    def karpenter_provision(self) -> None:
        need = self._unplaceable_cpu()
        kube = self.world.kube
        for pool in kube.all("karpenter.sh/v1", "NodePool"):
            name = pool["metadata"]["name"]
            limit = quantity((pool["spec"].get("limits") or {}).get("cpu", "1000"))
            used = NODE_CPU * sum(1 for n in self.live() if n.capacity == f"nodepool/{name}")
            while need > 0 and used + NODE_CPU <= limit:
                claim = f"{name}-{next(self._names):04d}"
                kube.put({"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
                          "metadata": {"name": claim, "labels": {"karpenter.sh/nodepool": name},
                                       "finalizers": ["karpenter.sh/termination"]}})
                self.nodes.append(Node(claim, f"nodepool/{name}", self.minute, self.minute + NODE_BOOT))
                self.scale_ups += 1
                used += NODE_CPU
                need -= ALLOCATABLE

    # -- what the morning must show -------------------------------------------------------------

    def all_ready(self) -> bool:
        for key, replicas in self.git.items():
            if key[1] == "NodePool":
                continue
            pods = self.pods.get(f"{key[1]} {key[2]}/{key[3]}", [])
            ready = [p for p in pods if p.ready_at is not None and p.ready_at <= self.minute]
            if len(ready) < int(replicas):
                return False
        return True

    def drift(self) -> list[str]:
        """Live objects that differ from git, and what the schedule left behind (windows, saved
        values, suspended discovery tags)."""
        found = [f"{k[1]} {k[3]}: {self._spec(o)} live, {self.git[k]} in git" for o in self._tracked()
                 if self._spec(o) != self.git[(k := self._key(o))]]
        found += [f"{k[1]} {k[3]}: {a} left" for o in self._tracked() for a in (REPLICAS_ANNOTATION, LIMITS_ANNOTATION)
                  if a in (o["metadata"].get("annotations") or {}) and (k := self._key(o))]
        for project in self.world.kube.all(APPS, "AppProject", "argocd"):
            for window in (project.get("spec") or {}).get("syncWindows") or []:
                if str(window.get("description", "")).startswith("devops cost"):
                    found.append(f"AppProject {project['metadata']['name']}: sync window left")
        for name, group in self.world.eks.clusters[(REGION, CLUSTER)].groups.items():
            if any(k.startswith("devops.cost.suspended/") for k in group.asg_tags):
                found.append(f"AutoScalingGroup of {name}: discovery tag still suspended")
        return found


STANDIN_TOKEN = "night-token"


class StandinKube:
    """The simulated controllers' direct access to the API stand-in (what KubeWorld offers them):
    seeded with the objects of the in-memory platform, CRDs first."""

    def __init__(self, api: KubeAPI, objects: Iterable[dict[str, Any]]) -> None:
        self.api = api
        for obj in sorted(objects, key=lambda o: o["kind"] != "CustomResourceDefinition"):
            seeded = copy.deepcopy(obj)
            seeded["metadata"].pop("resourceVersion", None)
            api.put(seeded)

    def all(self, api_version: str, kind: str, namespace: str = "") -> list[dict[str, Any]]:
        res = self.api._by_kind(api_version, kind)
        with self.api._lock:
            return [copy.deepcopy(o) for (group, plural, ns, _), o in sorted(self.api.objects.items())
                    if (group, plural) == (res.group, res.plural) and (not namespace or ns == namespace)]

    def find(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        return self.api.get(api_version, kind, name, namespace)

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        return self.api.put(obj)


def simulate(mode: str, schedule: str = "cooperating", **options: Any) -> Figures:
    return Simulation(mode, schedule, **options).run()
