"""What the cluster use cases (and the cost schedule's cluster side) need from a cluster's
Kubernetes API and from Helm, as ports.

`KubePort` is devops/adapters/kubernetes.py::Kube (official client, EKS token) for real and
tests/fakes/kube.py in memory; tests/contract/test_kubernetes.py runs the same assertions
against the fake and the adapter on the API stand-in (tests/support/kubeapi.py). Objects are
plain dicts as the API server sends them; the domain reads them (devops/domain/cluster,
devops/domain/cost/cluster_state.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol


class KubePort(Protocol):
    """One cluster's API. Reads raise ExternalError (3); writes also `Conflict` (a 409, the object
    changed since it was read) and `NotServed` (the kind is not served, e.g. its CRD is new)."""

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any] | None: ...

    def list(self, api_version: str, kind: str, namespace: str = "",
             label_selector: str = "") -> list[dict[str, Any]]: ...

    def apply(self, manifest: Mapping[str, Any], field_manager: str, *, force: bool = True) -> dict[str, Any]: ...

    def patch(self, api_version: str, kind: str, name: str, patch: Mapping[str, Any], *, namespace: str = "",
              resource_version: str | None = None, field_manager: str = "devops") -> dict[str, Any]: ...

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> bool: ...

    def served(self, api_version: str, kind: str) -> bool: ...

    def close(self) -> None: ...


class ChartPort(Protocol):
    """Helm charts (devops/adapters/helm.py::HelmCharts): the archive of a pinned chart, rendered."""

    def archive(self, repo: str, chart: str, version: str) -> tuple[Path, str]:
        """(archive, "cache" or "pulled")."""
        ...

    def render(self, archive: Path, values: Mapping[str, Any], *, release: str,
               namespace: str) -> list[tuple[str, str]]:
        """(source, YAML text) of the CRDs and the rendered templates."""
        ...
