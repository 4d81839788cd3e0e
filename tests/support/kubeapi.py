"""A small stateful Kubernetes API server for tests: the official `kubernetes` Python client and
kubectl talk to it over HTTP as to EKS's API server (docs/testing-kubernetes.md says why neither
kmock nor mockernetes was enough, and exactly what this does and does not do).

What it does, per resource type it knows (core, apps, Argo CD, Karpenter, ... see RESOURCES):
create (201; 409 AlreadyExists; 404 when the namespace does not exist), get/list (404 NotFound;
label selectors k=v, k!=v, k, !k), replace (409 Conflict on a stale metadata.resourceVersion),
patch (merge-patch, JSON patch, a simplified strategic merge, and server-side apply as a merge of
the applied fields recorded in managedFields), delete (finalizers keep the object with a
deletionTimestamp until they are removed; a namespace takes its objects along at once), the
`status` subresource of every type and the `scale` subresource of Deployments/StatefulSets,
watch with resourceVersion (events after that version, then live ones, until timeoutSeconds),
API discovery for kubectl, and an optional bearer token (401 without it), recording every
request. resourceVersion is one counter for all objects, like etcd's revision.

What it does not: no controllers (a Deployment never gets pods, nothing becomes Ready unless a
test writes status), no admission, no schema validation or defaulting, no field-ownership
conflicts in server-side apply (fields dropped from an applied configuration are not removed),
no strategic-merge directives ($patch, $retainKeys), no garbage collection through
ownerReferences, no 410 Gone (all events are kept), no client-certificate authentication (HTTPS with a self-signed certificate for 127.0.0.1, or
plain HTTP with tls=False).
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    subresources: tuple[str, ...] = ("status",)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def _r(group: str, version: str, plural: str, kind: str, namespaced: bool = True, scale: bool = False) -> Resource:
    return Resource(group, version, plural, kind, namespaced, ("status", "scale") if scale else ("status",))


# What EKS serves that the bootstrap, status and cost work touches. Extend with `resources=`.
RESOURCES: tuple[Resource, ...] = (
    _r("", "v1", "namespaces", "Namespace", namespaced=False),
    _r("", "v1", "nodes", "Node", namespaced=False),
    _r("", "v1", "pods", "Pod"),
    _r("", "v1", "services", "Service"),
    _r("", "v1", "configmaps", "ConfigMap"),
    _r("", "v1", "secrets", "Secret"),
    _r("", "v1", "serviceaccounts", "ServiceAccount"),
    _r("apps", "v1", "deployments", "Deployment", scale=True),
    _r("apps", "v1", "statefulsets", "StatefulSet", scale=True),
    _r("apps", "v1", "daemonsets", "DaemonSet"),
    _r("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
    _r("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy"),
    _r("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _r("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _r("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", namespaced=False),
    _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", namespaced=False),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", namespaced=False),
    _r("argoproj.io", "v1alpha1", "applications", "Application"),
    _r("argoproj.io", "v1alpha1", "appprojects", "AppProject"),
    _r("argoproj.io", "v1alpha1", "applicationsets", "ApplicationSet"),
    _r("karpenter.sh", "v1", "nodepools", "NodePool", namespaced=False),
    _r("karpenter.sh", "v1", "nodeclaims", "NodeClaim", namespaced=False),
    _r("karpenter.k8s.aws", "v1", "ec2nodeclasses", "EC2NodeClass", namespaced=False),
)

Key = tuple[str, str, str, str]  # group, plural, namespace ("" if cluster-scoped), name

# Groups the API server serves by itself; every other group exists only through a
# CustomResourceDefinition (`require_crds`, as on EKS: Argo CD's and Karpenter's kinds appear when
# their charts' CRDs are applied).
BUILT_IN_GROUPS = frozenset({"", "apps", "autoscaling", "batch", "policy", "networking.k8s.io",
                             "rbac.authorization.k8s.io", "apiextensions.k8s.io", "storage.k8s.io",
                             "admissionregistration.k8s.io", "apiregistration.k8s.io", "coordination.k8s.io"})


def crd_resource(crd: Mapping[str, Any]) -> Resource:
    """The resource a CustomResourceDefinition object defines (its first served version)."""
    spec = crd.get("spec") or {}
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not versions:
        raise ApiError(422, "Invalid", f"CustomResourceDefinition {crd['metadata']['name']}: no served version")
    names = spec.get("names") or {}
    expected = f"{names.get('plural')}.{spec.get('group')}"
    if crd["metadata"]["name"] != expected:
        raise ApiError(422, "Invalid", f'CustomResourceDefinition "{crd["metadata"]["name"]}" is invalid: '
                       f"metadata.name: must be spec.names.plural+\".\"+spec.group ({expected})")
    return Resource(str(spec["group"]), str(versions[0]["name"]), str(names["plural"]), str(names["kind"]),
                    spec.get("scope", "Namespaced") == "Namespaced")


def crd(resource: Resource) -> dict[str, Any]:
    """A minimal CustomResourceDefinition for `resource` (what a chart's crds/ would hold)."""
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{resource.plural}.{resource.group}"},
            "spec": {"group": resource.group, "scope": "Namespaced" if resource.namespaced else "Cluster",
                     "names": {"plural": resource.plural, "kind": resource.kind, "singular": resource.kind.lower()},
                     "versions": [{"name": resource.version, "served": True, "storage": True,
                                   "subresources": {"status": {}}}]}}


def known(api_version: str, kind: str) -> Resource:
    """The Resource of RESOURCES for `api_version`/`kind` (for tests making CRDs)."""
    return next(r for r in RESOURCES if r.api_version == api_version and r.kind == kind)


class ApiError(Exception):
    """Answered as a Kubernetes Status object."""

    def __init__(self, code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, dict(details or {})

    def status(self) -> dict[str, Any]:
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": self.message,
                "reason": self.reason, "details": self.details, "code": self.code}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def secret_string_data(obj: dict[str, Any]) -> None:
    """A Secret's `stringData` merged into `data` as base64 and dropped, as the API server stores
    it (write-only field)."""
    if obj.get("kind") == "Secret" and isinstance(obj.get("stringData"), dict):
        data = dict(obj.get("data") or {})
        for key, value in obj.pop("stringData").items():
            data[key] = base64.b64encode(str(value).encode()).decode()
        obj["data"] = data


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Merge patch, except that lists of objects that all have a `name` (containers, env, volumes,
    ports with names) are merged element by element by that name, as the API server's strategic
    merge does for those fields. Other lists are replaced."""
    if isinstance(patch, Mapping):
        result = dict(target) if isinstance(target, Mapping) else {}
        for key, value in patch.items():
            result[key] = None if value is None else strategic_merge(result.get(key), value)
        return {k: v for k, v in result.items() if v is not None}
    if (isinstance(patch, list) and isinstance(target, list) and patch and target
            and all(isinstance(i, Mapping) and "name" in i for i in patch + target)):
        merged = [dict(i) for i in target]
        for item in patch:
            for i, existing in enumerate(merged):
                if existing["name"] == item["name"]:
                    merged[i] = strategic_merge(existing, item)
                    break
            else:
                merged.append(copy.deepcopy(dict(item)))
        return merged
    return copy.deepcopy(patch)


def json_patch(target: Any, operations: list[Mapping[str, Any]]) -> Any:
    """RFC 6902: add, remove, replace, test (what clients send for replicas and finalizers)."""
    doc = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in str(op["path"]).split("/")[1:]]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last = parts[-1] if parts else ""
        kind = op["op"]
        if kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op.get("value"):
                raise ApiError(422, "Invalid", f"the test operation on {op['path']} failed")
        elif kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif kind in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(index, op["value"])
                else:
                    parent[index] = op["value"]
            else:
                parent[last] = op["value"]
        else:
            raise ApiError(422, "Invalid", f"unsupported JSON patch operation {kind!r}")
    return doc


def _selects(labels: Mapping[str, str], selector: str) -> bool:
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.split("==", 1) if "==" in term else term.split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class KubeAPI:
    """The in-memory API state and its HTTP server (start()/stop(), or a context manager)."""

    token: str | None = None
    resources: tuple[Resource, ...] = RESOURCES
    # Kinds of groups outside BUILT_IN_GROUPS are served only once their CRD exists (as on EKS).
    require_crds: bool = True
    # EKS authentication instead of a static token: `Bearer k8s-aws-v1.<presigned STS URL>`,
    # checked by tests/support/eks_token.py (see there) against this STS endpoint.
    eks: Any = None
    kubernetes_version: str = "v1.31.0-eks-standin"
    objects: dict[Key, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    _events: list[tuple[int, str, Resource, dict[str, Any]]] = field(default_factory=list)
    _revision: itertools.count = field(default_factory=lambda: itertools.count(1))
    _rv: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None
    # HTTPS with a self-signed certificate for 127.0.0.1, as EKS serves its API (kubectl sends no
    # token over plain HTTP). `ca_pem` is what a kubeconfig's certificate-authority-data holds.
    tls: bool = True
    ca_pem: bytes = b""
    _workdir: str = ""

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> KubeAPI:
        api = self

        class Handler(_Handler):
            server_api = api

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        if self.tls:
            import ssl
            import tempfile

            self._workdir = tempfile.mkdtemp(prefix="kubeapi-")
            cert, key = _self_signed(self._workdir)
            self.ca_pem = Path(cert).read_bytes()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def ca_file(self) -> str:
        """Path of the CA certificate (the server's own, self-signed)."""
        return str(Path(self._workdir) / "server.crt")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._workdir:
            import shutil

            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> KubeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"{'https' if self.tls else 'http'}://{host}:{port}"

    @property
    def resource_version(self) -> int:
        return self._rv

    # --- helpers for tests --------------------------------------------------------------------

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        res = self._by_kind(api_version, kind)
        found = self.objects.get((res.group, res.plural, namespace if res.namespaced else "", name))
        return copy.deepcopy(found) if found else None

    def put(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create or overwrite an object directly (a test arranging state, or a "controller")."""
        res = self._by_kind(str(obj["apiVersion"]), str(obj["kind"]))
        with self._lock:
            meta = obj.get("metadata", {})
            key = (res.group, res.plural, meta.get("namespace", "") if res.namespaced else "", meta["name"])
            existing = self.objects.get(key)
            return self._store(res, key, dict(obj), existing, "MODIFIED" if existing else "ADDED")

    def _by_kind(self, api_version: str, kind: str) -> Resource:
        for res in (*self.served(), *self.resources):
            if res.api_version == api_version and res.kind == kind:
                return res
        raise KeyError(f"unknown {api_version} {kind}")

    def served(self) -> tuple[Resource, ...]:
        """What the API serves now: the built-in kinds, and the custom ones whose CRD exists."""
        if not self.require_crds:
            return self.resources
        builtin = tuple(r for r in self.resources if r.group in BUILT_IN_GROUPS)
        with self._lock:  # an RLock: also taken by the request being handled
            custom = tuple(crd_resource(o) for (g, p, _, _), o in sorted(self.objects.items())
                           if (g, p) == ("apiextensions.k8s.io", "customresourcedefinitions"))
        return builtin + custom

    # --- the API ------------------------------------------------------------------------------

    def authenticate(self, authorization: str) -> None:
        """401 Unauthorized unless the request carries the static token, or (with `eks`) an EKS
        token the STS stand-in vouches for (tests/support/eks_token.py)."""
        if self.eks is not None:
            if not self.eks.identity(authorization.removeprefix("Bearer ") if authorization.startswith("Bearer ")
                                     else ""):
                raise ApiError(401, "Unauthorized", "Unauthorized")
        elif self.token is not None and authorization != f"Bearer {self.token}":
            raise ApiError(401, "Unauthorized", "Unauthorized")

    def _store(self, res: Resource, key: Key, obj: dict[str, Any], old: dict[str, Any] | None,
               event: str) -> dict[str, Any]:
        self._rv = next(self._revision)
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._rv)
        if old is None:
            meta.setdefault("uid", str(uuid.uuid4()))
            meta.setdefault("creationTimestamp", _now())
            meta["generation"] = 1
        else:
            for field_name in ("uid", "creationTimestamp"):
                meta[field_name] = old["metadata"][field_name]
            meta["generation"] = old["metadata"].get("generation", 1) + (1 if obj.get("spec") != old.get("spec") else 0)
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        secret_string_data(obj)
        if meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self.objects.pop(key, None)
            event = "DELETED"
        else:
            self.objects[key] = obj
        self._events.append((self._rv, event, res, copy.deepcopy(obj)))
        self._lock.notify_all()
        return copy.deepcopy(obj)

    def _check_namespace(self, res: Resource, namespace: str) -> None:
        if res.namespaced and ("", "namespaces", "", namespace) not in self.objects:
            raise ApiError(404, "NotFound", f'namespaces "{namespace}" not found',
                           {"name": namespace, "kind": "namespaces"})

    def _missing(self, res: Resource, name: str) -> ApiError:
        what = f"{res.plural}.{res.group}" if res.group else res.plural
        return ApiError(404, "NotFound", f'{what} "{name}" not found',
                        {"name": name, "group": res.group, "kind": res.plural})

    def handle(self, method: str, res: Resource, namespace: str, name: str, sub: str,
               query: Mapping[str, list[str]], body: bytes, content_type: str) -> tuple[int, Any]:
        key: Key = (res.group, res.plural, namespace if res.namespaced else "", name)
        with self._lock:
            if method == "GET" and not name:
                return 200, self._list(res, namespace, query)
            if method == "POST" and not name:
                obj = json.loads(body)
                meta = obj.setdefault("metadata", {})
                if res.namespaced:
                    if meta.get("namespace", namespace) != namespace:
                        raise ApiError(400, "BadRequest", "the namespace of the object does not match the namespace of the request")
                    meta["namespace"] = namespace
                    self._check_namespace(res, namespace)
                key = (res.group, res.plural, namespace if res.namespaced else "", meta.get("name", ""))
                if key in self.objects:
                    raise ApiError(409, "AlreadyExists", f'{res.plural}.{res.group or "core"} "{key[3]}" already exists',
                                   {"name": key[3], "group": res.group, "kind": res.plural})
                if res.kind == "Namespace":
                    obj["status"] = {"phase": "Active"}
                if res.kind == "CustomResourceDefinition":
                    crd_resource(obj)
                return 201, self._store(res, key, obj, None, "ADDED")
            current = self.objects.get(key)
            if method == "PATCH" and content_type.startswith("application/apply-patch") and current is None and not sub:
                obj = yaml.safe_load(body)
                if res.namespaced:
                    self._check_namespace(res, namespace)
                    obj.setdefault("metadata", {})["namespace"] = namespace
                if (obj.get("metadata") or {}).get("name") != name:
                    raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
                if res.kind == "CustomResourceDefinition":
                    crd_resource(obj)
                if res.kind == "Namespace":
                    obj["status"] = {"phase": "Active"}
                self._managed(obj, query, "Apply")
                return 201, self._store(res, key, obj, None, "ADDED")
            if current is None:
                raise self._missing(res, name)
            if method == "GET":
                return 200, self._scale(res, current) if sub == "scale" else copy.deepcopy(current)
            if method == "DELETE":
                return 200, self._delete(res, key, current)
            if method in ("PUT", "PATCH"):
                return 200, self._update(res, key, current, method, sub, query, body, content_type)
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported here")

    def _list(self, res: Resource, namespace: str, query: Mapping[str, list[str]]) -> dict[str, Any]:
        selector = query.get("labelSelector", [""])[0]
        items = [copy.deepcopy(o) for (g, p, ns, _), o in sorted(self.objects.items())
                 if (g, p) == (res.group, res.plural) and (not namespace or ns == namespace)
                 and _selects(o.get("metadata", {}).get("labels") or {}, selector)]
        return {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                "metadata": {"resourceVersion": str(self._rv)}, "items": items}

    def _scale(self, res: Resource, obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp") if k in meta},
                "spec": {"replicas": obj.get("spec", {}).get("replicas", 1)},
                "status": {"replicas": obj.get("status", {}).get("replicas", 0)}}

    def _managed(self, obj: dict[str, Any], query: Mapping[str, list[str]], operation: str) -> None:
        manager = query.get("fieldManager", [""])[0]
        if operation == "Apply" and not manager:
            raise ApiError(400, "BadRequest", "PATCH with apply-patch requires a fieldManager")
        if manager:
            entries = [e for e in obj.get("metadata", {}).get("managedFields", []) if e.get("manager") != manager]
            entries.append({"manager": manager, "operation": operation, "time": _now()})
            obj.setdefault("metadata", {})["managedFields"] = entries

    def _update(self, res: Resource, key: Key, current: dict[str, Any], method: str, sub: str,
                query: Mapping[str, list[str]], body: bytes, content_type: str) -> dict[str, Any]:
        base = self._scale(res, current) if sub == "scale" else current
        if method == "PUT":
            new = json.loads(body)
        elif content_type.startswith("application/json-patch"):
            operations = json.loads(body)
            if not isinstance(operations, list):
                raise ApiError(400, "BadRequest", "a JSON patch is a list of operations")
            new = json_patch(base, operations)
        elif content_type.startswith("application/strategic-merge-patch"):
            new = strategic_merge(base, json.loads(body))
        elif content_type.startswith("application/merge-patch"):
            new = merge_patch(base, json.loads(body))
        elif content_type.startswith("application/apply-patch"):
            new = merge_patch(base, yaml.safe_load(body))
        else:
            raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {content_type}")
        if not isinstance(new, dict):
            raise ApiError(400, "BadRequest", f"the patch ({content_type}) does not produce an object")
        # Optimistic concurrency: a resourceVersion in the body (a replace, or a patch that sends
        # one as a precondition) must be the current one.
        sent_rv = (new.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {res.plural} "{key[3]}": the object has '
                           "been modified; please apply your changes to the latest version and try again",
                           {"name": key[3], "group": res.group, "kind": res.plural})
        if sub == "scale":
            obj = copy.deepcopy(current)
            obj.setdefault("spec", {})["replicas"] = new.get("spec", {}).get("replicas")
        elif sub == "status":
            obj = copy.deepcopy(current)
            obj["status"] = new.get("status", {})
        else:
            obj = new
            obj["status"] = copy.deepcopy(current.get("status"))  # the status subresource owns it
            if obj["status"] is None:
                obj.pop("status")
            meta = obj.setdefault("metadata", {})
            for name in ("name", "namespace"):
                if name in current["metadata"]:
                    meta[name] = current["metadata"][name]
            if current["metadata"].get("deletionTimestamp"):
                meta["deletionTimestamp"] = current["metadata"]["deletionTimestamp"]
            self._managed(obj, query, "Apply" if content_type.startswith("application/apply-patch") else "Update")
        stored = self._store(res, key, obj, current, "MODIFIED")
        return self._scale(res, stored) if sub == "scale" else stored

    def _delete(self, res: Resource, key: Key, current: dict[str, Any]) -> dict[str, Any]:
        if current["metadata"].get("finalizers"):
            if not current["metadata"].get("deletionTimestamp"):
                obj = copy.deepcopy(current)
                obj["metadata"]["deletionTimestamp"] = _now()
                return self._store(res, key, obj, current, "MODIFIED")
            return copy.deepcopy(current)
        del self.objects[key]
        self._rv = next(self._revision)
        self._events.append((self._rv, "DELETED", res, copy.deepcopy(current)))
        if res.kind == "Namespace":  # its objects go with it (real EKS: asynchronously)
            for other in [k for k in self.objects if k[2] == key[3] and k[2]]:
                gone = self.objects.pop(other)
                self._events.append((self._rv, "DELETED", self._plural(other[0], other[1]), gone))
        self._lock.notify_all()
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": key[3], "group": res.group, "kind": res.plural, "uid": current["metadata"]["uid"]}}

    def _plural(self, group: str, plural: str) -> Resource:
        return next(r for r in (*self.served(), *self.resources) if (r.group, r.plural) == (group, plural))

    def watch(self, res: Resource, namespace: str, query: Mapping[str, list[str]]) -> Iterator[dict[str, Any]]:
        since = int(query.get("resourceVersion", ["0"])[0] or 0)
        timeout = float(query.get("timeoutSeconds", ["30"])[0])
        selector = query.get("labelSelector", [""])[0]
        deadline = time.monotonic() + timeout
        if since == 0:  # like the API server: the current state as ADDED events first
            with self._lock:
                current = self._list(res, namespace, query)
                since = int(current["metadata"]["resourceVersion"])
            for obj in current["items"]:
                yield {"type": "ADDED", "object": obj}
        while True:
            with self._lock:
                fresh = [(rv, kind, obj) for rv, kind, r, obj in self._events
                         if rv > since and r == res and (not namespace or obj["metadata"].get("namespace") == namespace)
                         and _selects(obj["metadata"].get("labels") or {}, selector)]
                if not fresh:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    self._lock.wait(min(remaining, 0.5))
                    continue
            for rv, kind, obj in fresh:
                since = max(since, rv)
                yield {"type": kind, "object": obj}

    def discovery(self, path: str) -> Any:
        if path == "/version":
            major, minor = self.kubernetes_version.lstrip("v").split(".")[:2]
            return {"major": major, "minor": minor, "gitVersion": self.kubernetes_version,
                    "gitCommit": "0" * 40, "gitTreeState": "clean", "buildDate": "2026-11-01T00:00:00Z",
                    "goVersion": "go1.24.9", "compiler": "gc", "platform": "linux/amd64"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
        groups: dict[str, list[str]] = {}
        served = self.served()
        for res in served:
            if res.group:
                versions = groups.setdefault(res.group, [])
                if res.version not in versions:
                    versions.append(res.version)
        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
                 "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}} for g, vs in groups.items()]}
        group_version = path.removeprefix("/api/").removeprefix("/apis/")
        listed = []
        for res in served:
            if res.api_version == group_version:
                verbs = ["create", "delete", "get", "list", "patch", "update", "watch"]
                listed.append({"name": res.plural, "singularName": res.kind.lower(), "namespaced": res.namespaced,
                               "kind": res.kind, "verbs": verbs})
                listed += [{"name": f"{res.plural}/{s}", "singularName": "", "namespaced": res.namespaced,
                            "kind": "Scale" if s == "scale" else res.kind, "verbs": ["get", "patch", "update"]}
                           for s in res.subresources]
        if not listed:
            raise ApiError(404, "NotFound", f"the server could not find the requested resource ({path})")
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": listed}

    def route(self, path: str) -> tuple[Resource, str, str, str] | None:
        """(resource, namespace, name, subresource) of an object or collection path."""
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace = ""
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest:
            return None
        for res in self.served():
            if (res.group, res.version, res.plural) == (group, version, rest[0]):
                if namespace and not res.namespaced:
                    return None
                name = rest[1] if len(rest) > 1 else ""
                sub = rest[2] if len(rest) > 2 else ""
                if sub and sub not in res.subresources:
                    return None
                return res, namespace, name, sub
        return None


def _self_signed(folder: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (cryptography, in the test extra)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver stand-in")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = Path(folder) / "server.crt", Path(folder) / "server.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class _Handler(BaseHTTPRequestHandler):
    server_api: KubeAPI
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: tests read api.requests instead

    def _send(self, code: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _serve(self) -> None:
        api = self.server_api
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        api.requests.append(Request(self.command, url.path, url.query,
                                    {k.title(): v for k, v in self.headers.items()}, body))
        try:
            api.authenticate(self.headers.get("Authorization") or "")
            query = parse_qs(url.query)
            if url.path in ("/version", "/api", "/apis") or (self.command == "GET" and api.route(url.path) is None):
                return self._send(200, api.discovery(url.path.rstrip("/")))
            routed = api.route(url.path)
            if routed is None:
                raise ApiError(404, "NotFound", f"the server could not find the requested resource ({url.path})")
            res, namespace, name, sub = routed
            if self.command == "GET" and not name and query.get("watch", ["false"])[0].lower() in ("1", "true"):
                return self._stream(api.watch(res, namespace, query))
            code, payload = api.handle(self.command, res, namespace, name, sub, query, body,
                                       self.headers.get("Content-Type", "application/json"))
            self._send(code, payload)
        except ApiError as exc:
            self._send(exc.code, exc.status())
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            self._send(400, ApiError(400, "BadRequest", f"{type(exc).__name__}: {exc}").status())

    def _stream(self, events: Iterator[dict[str, Any]]) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for event in events:
            line = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


def kubeapi_fixture(token: str | None = "stand-in-token") -> Iterator[KubeAPI]:
    """Body of the `kubeapi` pytest fixture (tests/platform/conftest.py): a started server."""
    api = KubeAPI(token=token).start()
    try:
        yield api
    finally:
        api.stop()
