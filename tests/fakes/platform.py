"""A dev-like cluster in memory for the cost schedule's cluster side: EKS node groups (with their
Auto Scaling groups) in tests/fakes/eks.py and the Kubernetes objects Argo CD, Karpenter and the
shop put there in tests/fakes/kube.py. Shared by tests/app/cost and the night-and-morning
simulation (tests/cost/simulation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devops.app.cost_cluster import ClusterPorts
from tests.fakes.eks import EksWorld
from tests.fakes.kube import FakeKube, KubeWorld
from tests.support.kubeapi import crd, known

CLUSTER = "techitfactory-dev"
REGION = "ap-south-1"
APPS = "argoproj.io/v1alpha1"

# (Application, project, wave, kind, namespace, name, replicas)
SHOP = (
    ("mongodb-dev", "shop-dev", -1, "StatefulSet", "shop", "mongodb", 1),
    ("cart-dev", "shop-dev", 0, "Deployment", "shop", "cart", 2),
    ("order-dev", "shop-dev", 0, "Deployment", "shop", "order", 1),
    ("frontend-dev", "shop-dev", 1, "Deployment", "shop", "frontend", 2),
    ("grafana-dev", "shop-dev", -1, "Deployment", "monitoring", "grafana", 1),
)


def workload(app: str, kind: str, namespace: str, name: str, replicas: int, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name, **labels},
                         "annotations": {"argocd.argoproj.io/tracking-id": f"{app}:apps/{kind}:{namespace}/{name}"}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": f"shop/{name}@sha256:" + "a" * 64,
                                                           "resources": {"requests": {"cpu": "250m"}}}]}}}}


def application(name: str, project: str, wave: int) -> dict[str, Any]:
    return {"apiVersion": APPS, "kind": "Application",
            "metadata": {"name": name, "namespace": "argocd", "annotations": {"argocd.argoproj.io/sync-wave": str(wave)}},
            "spec": {"project": project, "destination": {"server": "https://kubernetes.default.svc"}},
            "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}


@dataclass
class Platform:
    eks: EksWorld
    kube: KubeWorld

    def ports(self) -> ClusterPorts:
        return ClusterPorts(lambda _target: FakeKube(self.kube), self.eks.asg_port)

    def replicas(self, namespace: str, kind: str, name: str) -> int:
        found = self.kube.find("apps/v1", kind, name, namespace)
        assert found is not None
        return int(found["spec"]["replicas"])

    def windows(self, project: str) -> list[dict[str, Any]]:
        found = self.kube.find(APPS, "AppProject", project, "argocd")
        assert found is not None
        return list((found.get("spec") or {}).get("syncWindows") or [])

    def limits(self, pool: str = "default") -> dict[str, str]:
        found = self.kube.find("karpenter.sh/v1", "NodePool", pool)
        assert found is not None
        return dict(found["spec"].get("limits") or {})


def platform(*, karpenter: bool = False, general: tuple[int, int, int] = (1, 2, 3)) -> Platform:
    """dev: a protected `system` group and a scheduled `general` group (cluster-autoscaler), or
    (karpenter) the NodePool `default` with two NodeClaims instead of `general`."""
    eks = EksWorld()
    groups = {"system": (1, 1, 2)} if karpenter else {"system": (1, 1, 2), "general": general}
    eks.cluster(CLUSTER, groups, ng_tags={"system": {"devops.cost.opt-out": "true"}, "general": {"team": "platform"}})
    kube = KubeWorld()
    for kind in (("argoproj.io/v1alpha1", "Application"), ("argoproj.io/v1alpha1", "AppProject"),
                 ("karpenter.sh/v1", "NodePool"), ("karpenter.sh/v1", "NodeClaim")):
        kube.put(crd(known(*kind)))
    for namespace in ("argocd", "shop", "monitoring"):
        kube.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    for project in ("shop-dev", "cluster-dev"):
        kube.put({"apiVersion": APPS, "kind": "AppProject", "metadata": {"name": project, "namespace": "argocd"},
                  "spec": {"sourceRepos": ["*"], "syncWindows": [
                      {"kind": "allow", "schedule": "0 6 * * *", "duration": "1h", "applications": ["*"],
                       "description": "a window of the team's, kept"}] if project == "shop-dev" else []}})
    for app, project, wave, kind, namespace, name, replicas in SHOP:
        kube.put(application(app, project, wave))
        kube.put(workload(app, kind, namespace, name, replicas))
    if karpenter:
        kube.put(application("karpenter-nodes-dev", "cluster-dev", -4))
        kube.put({"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
                  "metadata": {"name": "default", "annotations": {
                      "argocd.argoproj.io/tracking-id": "karpenter-nodes-dev:karpenter.sh/NodePool:/default"}},
                  "spec": {"limits": {"cpu": "16", "memory": "64Gi"}, "template": {"spec": {}}}})
        for claim in ("default-a1", "default-b2"):
            kube.put({"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
                      "metadata": {"name": claim, "labels": {"karpenter.sh/nodepool": "default"},
                                   "finalizers": ["karpenter.sh/termination"]}})
    return Platform(eks, kube)
