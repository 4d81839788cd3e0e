"""A cluster's Kubernetes API through the official client (PyPI `kubernetes`), as `devops cluster`
and `devops cost` use it: get, list, server-side apply, merge patch with a resourceVersion
precondition, delete, and discovery.

Credentials are an endpoint, its CA and a bearer token that the caller makes (an EKS token from
devops/adapters/aws/eks_auth.py, regenerated before it expires): no kubeconfig is read or written.
The CA (public data) goes to a private temporary file because urllib3 takes a CA *file*; it is
removed when the client is closed. Every object is a plain dict (what the API server sent).

Errors: `NotServed` (the API does not serve that kind, e.g. a CRD not established yet), `Conflict`
(409: the object changed since it was read), `ExternalError` (3) for everything else, naming the
server, the call and, for 401/403, what EKS needs (an access entry for the caller's role).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devops.errors import ExternalError

# How long a token is used before a new one is made (EKS accepts them for 15 minutes).
TOKEN_REFRESH_SECONDS = 600.0


@dataclass(frozen=True)
class Endpoint:
    """Where a cluster's API answers and how to authenticate to it."""

    name: str  # the cluster, for messages
    server: str  # https://...
    ca_pem: bytes  # the cluster's CA certificate(s), PEM
    token: Callable[[], str]  # a fresh bearer token
    timeout: float = 30.0


class NotServed(ExternalError):
    """The API server does not serve this kind (unknown, or its CRD is not established yet)."""


class Conflict(ExternalError):
    """409: the object changed since it was read (optimistic concurrency); read it again."""


class Kube:
    """One cluster's API. Use in a `with` (closes the connection pool and the CA file)."""

    def __init__(self, endpoint: Endpoint) -> None:
        from kubernetes import client

        self.endpoint = endpoint
        handle, self._ca_file = tempfile.mkstemp(prefix="devops-ca-", suffix=".pem")
        with os.fdopen(handle, "wb") as out:
            out.write(endpoint.ca_pem)
        self._finalizer = weakref.finalize(self, _remove, self._ca_file)
        config = client.Configuration()
        config.host = endpoint.server.rstrip("/")
        config.ssl_ca_cert = self._ca_file
        config.verify_ssl = True
        config.api_key_prefix = {"authorization": "Bearer"}
        # The client only asks the hook for a key it already has one for: a placeholder until the
        # first request makes the real token (lazily: a dry run that reads nothing makes none).
        config.api_key = {"authorization": ""}
        self._token_lock = threading.Lock()
        self._token_at: float | None = None

        def refresh(conf: Any) -> None:
            with self._token_lock:
                if self._token_at is None or time.monotonic() - self._token_at > TOKEN_REFRESH_SECONDS:
                    conf.api_key = {"authorization": endpoint.token()}
                    self._token_at = time.monotonic()

        config.refresh_api_key_hook = refresh
        self._api = client.ApiClient(config)
        self._dynamic: Any = None
        self.requests = 0

    def close(self) -> None:
        self._api.close()
        self._finalizer()

    def __enter__(self) -> Kube:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- discovery ------------------------------------------------------------------------------

    def _client(self) -> Any:
        if self._dynamic is None:
            from kubernetes.dynamic import DynamicClient

            self._dynamic = self._call("discovery", lambda: DynamicClient(self._api))
        return self._dynamic

    def _resource(self, api_version: str, kind: str) -> Any:
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        dyn = self._client()
        try:
            return dyn.resources.get(api_version=api_version, kind=kind)
        except ResourceNotFoundError:
            raise NotServed(f"{self.endpoint.name} ({self.endpoint.server}): {kind} ({api_version}) is not served "
                            "by the API server") from None

    def served(self, api_version: str, kind: str) -> bool:
        """Whether the API serves `kind` now (discovery read again: a CRD just applied shows up)."""
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        dyn = self._client()
        try:
            self._call("discovery", dyn.resources.invalidate_cache)
            dyn.resources.get(api_version=api_version, kind=kind)
            return True
        except ResourceNotFoundError:
            return False

    def namespaced(self, api_version: str, kind: str) -> bool:
        return bool(self._resource(api_version, kind).namespaced)

    # -- calls ----------------------------------------------------------------------------------

    def _call(self, what: str, call: Callable[[], Any], *, missing_ok: bool = False) -> Any:
        from kubernetes.client.rest import ApiException
        from kubernetes.dynamic.exceptions import DynamicApiError
        from urllib3.exceptions import HTTPError

        self.requests += 1
        where = f"Kubernetes API of {self.endpoint.name} ({self.endpoint.server}): {what}"
        try:
            return call()
        except (DynamicApiError, ApiException) as exc:
            status = int(getattr(exc, "status", 0) or 0)
            reason = _reason(exc)
            if status == 404 and missing_ok:
                return None
            if status == 409:
                raise Conflict(f"{where}: 409 Conflict: {reason}", hint="it changed meanwhile; the next run "
                               "reads it again") from None
            if status in (401, 403):
                raise ExternalError(f"{where}: {status} {reason}",
                                    hint="the caller's IAM role needs an EKS access entry with the rights this "
                                         "needs (docs/platform.md, \"Access\")") from None
            raise ExternalError(f"{where}: {status} {reason}") from None
        except HTTPError as exc:
            raise ExternalError(f"{where}: {type(exc).__name__}: {exc}",
                                hint="check the endpoint is reachable from here (private endpoint: run inside "
                                     "the VPC)") from None

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None:
        """The object, None when it does not exist."""
        resource = self._resource(api_version, kind)
        found = self._call(f"get {kind} {name}", lambda: self._client().get(
            resource, name=name, namespace=namespace or None, _request_timeout=self.endpoint.timeout),
            missing_ok=True)
        return None if found is None else _plain(found)

    def list(self, api_version: str, kind: str, namespace: str = "", label_selector: str = "") -> list[dict[str, Any]]:
        """Every object of `kind` (in `namespace` when given), optionally by label selector."""
        resource = self._resource(api_version, kind)
        found = self._call(f"list {kind}", lambda: self._client().get(
            resource, namespace=namespace or None, label_selector=label_selector or None,
            _request_timeout=self.endpoint.timeout))
        return [item for item in _plain(found).get("items") or []]

    def apply(self, manifest: Mapping[str, Any], field_manager: str, *, force: bool = True) -> dict[str, Any]:
        """Server-side apply (`kubectl apply --server-side --force-conflicts`)."""
        api_version, kind = str(manifest["apiVersion"]), str(manifest["kind"])
        meta = manifest.get("metadata") or {}
        resource = self._resource(api_version, kind)
        namespace = meta.get("namespace") if resource.namespaced else None
        return _plain(self._call(f"apply {kind} {meta.get('name')}", lambda: self._client().server_side_apply(
            resource, body=dict(manifest), name=meta["name"], namespace=namespace, field_manager=field_manager,
            force_conflicts=force, _request_timeout=self.endpoint.timeout)))

    def patch(self, api_version: str, kind: str, name: str, patch: Mapping[str, Any], *, namespace: str = "",
              resource_version: str | None = None, field_manager: str = "devops") -> dict[str, Any]:
        """JSON merge patch; with `resource_version`, only if the object is still at that version
        (`Conflict` otherwise): what was read and decided on is what gets changed."""
        resource = self._resource(api_version, kind)
        body = dict(patch)
        if resource_version is not None:
            body["metadata"] = {**(body.get("metadata") or {}), "resourceVersion": resource_version}
        return _plain(self._call(f"patch {kind} {name}", lambda: self._client().patch(
            resource, body=body, name=name, namespace=namespace or None,
            content_type="application/merge-patch+json", field_manager=field_manager,
            _request_timeout=self.endpoint.timeout)))

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool:
        """Delete it; False when it was already gone."""
        resource = self._resource(api_version, kind)
        gone = self._call(f"delete {kind} {name}", lambda: self._client().delete(
            resource, name=name, namespace=namespace or None, _request_timeout=self.endpoint.timeout),
            missing_ok=True)
        return gone is not None

    def version(self) -> str:
        """The API server's gitVersion (a cheap "can I reach it, with these credentials")."""
        from kubernetes import client

        info = self._call("version", lambda: client.VersionApi(self._api).get_code(
            _request_timeout=self.endpoint.timeout))
        return str(info.git_version)


def _plain(found: Any) -> dict[str, Any]:
    if hasattr(found, "to_dict"):
        result: dict[str, Any] = found.to_dict()
        return result
    return dict(found or {})


def _reason(exc: Exception) -> str:
    import json

    body = getattr(exc, "body", None)
    if isinstance(body, bytes | str):
        try:
            return str(json.loads(body).get("message") or getattr(exc, "reason", ""))
        except ValueError:
            pass
    summary = getattr(exc, "summary", None)
    if callable(summary):
        return str(summary())
    return str(getattr(exc, "reason", "") or exc)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
