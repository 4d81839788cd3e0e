"""The `KubePort` (devops/app/cluster_ports.py): the same assertions against the in-memory fake
(tests/fakes/kube.py) and the real adapter (devops/adapters/kubernetes.py, the official client)
over HTTPS to the API stand-in (tests/support/kubeapi.py), so what tests/app/cluster and the cost
schedule's tests learn from the fake holds for the client. The real side is marked slow."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from devops.adapters.kubernetes import Conflict, NotServed
from devops.app.cluster_ports import KubePort
from devops.errors import ExternalError
from tests.fakes.kube import FakeKube, KubeWorld
from tests.support.kubeapi import KubeAPI, crd, known


@dataclass
class Side:
    port: KubePort
    put: Callable[[Mapping[str, Any]], dict[str, Any]]  # arrange state through the back door


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        world = KubeWorld()
        yield Side(FakeKube(world), world.put)
        return
    from devops.adapters.kubernetes import Endpoint, Kube

    api = KubeAPI(token="contract-token").start()
    kube = Kube(Endpoint("standin", api.url, api.ca_pem, lambda: "contract-token", timeout=10))
    try:
        yield Side(kube, api.put)
    finally:
        kube.close()
        api.stop()


def deployment(name: str, replicas: int = 2, namespace: str = "shop", **labels: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name, **labels}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "shop/x@sha256:" + "a" * 64}]}}}}


def test_get_list_and_server_side_apply(side: Side) -> None:
    kube = side.port
    assert kube.get("v1", "Namespace", "shop") is None
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}, "devops")
    assert kube.get("v1", "Namespace", "shop")["status"]["phase"] == "Active"
    created = kube.apply(deployment("cart"), "devops")
    assert created["spec"]["replicas"] == 2 and created["metadata"]["resourceVersion"]
    updated = kube.apply(deployment("cart", replicas=3), "devops")
    assert updated["spec"]["replicas"] == 3
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    kube.apply(deployment("web", tier="front"), "devops")
    assert [d["metadata"]["name"] for d in kube.list("apps/v1", "Deployment", "shop")] == ["cart", "web"]
    assert [d["metadata"]["name"] for d in kube.list("apps/v1", "Deployment", "shop", "tier=front")] == ["web"]
    assert kube.list("apps/v1", "Deployment", "other") == []
    # A namespaced object in a namespace that does not exist: an error, nothing stored.
    with pytest.raises(ExternalError, match="404"):
        kube.apply(deployment("cart", namespace="ghost"), "devops")


def test_custom_kinds_are_served_once_their_crd_exists(side: Side) -> None:
    kube = side.port
    assert not kube.served("argoproj.io/v1alpha1", "Application")
    with pytest.raises(NotServed):
        kube.get("argoproj.io/v1alpha1", "Application", "shop-dev", "argocd")
    assert kube.served("apps/v1", "Deployment")
    kube.apply(crd(known("argoproj.io/v1alpha1", "Application")), "devops")
    assert kube.served("argoproj.io/v1alpha1", "Application")
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}, "devops")
    kube.apply({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
                "metadata": {"name": "shop-dev", "namespace": "argocd"}, "spec": {"project": "shop-dev-root"}},
               "devops")
    assert kube.get("argoproj.io/v1alpha1", "Application", "shop-dev", "argocd")["spec"]["project"] == "shop-dev-root"


def test_merge_patch_at_a_version_and_conflicts(side: Side) -> None:
    kube = side.port
    side.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
    side.put({**deployment("cart"), "metadata": {**deployment("cart")["metadata"],
                                                 "annotations": {"keep": "me"}}})
    read = kube.get("apps/v1", "Deployment", "cart", "shop")
    version = read["metadata"]["resourceVersion"]
    patched = kube.patch("apps/v1", "Deployment", "cart",
                         {"metadata": {"annotations": {"devops.cost/replicas": "replicas=2"}}, "spec": {"replicas": 0}},
                         namespace="shop", resource_version=version)
    assert patched["spec"]["replicas"] == 0
    assert patched["metadata"]["annotations"] == {"keep": "me", "devops.cost/replicas": "replicas=2"}
    # The version read is gone now: a write decided on it is refused.
    with pytest.raises(Conflict):
        kube.patch("apps/v1", "Deployment", "cart", {"spec": {"replicas": 5}}, namespace="shop",
                   resource_version=version)
    assert kube.get("apps/v1", "Deployment", "cart", "shop")["spec"]["replicas"] == 0
    # null removes a key (merge patch), without a version: last writer wins.
    restored = kube.patch("apps/v1", "Deployment", "cart",
                          {"metadata": {"annotations": {"devops.cost/replicas": None}}, "spec": {"replicas": 2}},
                          namespace="shop")
    assert restored["metadata"]["annotations"] == {"keep": "me"} and restored["spec"]["replicas"] == 2
    with pytest.raises(ExternalError, match="404"):
        kube.patch("apps/v1", "Deployment", "gone", {"spec": {"replicas": 1}}, namespace="shop")


def test_cluster_scoped_custom_objects_and_delete_with_finalizers(side: Side) -> None:
    kube = side.port
    for kind in (("karpenter.sh/v1", "NodePool"), ("karpenter.sh/v1", "NodeClaim")):
        side.put(crd(known(*kind)))
    side.put({"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
              "spec": {"limits": {"cpu": "16", "memory": "64Gi"}}})
    pool = kube.get("karpenter.sh/v1", "NodePool", "default")
    limited = kube.patch("karpenter.sh/v1", "NodePool", "default", {"spec": {"limits": {"cpu": "0", "memory": "0"}}},
                         resource_version=pool["metadata"]["resourceVersion"])
    assert limited["spec"]["limits"] == {"cpu": "0", "memory": "0"}
    side.put({"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
              "metadata": {"name": "default-abc", "labels": {"karpenter.sh/nodepool": "default"},
                           "finalizers": ["karpenter.sh/termination"]}})
    side.put({"apiVersion": "karpenter.sh/v1", "kind": "NodeClaim",
              "metadata": {"name": "other-xyz", "labels": {"karpenter.sh/nodepool": "other"}}})
    claims = kube.list("karpenter.sh/v1", "NodeClaim", label_selector="karpenter.sh/nodepool=default")
    assert [c["metadata"]["name"] for c in claims] == ["default-abc"]
    # The finalizer keeps it, marked for deletion, until Karpenter has drained the node.
    assert kube.delete("karpenter.sh/v1", "NodeClaim", "default-abc") is True
    assert kube.get("karpenter.sh/v1", "NodeClaim", "default-abc")["metadata"]["deletionTimestamp"]
    assert kube.delete("karpenter.sh/v1", "NodeClaim", "other-xyz") is True
    assert kube.get("karpenter.sh/v1", "NodeClaim", "other-xyz") is None
    assert kube.delete("karpenter.sh/v1", "NodeClaim", "other-xyz") is False


def test_a_secret_string_data_is_stored_as_base64_data(side: Side) -> None:
    kube = side.port
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}, "devops")
    kube.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "argocd"},
                "data": {"a": "eA=="}, "stringData": {"b": "abc"}}, "devops")
    stored = kube.get("v1", "Secret", "s", "argocd")
    assert stored is not None and "stringData" not in stored
    assert stored["data"] == {"a": "eA==", "b": "YWJj"}
