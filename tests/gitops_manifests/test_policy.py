"""What the Applications and AppProjects promise: sync policy per environment, sync order,
least privilege, and agreement with pipelines/devops.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devops.config.model import Config
from tests.gitops_manifests.conftest import REPO_URL
from tests.gitops_manifests.manifests import applications, load_values, projects, render_apps, sources

# Issue 9 added blackbox-exporter, pushgateway and observability (a chart in gitops/platform/).
PLATFORM = ("kube-prometheus-stack", "loki", "alloy", "grafana", "blackbox-exporter", "pushgateway", "observability")
# Issue 16: the cluster add-ons (project cluster-<env>), the autoscaler chosen per environment.
CLUSTER = ("argocd", "aws-load-balancer-controller", "metrics-server", "external-dns")
AUTOSCALER_APPS = {"dev": ("cluster-autoscaler",), "prod": ("karpenter", "karpenter-nodes")}
CLUSTER_NAMESPACES = {"argocd", "kube-system", "external-dns"}
ARGOCD_NS = "argocd"
SHOP_NS = "shop"
PLATFORM_NS = "monitoring"
IN_CLUSTER = "https://kubernetes.default.svc"


def _wave(app: dict[str, Any]) -> int:
    return int(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


def test_each_environment_renders_one_application_per_service_mongodb_and_platform_app(
    rendered: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    for env, docs in rendered.items():
        names = sorted(d["metadata"]["name"] for d in docs)
        cluster = {*CLUSTER, *AUTOSCALER_APPS[env]}
        expected = sorted(f"{name}-{env}" for name in [*config.services, "mongodb", *PLATFORM, *cluster])
        assert names == expected, env
        for doc in docs:
            assert doc["metadata"]["namespace"] == ARGOCD_NS
            short = doc["metadata"]["name"].removesuffix(f"-{env}")
            assert doc["spec"]["project"] == (f"cluster-{env}" if short in cluster else f"shop-{env}"), short
            assert doc["metadata"]["labels"]["techitfactory.com/environment"] == env


def test_children_sync_automatically_exactly_where_auto_sync_is_true(
    rendered: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    assert config.environments["dev"].auto_sync is True and config.environments["prod"].auto_sync is False
    for env, docs in rendered.items():
        for app in docs:
            policy = app["spec"]["syncPolicy"]
            if config.environments[env].auto_sync:
                assert policy["automated"] == {"prune": True, "selfHeal": True}, app["metadata"]["name"]
            else:
                assert "automated" not in policy, app["metadata"]["name"]


def test_the_root_application_follows_auto_sync_too(
    bootstrap: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    for env, docs in bootstrap.items():
        root = applications(docs)[f"shop-{env}"]
        automated = root["spec"]["syncPolicy"].get("automated")
        if config.environments[env].auto_sync:
            assert automated == {"prune": True, "selfHeal": True}
        else:
            assert automated is None
        # The root renders gitops/apps of this repository with this environment's values.
        source = root["spec"]["source"]
        assert (source["repoURL"], source["path"], source["helm"]["valueFiles"]) == (
            REPO_URL, "gitops/apps", [f"values-{env}.yaml"]
        )
        assert root["spec"]["destination"] == {"server": IN_CLUSTER, "namespace": ARGOCD_NS}
        # Deleting the root must not cascade into tearing the whole environment down.
        assert "finalizers" not in root["metadata"]


def test_every_child_has_retry_backoff_create_namespace_a_finalizer_and_confirmed_prune(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for docs in rendered.values():
        for app in docs:
            name = app["metadata"]["name"]
            policy = app["spec"]["syncPolicy"]
            assert "CreateNamespace=true" in policy["syncOptions"], name
            retry = policy["retry"]
            assert retry["limit"] >= 3 and retry["backoff"]["factor"] >= 2, name
            assert retry["backoff"]["duration"] and retry["backoff"]["maxDuration"], name
            if name.startswith("argocd-"):
                # Deleting Argo CD's own Application must never uninstall Argo CD.
                assert "finalizers" not in app["metadata"], name
            else:
                assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"], name
            # ... so the root's automated prune never deletes a child (and its workloads) unasked.
            assert app["metadata"]["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=confirm", name


def test_sync_waves_put_crds_first_and_mongodb_before_the_services(
    rendered: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    for env, docs in rendered.items():
        apps = {a["metadata"]["name"].removesuffix(f"-{env}"): a for a in docs}
        waves = {name: _wave(app) for name, app in apps.items()}
        # The cluster add-ons come first: Argo CD's own settings, then the load balancer
        # controller (its webhooks), metrics-server and the autoscaler, then external-dns and
        # Karpenter's NodePool (after Karpenter's CRDs).
        cluster = {*CLUSTER, *AUTOSCALER_APPS[env]}
        assert waves["argocd"] == min(waves.values()), waves
        assert max(waves[a] for a in cluster) < waves["kube-prometheus-stack"], waves
        assert waves["aws-load-balancer-controller"] < waves["external-dns"], waves
        if "karpenter" in waves:
            assert waves["karpenter"] < waves["karpenter-nodes"], waves
        # kube-prometheus-stack installs the monitoring.coreos.com CRDs (ServiceMonitor) that
        # Loki, Grafana, Alloy and every service chart use.
        assert waves["kube-prometheus-stack"] == min(w for a, w in waves.items() if a not in cluster), waves
        assert waves["loki"] < waves["alloy"] and waves["loki"] < waves["grafana"], waves
        for service in config.services:
            assert waves["mongodb"] < waves[service], (service, waves)
        # Server-side apply where client-side apply breaks: CRDs over the annotation size limit.
        assert "ServerSideApply=true" in apps["kube-prometheus-stack"]["spec"]["syncPolicy"]["syncOptions"]


def test_hpa_replicas_are_ignored_exactly_where_the_environment_enables_the_hpa(
    rendered: dict[str, list[dict[str, Any]]], gitops: Path, config: Config
) -> None:
    for env, docs in rendered.items():
        apps = applications(docs)
        for service in config.services:
            app = apps[f"{service}-{env}"]
            values = load_values(gitops / "environments" / env / "values" / f"{service}.yaml")
            hpa = bool(values.get("autoscaling", {}).get("enabled", False))
            ignored = app["spec"].get("ignoreDifferences", [])
            respect = "RespectIgnoreDifferences=true" in app["spec"]["syncPolicy"]["syncOptions"]
            if hpa:
                assert ignored == [
                    {"group": "apps", "kind": "Deployment", "name": service, "jsonPointers": ["/spec/replicas"]}
                ], app["metadata"]["name"]
                assert respect
            else:
                # Without an HPA a replicaCount change in git must still be seen and synced.
                assert ignored == [] and not respect, (
                    f"{app['metadata']['name']}: replicas ignored although "
                    f"gitops/environments/{env}/values/{service}.yaml has no HPA: set "
                    f"services.{service}.autoscaling in gitops/apps/values-{env}.yaml"
                )


def test_project_destinations_are_the_environment_namespaces_only(
    bootstrap: dict[str, list[dict[str, Any]]], rendered: dict[str, list[dict[str, Any]]]
) -> None:
    for env, docs in bootstrap.items():
        project = projects(docs)[f"shop-{env}"]["spec"]
        root_project = projects(docs)[f"shop-{env}-root"]["spec"]
        assert {(d["server"], d["namespace"]) for d in project["destinations"]} == {
            (IN_CLUSTER, SHOP_NS), (IN_CLUSTER, PLATFORM_NS)
        }
        assert root_project["destinations"] == [{"server": IN_CLUSTER, "namespace": ARGOCD_NS}]
        # The root may create Applications and nothing else; nothing cluster-scoped.
        assert root_project["namespaceResourceWhitelist"] == [{"group": "argoproj.io", "kind": "Application"}]
        assert root_project["clusterResourceWhitelist"] == []
        assert "*" not in str(project["destinations"]) + str(project["sourceRepos"])
        cluster_project = projects(docs)[f"cluster-{env}"]["spec"]
        assert {(d["server"], d["namespace"]) for d in cluster_project["destinations"]} == {
            (IN_CLUSTER, ns) for ns in CLUSTER_NAMESPACES
        }
        assert "*" not in str(cluster_project["destinations"]) + str(cluster_project["sourceRepos"])
        by_name = {f"shop-{env}": project, f"cluster-{env}": cluster_project}
        for app in rendered[env]:
            spec = by_name[app["spec"]["project"]]
            allowed = {(d["server"], d["namespace"]) for d in spec["destinations"]}
            dest = app["spec"]["destination"]
            assert (dest["server"], dest["namespace"]) in allowed, app["metadata"]["name"]
            for source in sources(app):
                assert source["repoURL"] in spec["sourceRepos"], (app["metadata"]["name"], source["repoURL"])


def test_cluster_scoped_permissions_are_only_what_the_charts_need(
    bootstrap: dict[str, list[dict[str, Any]]],
) -> None:
    needed = {
        ("", "Namespace"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    }
    for env, docs in bootstrap.items():
        spec = projects(docs)[f"shop-{env}"]["spec"]
        assert {(r["group"], r["kind"]) for r in spec["clusterResourceWhitelist"]} == needed, env
        assert spec["orphanedResources"]["warn"] is True
        # Roles say who may sync; policies only reach this project's applications.
        for role in spec["roles"]:
            for policy in role["policies"]:
                assert f"proj:shop-{env}:{role['name']}" in policy and f"shop-{env}/*" in policy, policy


def test_repository_url_is_the_github_repository_of_the_infra_config(
    config: Config, rendered: dict[str, list[dict[str, Any]]], gitops: Path
) -> None:
    for env in rendered:
        variables = config.infra.environments[env].variables
        assert f"https://github.com/{variables['github_repository']}.git" == REPO_URL
    values = load_values(gitops / "apps" / "values.yaml")
    assert values["repos"]["app"]["url"] == values["repos"]["gitops"]["url"] == REPO_URL
    assert REPO_URL in (gitops / "bootstrap" / "dev.yaml").read_text()


def test_a_separate_gitops_repository_moves_only_the_values_references(gitops: Path) -> None:
    other = "https://github.com/techitfactory/techitfactory-gitops.git"
    docs = render_apps(gitops / "apps", "dev", {"repos": {"gitops": {"url": other, "path": ""}}})
    product = applications(docs)["product-dev"]
    chart, ref = sources(product)
    assert (chart["repoURL"], chart["path"]) == (REPO_URL, "charts/service")
    assert chart["helm"]["valueFiles"] == ["../values/product.yaml", "$values/environments/dev/values/product.yaml"]
    assert (ref["repoURL"], ref["ref"]) == (other, "values")


def test_rendering_without_an_environment_fails_with_a_message(gitops: Path) -> None:
    import helm_python as helm

    from tests.gitops_manifests.manifests import render_chart

    with pytest.raises(helm.HelmRenderError, match=r"environment is empty: render gitops/apps with values-<env>.yaml"):
        render_chart(gitops / "apps", {}, release="shop", namespace="argocd")


@pytest.mark.parametrize("version", ["~79.5.0", "79.x", "*", ">=79.0.0", "HEAD", "latest", ""])
def test_an_unpinned_platform_chart_version_fails_to_render(gitops: Path, version: str) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=r"platform\.loki\.version"):
        render_apps(gitops / "apps", "dev", {"platform": {"loki": {"version": version}}})


def test_helm_lint_is_clean_in_strict_mode(gitops: Path, environments: list[str]) -> None:
    import helm_python as helm

    for env in environments:
        report = helm.lint(str(gitops / "apps"), load_values(gitops / "apps" / f"values-{env}.yaml"), strict=True)
        assert report["errors"] == [], env
        # Info (severity 1, e.g. "icon is recommended") is fine; warnings and errors are not.
        assert [m for m in report["messages"] if m["severity"] >= 2] == [], env


def test_exactly_one_application_labels_the_shop_namespace_and_syncs_first(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    for env, docs in rendered.items():
        shop = [a for a in docs if a["spec"]["destination"]["namespace"] == SHOP_NS]
        owners = [a for a in docs if "managedNamespaceMetadata" in a["spec"]["syncPolicy"]]
        assert [a["metadata"]["name"] for a in owners] == [f"mongodb-{env}"], env
        assert _wave(owners[0]) == min(_wave(a) for a in shop)
        labels = owners[0]["spec"]["syncPolicy"]["managedNamespaceMetadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_a_namespace_owner_that_is_not_deployed_fails_to_render(gitops: Path) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=r'shopNamespace.owner "mongodb" is not an enabled Application'):
        render_apps(gitops / "apps", "dev", {"mongodb": {"enabled": False}})
    docs = render_apps(gitops / "apps", "dev", {"mongodb": {"enabled": False}, "shopNamespace": {"owner": "product"}})
    owners = [a["metadata"]["name"] for a in docs if "managedNamespaceMetadata" in a["spec"]["syncPolicy"]]
    assert owners == ["product-dev"]
