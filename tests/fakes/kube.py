"""A cluster's Kubernetes API in memory: the `KubePort` of devops/app/cluster_ports.py.

`KubeWorld` holds the objects (plain dicts, as the API server sends them) with a resourceVersion
counter shared by all, like etcd's revision; `FakeKube(world)` is one client of it. It answers as
devops/adapters/kubernetes.py does against the API stand-in (tests/contract/test_kubernetes.py
runs the same assertions against both): the same kinds (tests/support/kubeapi.py RESOURCES),
custom kinds served only once their CRD exists, `NotServed` for the others, None for a missing
object, `Conflict` for a write at a stale resourceVersion, ExternalError for a namespace that
does not exist or an object that is gone, merge-patch semantics (null removes), finalizers that
keep a deleted object with a deletionTimestamp.

The night-and-morning simulation (tests/cost/simulation) uses the same world, with its simulated
controllers (Argo CD, Cluster Autoscaler, Karpenter, the scheduler) writing to it directly.
Faults are injected: `fail_next(method, n)` makes the next n calls of a method raise ExternalError
as an unreachable API server does.
"""

from __future__ import annotations

import copy
import itertools
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devops.adapters.kubernetes import Conflict, NotServed
from devops.errors import ExternalError
from tests.support.kubeapi import BUILT_IN_GROUPS, RESOURCES, Resource, crd_resource, merge_patch, secret_string_data

Key = tuple[str, str, str, str]  # apiVersion, kind, namespace ("" if cluster-scoped), name


@dataclass
class KubeWorld:
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    # Every write as (method, "Kind ns/name"), in order.
    writes: list[tuple[str, str]] = field(default_factory=list)
    failing: dict[str, int] = field(default_factory=dict)
    _rv: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # -- kinds --------------------------------------------------------------------------------

    def served_resources(self) -> list[Resource]:
        builtin = [r for r in RESOURCES if r.group in BUILT_IN_GROUPS]
        custom = [crd_resource(o) for (v, k, _, _), o in sorted(self.objects.items())
                  if k == "CustomResourceDefinition"]
        return builtin + custom

    def resource(self, api_version: str, kind: str) -> Resource | None:
        return next((r for r in self.served_resources() if (r.api_version, r.kind) == (api_version, kind)), None)

    # -- direct access (tests arranging state, simulated controllers) --------------------------

    def key(self, obj: Mapping[str, Any]) -> Key:
        meta = obj.get("metadata") or {}
        res = self.resource(str(obj["apiVersion"]), str(obj["kind"])) or next(
            r for r in RESOURCES if (r.api_version, r.kind) == (obj["apiVersion"], obj["kind"]))
        return (str(obj["apiVersion"]), str(obj["kind"]), str(meta.get("namespace") or "") if res.namespaced else "",
                str(meta["name"]))

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Store `obj` as is (a new resourceVersion; uid and creation kept from an old one)."""
        stored = copy.deepcopy(dict(obj))
        secret_string_data(stored)
        key = self.key(stored)
        meta = stored.setdefault("metadata", {})
        old = self.objects.get(key)
        meta["resourceVersion"] = str(next(self._rv))
        meta.setdefault("uid", (old or {}).get("metadata", {}).get("uid") or f"uid-{meta['resourceVersion']}")
        meta.setdefault("creationTimestamp", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self.objects.pop(key, None)
        else:
            self.objects[key] = stored
        return copy.deepcopy(stored)

    def find(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        found = self.objects.get((api_version, kind, namespace, name))
        return copy.deepcopy(found) if found is not None else None

    def all(self, api_version: str, kind: str, namespace: str = "") -> list[dict[str, Any]]:
        return [copy.deepcopy(o) for (v, k, ns, _), o in sorted(self.objects.items())
                if (v, k) == (api_version, kind) and (not namespace or ns == namespace)]

    def remove(self, api_version: str, kind: str, name: str, namespace: str = "") -> None:
        self.objects.pop((api_version, kind, namespace, name), None)

    def fail_next(self, method: str, count: int = 1) -> None:
        self.failing[method] = count


def _selects(labels: Mapping[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        key, _, value = term.partition("=")
        if labels.get(key) != value:
            return False
    return True


class FakeKube:
    """One client of a `KubeWorld` (the `KubePort`)."""

    server = "https://fake.invalid"

    def __init__(self, world: KubeWorld) -> None:
        self.world = world
        self.closed = False

    def _enter(self, method: str) -> None:
        self.world.calls[method] += 1
        left = self.world.failing.get(method, 0)
        if left:
            self.world.failing[method] = left - 1
            raise ExternalError(f"Kubernetes API of fake: {method}: 503 the server is unavailable")

    def _res(self, api_version: str, kind: str) -> Resource:
        res = self.world.resource(api_version, kind)
        if res is None:
            raise NotServed(f"fake: {kind} ({api_version}) is not served by the API server")
        return res

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        self._enter("get")
        res = self._res(api_version, kind)
        return self.world.find(api_version, kind, name, namespace if res.namespaced else "")

    def list(self, api_version: str, kind: str, namespace: str = "", label_selector: str = "") -> list[dict[str, Any]]:
        self._enter("list")
        self._res(api_version, kind)
        return [o for o in self.world.all(api_version, kind, namespace)
                if _selects((o.get("metadata") or {}).get("labels") or {}, label_selector)]

    def _check_namespace(self, res: Resource, namespace: str) -> None:
        if res.namespaced and self.world.find("v1", "Namespace", namespace) is None:
            raise ExternalError(f"Kubernetes API of fake: 404 namespaces \"{namespace}\" not found")

    def apply(self, manifest: Mapping[str, Any], field_manager: str, *, force: bool = True) -> dict[str, Any]:
        self._enter("apply")
        if not field_manager:
            raise ExternalError("Kubernetes API of fake: 400 PATCH with apply-patch requires a fieldManager")
        res = self._res(str(manifest["apiVersion"]), str(manifest["kind"]))
        obj = copy.deepcopy(dict(manifest))
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            self._check_namespace(res, str(meta.get("namespace") or ""))
        else:
            meta.pop("namespace", None)
        if res.kind == "CustomResourceDefinition":
            crd_resource(obj)
        current = self.world.objects.get(self.world.key(obj))
        if res.kind == "Namespace" and current is None:
            obj["status"] = {"phase": "Active"}
        merged = merge_patch(current or {}, obj)
        if current is not None and "status" in current:
            merged["status"] = current["status"]
        self.world.writes.append(("apply", f"{res.kind} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " ")))
        return self.world.put(merged)

    def patch(self, api_version: str, kind: str, name: str, patch: Mapping[str, Any], *, namespace: str = "",
              resource_version: str | None = None, field_manager: str = "devops") -> dict[str, Any]:
        self._enter("patch")
        res = self._res(api_version, kind)
        current = self.world.find(api_version, kind, name, namespace if res.namespaced else "")
        if current is None:
            raise ExternalError(f"Kubernetes API of fake: patch {kind} {name}: 404 {res.plural} \"{name}\" not found")
        if resource_version is not None and resource_version != current["metadata"]["resourceVersion"]:
            raise Conflict(f"Kubernetes API of fake: patch {kind} {name}: 409 Conflict: the object has been modified")
        merged = merge_patch(current, {k: v for k, v in patch.items() if k != "status"})
        self.world.writes.append(("patch", f"{kind} {namespace + '/' if namespace else ''}{name}"))
        return self.world.put(merged)

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        self._enter("delete")
        res = self._res(api_version, kind)
        ns = namespace if res.namespaced else ""
        current = self.world.find(api_version, kind, name, ns)
        if current is None:
            return False
        self.world.writes.append(("delete", f"{kind} {namespace + '/' if namespace else ''}{name}"))
        if current["metadata"].get("finalizers"):
            if not current["metadata"].get("deletionTimestamp"):
                current["metadata"]["deletionTimestamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                self.world.put(current)
            return True
        self.world.remove(api_version, kind, name, ns)
        return True

    def served(self, api_version: str, kind: str) -> bool:
        self._enter("served")
        return self.world.resource(api_version, kind) is not None

    def close(self) -> None:
        self.closed = True
