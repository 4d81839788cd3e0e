"""Kubernetes manifests as `devops cluster bootstrap` applies them: parsed from YAML, given their
namespace, put in Helm's install order, and compared with what the cluster has so that a second
run applies nothing.

"Already there" means: every field the manifest sets is live with the same value (the API server
adds defaults and status, which are not differences). A Secret's `stringData` is compared with
the base64 `data` the API server stores it as. Pure: the use case reads and applies.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from devops.domain import documents
from devops.domain.cluster.results import ApplyAction, ObjectPlan
from devops.errors import BadInput

# Helm's install order (pkg/release/util/kind_sorter.go), CRDs moved first: the kinds they define
# must be served before objects of those kinds are applied. Unknown kinds come after these.
INSTALL_ORDER = (
    "CustomResourceDefinition", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
    "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
    "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "ClusterRole", "ClusterRoleList",
    "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList",
    "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
    "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration",
)
# Argo CD's own kinds last: projects before the Applications that name them.
LAST = ("AppProject", "ApplicationSet", "Application")
# Kinds without a namespace (what `kubectl apply -n` leaves alone); everything else gets one.
CLUSTER_SCOPED = frozenset({
    "Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ClusterRoleList",
    "ClusterRoleBindingList", "PersistentVolume", "StorageClass", "PriorityClass", "APIService",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "IngressClass", "Node", "CSIDriver",
    "RuntimeClass", "PodSecurityPolicy", "NodePool", "EC2NodeClass", "NodeClaim",
})


def parse_documents(text: str, where: str, *, limit: int = documents.MAX_BYTES) -> list[dict[str, Any]]:
    """The objects of a multi-document YAML text (empty documents skipped), each under the shared
    depth and alias bounds; BadInput naming `where` and the document for anything that is not an
    object with apiVersion, kind and metadata.name. `limit`: a chart's rendering is larger than a
    file devops reads (Argo CD's CRDs alone are megabytes)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if len(text) > limit:
        raise BadInput(f"{where}: larger than {limit // 1024} KiB")
    yaml = YAML(typ="safe", pure=True)
    found: list[dict[str, Any]] = []
    try:
        for number, node in enumerate(yaml.compose_all(text), start=1):
            documents.check_yaml_bounds(node, f"{where}: document {number}")
            item = yaml.constructor.construct_document(node)
            if item is None:
                continue
            if not isinstance(item, dict) or not item.get("apiVersion") or not item.get("kind") \
                    or not isinstance(item.get("metadata"), dict) or not item["metadata"].get("name"):
                raise BadInput(f"{where}: document {number} is not a Kubernetes object "
                               "(apiVersion, kind, metadata.name)")
            found.append(item)
    except YAMLError as exc:
        raise BadInput(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise BadInput(f"{where}: nested too deeply") from None
    return found


def with_namespace(obj: Mapping[str, Any], namespace: str) -> dict[str, Any]:
    """`obj` with `namespace` when it is namespaced and names none (as `kubectl apply -n` does)."""
    result = dict(obj)
    meta = dict(result.get("metadata") or {})
    if str(result.get("kind")) in CLUSTER_SCOPED:
        meta.pop("namespace", None)
    elif not meta.get("namespace"):
        meta["namespace"] = namespace
    result["metadata"] = meta
    return result


def install_order(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Helm's order by kind (stable within a kind), Argo CD's kinds last."""
    def rank(obj: Mapping[str, Any]) -> int:
        kind = str(obj.get("kind"))
        if kind in LAST:
            return len(INSTALL_ORDER) + 1 + LAST.index(kind)
        return INSTALL_ORDER.index(kind) if kind in INSTALL_ORDER else len(INSTALL_ORDER)
    return sorted(objects, key=rank)


def merge_values(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """Helm's coalescing of values files and `valuesObject`: later layers win, maps merge key by
    key, a null removes the key."""
    result: dict[str, Any] = {}
    for layer in layers:
        if layer:
            result = _merge(result, layer)
    return result


def _merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def contains(live: Any, wanted: Any) -> bool:
    """Every field of `wanted` is in `live` with the same value (lists item by item, same length;
    numbers and their string forms are the same quantity, as the API server normalises them)."""
    if isinstance(wanted, Mapping):
        return isinstance(live, Mapping) and all(key in live and contains(live[key], value)
                                                 for key, value in wanted.items())
    if isinstance(wanted, list):
        return isinstance(live, list) and len(live) == len(wanted) and all(
            contains(a, b) for a, b in zip(live, wanted, strict=True))
    if isinstance(wanted, bool) or isinstance(live, bool):
        return live is wanted
    if isinstance(wanted, int | float) or isinstance(live, int | float):
        return str(live) == str(wanted)
    return bool(live == wanted)


def comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What to look for in the live object: a Secret's `stringData` as the `data` it becomes."""
    result = dict(obj)
    if result.get("kind") == "Secret" and isinstance(result.get("stringData"), Mapping):
        data = dict(result.get("data") or {})
        for key, value in result.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        result["data"] = data
    return result


def plan(obj: dict[str, Any], live: Mapping[str, Any] | None, source: str) -> ObjectPlan:
    """Create (absent), unchanged (every field already live) or update."""
    action: ApplyAction = "create" if live is None else ("unchanged" if contains(live, comparable(obj)) else "update")
    meta = obj["metadata"]
    return ObjectPlan(str(obj["apiVersion"]), str(obj["kind"]), str(meta.get("namespace") or ""), str(meta["name"]),
                      source, action, obj)


def check_unique(objects: Iterable[Mapping[str, Any]], where: str) -> None:
    """BadInput when two objects are the same object (the second would silently win)."""
    seen: set[tuple[str, str, str, str]] = set()
    for obj in objects:
        meta = obj.get("metadata") or {}
        key = (str(obj.get("apiVersion")).split("/")[0], str(obj.get("kind")), str(meta.get("namespace") or ""),
               str(meta.get("name")))
        if key in seen:
            raise BadInput(f"{where}: {key[1]} {key[2] + '/' if key[2] else ''}{key[3]} is defined twice")
        seen.add(key)
