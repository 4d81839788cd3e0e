"""The Kubernetes API stand-in (tests/support/kubeapi.py) driven over HTTP by the official
`kubernetes` Python client, exactly as code would drive EKS's API server (a bearer token, the
generated API classes, CustomObjectsApi, watch), and by kubectl. What it does not do is listed in
its docstring and docs/testing-kubernetes.md."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support.kubeapi import KubeAPI, crd, known

kubernetes = pytest.importorskip("kubernetes", reason="the official client is in the test extra (pyproject.toml)")
from kubernetes import client, watch  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402


def api_client(kubeapi: KubeAPI, token: str | None = None) -> client.ApiClient:
    config = client.Configuration()
    config.host = kubeapi.url
    config.ssl_ca_cert = kubeapi.ca_file  # verified TLS, as against EKS's endpoint and CA data
    config.api_key = {"authorization": token if token is not None else (kubeapi.token or "")}
    config.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(config)


def deployment(name: str = "web", replicas: int = 2) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "shop", "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "shop/web@sha256:" + "a" * 64,
                                                           "env": [{"name": "LOG_LEVEL", "value": "info"}]}]}}}}


@pytest.fixture
def core(kubeapi: KubeAPI) -> client.CoreV1Api:
    api = client.CoreV1Api(api_client(kubeapi))
    api.create_namespace({"metadata": {"name": "shop"}})
    return api


def test_namespaces_are_cluster_scoped_objects_with_server_metadata(kubeapi: KubeAPI, core: client.CoreV1Api) -> None:
    ns = core.read_namespace("shop")
    assert ns.metadata.uid and ns.metadata.creation_timestamp and ns.status.phase == "Active"
    assert int(ns.metadata.resource_version) >= 1
    with pytest.raises(ApiException) as conflict:
        core.create_namespace({"metadata": {"name": "shop"}})
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "AlreadyExists"


def test_deployments_create_get_patch_list_delete_with_404_and_409(kubeapi: KubeAPI, core: client.CoreV1Api) -> None:
    apps = client.AppsV1Api(api_client(kubeapi))
    created = apps.create_namespaced_deployment("shop", deployment())
    assert created.metadata.generation == 1
    with pytest.raises(ApiException) as missing:
        apps.read_namespaced_deployment("nope", "shop")
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'deployments.apps "nope" not found'
    with pytest.raises(ApiException) as no_namespace:
        apps.create_namespaced_deployment("ghost", {**deployment(), "metadata": {"name": "web", "namespace": "ghost"}})
    assert no_namespace.value.status == 404

    # Strategic merge: the container is merged by name, its env kept.
    patched = apps.patch_namespaced_deployment("web", "shop", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "shop/web@sha256:" + "b" * 64}]}}}})
    [container] = patched.spec.template.spec.containers
    assert container.image.endswith("b" * 64) and container.env[0].value == "info"
    assert patched.metadata.generation == 2

    # The scale subresource, as `devops cost` would use it.
    scale = apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 0}})
    assert scale.spec.replicas == 0
    assert apps.read_namespaced_deployment("web", "shop").spec.replicas == 0

    # Optimistic concurrency: replacing with a stale resourceVersion is a 409 Conflict.
    stale = created.metadata.resource_version
    body = {**deployment(), "metadata": {**deployment()["metadata"], "resourceVersion": stale}}
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("web", "shop", body)
    assert conflict.value.status == 409 and json.loads(conflict.value.body)["reason"] == "Conflict"

    listed = apps.list_namespaced_deployment("shop", label_selector="app=web")
    assert [d.metadata.name for d in listed.items] == ["web"]
    assert int(listed.metadata.resource_version) == kubeapi.resource_version
    assert apps.list_namespaced_deployment("shop", label_selector="app!=web").items == []

    assert apps.delete_namespaced_deployment("web", "shop").status == "Success"
    with pytest.raises(ApiException) as gone:
        apps.delete_namespaced_deployment("web", "shop")
    assert gone.value.status == 404


def test_server_side_apply_through_the_dynamic_client_and_discovery(kubeapi: KubeAPI, core: client.CoreV1Api) -> None:
    """Server-side apply (application/apply-patch+yaml) with the client's DynamicClient, which
    finds the resource through API discovery first, as `devops cluster bootstrap` would."""
    from kubernetes.dynamic import DynamicClient

    dyn = DynamicClient(api_client(kubeapi))
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    first = deployments.server_side_apply(body=deployment(), name="web", namespace="shop", field_manager="devops")
    assert first.spec.replicas == 2
    second = deployments.server_side_apply(body=deployment(replicas=3), name="web", namespace="shop",
                                           field_manager="devops")
    assert second.spec.replicas == 3 and second.metadata.generation == 2
    assert [(m.manager, m.operation) for m in second.metadata.managedFields] == [("devops", "Apply")]
    applies = [r for r in kubeapi.requests if r.method == "PATCH"]
    assert {r.headers["Content-Type"] for r in applies} == {"application/apply-patch+yaml"}
    with pytest.raises(kubernetes.dynamic.exceptions.BadRequestError):
        deployments.server_side_apply(body=deployment(), name="web", namespace="shop")


def test_argo_cd_applications_and_karpenter_nodepools_as_custom_resources(kubeapi: KubeAPI, core: client.CoreV1Api) -> None:
    custom = client.CustomObjectsApi(api_client(kubeapi))
    core.create_namespace({"metadata": {"name": "argocd"}})
    extensions = client.ApiextensionsV1Api(api_client(kubeapi))
    # Not served before its CRD exists (as on EKS before Argo CD's chart is installed) ...
    with pytest.raises(ApiException) as unserved:
        custom.list_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications")
    assert unserved.value.status == 404
    for kind in (("argoproj.io/v1alpha1", "Application"), ("karpenter.sh/v1", "NodePool")):
        extensions.create_custom_resource_definition(crd(known(*kind)))
    # ... and a CRD whose name is not <plural>.<group> is refused.
    with pytest.raises(ApiException) as invalid:
        extensions.create_custom_resource_definition({**crd(known("argoproj.io/v1alpha1", "AppProject")),
                                                      "metadata": {"name": "projects.argoproj.io"}})
    assert invalid.value.status == 422
    app = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
           "metadata": {"name": "shop-dev", "namespace": "argocd", "finalizers": ["resources-finalizer.argocd.argoproj.io"]},
           "spec": {"project": "shop-dev-root", "source": {"repoURL": "https://example.invalid/x.git", "path": "gitops/apps"},
                    "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd"}}}
    custom.create_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", app)
    # Argo CD (a test standing in for it) reports sync and health through the status subresource.
    custom.patch_namespaced_custom_object_status("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev",
                                                 {"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}})
    # ... which a spec update does not overwrite.
    custom.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev",
                                          {"spec": {"project": "shop-dev-root"}, "status": {"health": {"status": "Missing"}}})
    got = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev")
    assert got["status"]["health"]["status"] == "Healthy"
    # A finalizer keeps the object, marked for deletion, until it is removed.
    custom.delete_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev")
    marked = custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev")
    assert marked["metadata"]["deletionTimestamp"]
    custom.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev",
                                          {"metadata": {"finalizers": None}})
    with pytest.raises(ApiException) as gone:
        custom.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "shop-dev")
    assert gone.value.status == 404

    # Cluster-scoped: a NodePool limited to zero, as the night schedule would.
    pool = {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": "default"},
            "spec": {"limits": {"cpu": "16"}, "template": {"spec": {"requirements": []}}}}
    custom.create_cluster_custom_object("karpenter.sh", "v1", "nodepools", pool)
    limited = custom.patch_cluster_custom_object("karpenter.sh", "v1", "nodepools", "default", {"spec": {"limits": {"cpu": "0"}}})
    assert limited["spec"]["limits"] == {"cpu": "0"}
    assert limited["spec"]["template"] == {"spec": {"requirements": []}}  # merge patch kept the rest


def test_watch_from_a_resource_version_sees_exactly_the_later_changes(kubeapi: KubeAPI, core: client.CoreV1Api) -> None:
    apps = client.AppsV1Api(api_client(kubeapi))
    apps.create_namespaced_deployment("shop", deployment("before"))
    since = apps.list_namespaced_deployment("shop").metadata.resource_version

    def change() -> None:
        apps.create_namespaced_deployment("shop", deployment("after"))
        apps.patch_namespaced_deployment_scale("after", "shop", {"spec": {"replicas": 0}})
        apps.delete_namespaced_deployment("after", "shop")

    worker = threading.Thread(target=change)
    worker.start()
    seen = [(e["type"], e["object"].metadata.name)
            for e in watch.Watch().stream(apps.list_namespaced_deployment, "shop", resource_version=since,
                                          timeout_seconds=2)]
    worker.join()
    assert seen == [("ADDED", "after"), ("MODIFIED", "after"), ("DELETED", "after")]


def test_a_missing_or_wrong_token_is_401_and_the_token_is_what_was_sent(kubeapi: KubeAPI) -> None:
    with pytest.raises(ApiException) as denied:
        client.CoreV1Api(api_client(kubeapi, token="wrong")).list_namespace()
    assert denied.value.status == 401
    client.CoreV1Api(api_client(kubeapi)).list_namespace()
    assert [r.headers.get("Authorization") for r in kubeapi.requests] == ["Bearer wrong", f"Bearer {kubeapi.token}"]


def test_kubectl_applies_gets_and_deletes_through_discovery(kubeapi: KubeAPI, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (Debian: apt-get install kubernetes-client)")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "standin",
        "clusters": [{"name": "standin", "cluster": {
            "server": kubeapi.url, "certificate-authority-data": base64.b64encode(kubeapi.ca_pem).decode()}}],
        "users": [{"name": "standin", "user": {"token": kubeapi.token}}],
        "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "standin"}}]}))
    kubeapi.put(crd(known("karpenter.sh/v1", "NodePool")))
    manifest = tmp_path / "objects.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n---\n"
                        "apiVersion: karpenter.sh/v1\nkind: NodePool\nmetadata:\n  name: default\nspec:\n  limits:\n    cpu: '16'\n")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([kubectl, f"--kubeconfig={kubeconfig}", *args], capture_output=True, text=True,
                              timeout=60, check=False, env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})

    applied = run("apply", "--server-side", "--field-manager=devops", "--validate=false", "-f", str(manifest))
    assert applied.returncode == 0, applied.stderr
    assert kubeapi.get("karpenter.sh/v1", "NodePool", "default")["spec"]["limits"] == {"cpu": "16"}
    got = run("get", "nodepools.karpenter.sh", "default", "-o", "json", "--show-managed-fields")
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["metadata"]["managedFields"][0]["manager"] == "devops"
    deleted = run("delete", "namespace", "argocd")
    assert deleted.returncode == 0, deleted.stderr
    assert kubeapi.get("v1", "Namespace", "argocd") is None
