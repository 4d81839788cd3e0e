"""`devops cluster bootstrap` (devops/app/cluster_bootstrap.py) against the Kubernetes API stand-in
(tests/support/kubeapi.py) through the real adapter (the official client) and Helm's real engine
(helm-python-sdk): the dry run lists exactly the objects the real run then applies, a second run
applies nothing, and one object changed in the cluster is the only one applied again.

The GitOps files are this repository's gitops/ (apps/values.yaml pins Argo CD, bootstrap/dev.yaml
holds the AppProjects and the root Application) with the Terraform-fed placeholders filled, as
`devops cluster values` leaves them. The chart is a small stand-in named and versioned as the pin
(this machine cannot download argo-cd 10.10.0): its CRDs are Argo CD's kinds, its templates a
Deployment, a ServiceAccount, a ClusterRole, a ConfigMap from the values and a Secret with
stringData (compared with the base64 the API server stores)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from devops.adapters.helm import HelmCharts
from devops.adapters.kubernetes import Endpoint, Kube
from devops.app.cluster_bootstrap import BootstrapPorts, bootstrap
from devops.config import Config
from devops.config.loader import load_config
from devops.domain.cluster import outputs
from devops.domain.gitops.values import patch_scalars
from devops.errors import GateFailed
from tests.support.kubeapi import KubeAPI, crd, known

REPO = Path(__file__).resolve().parents[2]
TOKEN = "bootstrap-token"

CHART = {"apiVersion": "v2", "name": "argo-cd", "version": "10.10.0", "appVersion": "v3.5.4"}
TEMPLATES = {
    "serviceaccount.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: argocd-server\n",
    "clusterrole.yaml": ("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
                         "  name: {{ .Release.Name }}-server\nrules:\n- apiGroups: ['argoproj.io']\n"
                         "  resources: ['applications']\n  verbs: ['get', 'list']\n"),
    "configmap.yaml": ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n"
                       "  namespace: {{ .Release.Namespace }}\ndata:\n"
                       "  timeout.reconciliation: {{ .Values.reconciliation | default \"180s\" | quote }}\n"),
    "secret.yaml": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: argocd-secret\n"
                    "stringData:\n  server.secretkey: not-a-real-key\n"),
    "deployment.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-server\nspec:\n"
                        "  replicas: 1\n  selector:\n    matchLabels: {app: argocd-server}\n  template:\n"
                        "    metadata:\n      labels: {app: argocd-server}\n    spec:\n"
                        "      serviceAccountName: argocd-server\n      containers:\n"
                        "      - name: server\n        image: quay.io/argoproj/argocd:v3.5.4\n"),
}


def chart_archive(cache: Path) -> None:
    """argo-cd-10.10.0.tgz in `cache`, as `helm pull` leaves it."""
    files = {"Chart.yaml": yaml.safe_dump(CHART), "values.yaml": "reconciliation: 120s\n",
             **{f"templates/{k}": v for k, v in TEMPLATES.items()},
             **{f"crds/{kind.lower()}.yaml": yaml.safe_dump(crd(known("argoproj.io/v1alpha1", kind)))
                for kind in ("Application", "AppProject")}}
    cache.mkdir(parents=True, exist_ok=True)
    with tarfile.open(cache / "argo-cd-10.10.0.tgz", "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"argo-cd/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


class Files:
    """The read side of the GitOps repository: this repository's gitops/ files."""

    remote = "gitops (test copy)"

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read_text(self, path: str) -> str | None:
        return self.files.get(path)


class Session:
    def __init__(self, files: dict[str, str]) -> None:
        self.repo = Files(files)
        self.remote = Files.remote

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def gitops_files(config: Config, *, filled: bool = True) -> dict[str, str]:
    files = {str(p.relative_to(REPO)): p.read_text() for p in (REPO / "gitops").rglob("*.yaml")}
    if filled:
        mapping = outputs.parse_mapping(files[config.cluster.path("platform/terraform-outputs.yaml")], "mapping")
        autoscaler = config.environment("dev").cluster.autoscaler
        by_file: dict[str, dict[Any, str]] = {}
        for entry in mapping.applicable(autoscaler):
            by_file.setdefault(entry.path("dev"), {})[entry.key] = entry.format.replace("{value}", "from-terraform")
        for path, changes in by_file.items():
            files[path] = patch_scalars(files[path], path, changes)
    return files


@pytest.fixture
def config() -> Config:
    return load_config(REPO / "pipelines" / "devops.yaml")


@pytest.fixture
def api() -> Iterator[KubeAPI]:
    server = KubeAPI(token=TOKEN).start()
    try:
        yield server
    finally:
        server.stop()


def ports(config: Config, api: KubeAPI, cache: Path, files: dict[str, str]) -> BootstrapPorts:
    return BootstrapPorts(lambda: Session(files), HelmCharts(cache),  # type: ignore[arg-type,return-value]
                          lambda: Kube(Endpoint("standin", api.url, api.ca_pem, lambda: TOKEN, timeout=10)),
                          sleep=lambda _s: None)


def refs(result: Any) -> list[str]:
    return [o.ref for o in result.applied]


def test_the_dry_run_shows_exactly_what_is_applied_and_a_second_run_applies_nothing(
        config: Config, api: KubeAPI, tmp_path: Path) -> None:
    chart_archive(tmp_path / "charts")
    files = gitops_files(config)
    dry = bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files), dry_run=True)
    expected = [
        "CustomResourceDefinition applications.argoproj.io", "CustomResourceDefinition appprojects.argoproj.io",
        "Namespace argocd", "ServiceAccount argocd/argocd-server", "Secret argocd/argocd-secret",
        "ConfigMap argocd/argocd-cm", "ClusterRole argocd-server", "Deployment argocd/argocd-server",
    ]
    own = [f"{d['kind']} argocd/{d['metadata']['name']}"
           for d in yaml.safe_load_all(files["gitops/bootstrap/dev.yaml"]) if d]
    assert sorted(refs(dry)[: len(expected)]) == sorted(expected)
    assert refs(dry)[len(expected):] == sorted(own, key=lambda r: r.startswith("Application "))
    assert refs(dry)[0].startswith("CustomResourceDefinition") and refs(dry)[-1].startswith("Application ")
    assert {o.action for o in dry.objects} == {"create"}
    assert api.get("v1", "Namespace", "argocd") is None  # the dry run applied nothing

    applied = bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files))
    assert refs(applied) == refs(dry)  # exactly what the dry run showed
    for item in applied.objects:
        assert api.get(item.api_version, item.kind, item.name, item.namespace) is not None, item.ref
    assert api.get("v1", "ConfigMap", "argocd-cm", "argocd")["data"] == {"timeout.reconciliation": "120s"}

    again = bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files))
    assert refs(again) == [] and {o.action for o in again.objects} == {"unchanged"}
    dry_again = bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files), dry_run=True)
    assert refs(dry_again) == []


def test_an_object_changed_in_the_cluster_is_the_only_one_applied_again(
        config: Config, api: KubeAPI, tmp_path: Path) -> None:
    chart_archive(tmp_path / "charts")
    files = gitops_files(config)
    bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files))
    server = api.get("apps/v1", "Deployment", "argocd-server", "argocd")
    server["spec"]["replicas"] = 3
    api.put(server)
    dry = bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files), dry_run=True)
    assert [(o.ref, o.action) for o in dry.applied] == [("Deployment argocd/argocd-server", "update")]
    bootstrap(config, "dev", ports(config, api, tmp_path / "charts", files))
    assert api.get("apps/v1", "Deployment", "argocd-server", "argocd")["spec"]["replicas"] == 1


def test_empty_terraform_values_refuse_before_the_cluster_is_touched(
        config: Config, api: KubeAPI, tmp_path: Path) -> None:
    chart_archive(tmp_path / "charts")
    with pytest.raises(GateFailed, match=r"Terraform values still empty in .*: gitops/environments/dev/platform/"):
        bootstrap(config, "dev", ports(config, api, tmp_path / "charts", gitops_files(config, filled=False)))
    assert api.get("v1", "Namespace", "argocd") is None
