"""The platform side of issue 9 in gitops/: the new platform apps (blackbox exporter,
Pushgateway) pinned from prometheus-community, the `observability` Application (a chart in the
GitOps repository), kube-state-metrics exporting the node-group label, and agreement with
pipelines/devops.yaml."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import pytest

from devops.config.model import Config
from tests.gitops_manifests.manifests import SchemaSet, load_values, render_apps, sources
from tests.observability.manifests.catalogue import CHART, REPO_ROOT

GITOPS = REPO_ROOT / "gitops"
COMMUNITY = "https://prometheus-community.github.io/helm-charts"
EXACT = re.compile(r"^\d+\.\d+\.\d+$")
NEW_APPS = {"blackbox-exporter": "prometheus-blackbox-exporter", "pushgateway": "prometheus-pushgateway"}


def test_new_platform_apps_are_pinned_community_charts(apps: dict[str, dict[str, Any]]) -> None:
    for env, by_name in apps.items():
        for app, chart in NEW_APPS.items():
            [source] = [s for s in sources(by_name[app]) if "chart" in s]
            assert (source["repoURL"], source["chart"]) == (COMMUNITY, chart), (env, app)
            assert EXACT.match(source["targetRevision"]), f"{app}: {source['targetRevision']} is not pinned"
            assert source["helm"]["releaseName"] == app
            assert source["helm"]["valueFiles"] == [f"$values/gitops/platform/{app}/values.yaml"]
            assert by_name[app]["spec"]["destination"]["namespace"] == "monitoring"
            values = load_values(GITOPS / "platform" / app / "values.yaml")
            # A stable Service name, and no ServiceMonitor of the chart (the observability chart owns it).
            assert values["fullnameOverride"] == app
            assert values["serviceMonitor"]["enabled"] is False


def test_the_observability_application_renders_the_chart_of_this_repo(apps: dict[str, dict[str, Any]]) -> None:
    for env, by_name in apps.items():
        app = by_name["observability"]
        [source] = sources(app)
        assert source["path"] == "gitops/platform/observability"
        assert (REPO_ROOT / source["path"] / "Chart.yaml").is_file()
        assert source["repoURL"] == "https://github.com/techitfactory/techitfactory-shop.git"
        assert source["targetRevision"] == "main"
        assert app["spec"]["destination"]["namespace"] == "monitoring"
        assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]
        waves = {name: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"]) for name, a in by_name.items()}
        # After the CRDs (PrometheusRule, ServiceMonitor) exist.
        assert waves["observability"] > waves["kube-prometheus-stack"], env


def test_a_separate_gitops_repository_moves_the_observability_chart() -> None:
    other = "https://github.com/techitfactory/techitfactory-gitops.git"
    docs = render_apps(GITOPS / "apps", "dev", {"repos": {"gitops": {"url": other, "path": ""}}})
    [app] = [d for d in docs if d["metadata"]["name"] == "observability-dev"]
    [source] = sources(app)
    assert (source["repoURL"], source["path"]) == (other, "platform/observability")


def test_new_applications_validate_against_the_crd(apps: dict[str, dict[str, Any]], schemas: SchemaSet) -> None:
    problems: list[str] = []
    for env, by_name in apps.items():
        for name in (*NEW_APPS, "observability"):
            problems += schemas.errors(by_name[name], label=f"gitops/apps ({env})")
    assert problems == []


def test_disabling_the_observability_app_removes_it() -> None:
    docs = render_apps(GITOPS / "apps", "dev", {"observability": {"enabled": False}})
    assert "observability-dev" not in {d["metadata"]["name"] for d in docs}


def test_probe_urls_are_the_environment_urls(apps: dict[str, dict[str, Any]], config: Config) -> None:
    for env, by_name in apps.items():
        [source] = sources(by_name["observability"])
        targets = source["helm"]["valuesObject"]["probes"]["targets"]
        url = config.environments[env].url.rstrip("/")
        assert targets == {"frontend": f"{url}/", "products-api": f"{url}/api/products"}, env


def test_kube_state_metrics_exports_the_node_group_label() -> None:
    values = load_values(GITOPS / "platform" / "kube-prometheus-stack" / "values.yaml")
    assert "nodes=[eks.amazonaws.com/nodegroup]" in values["kube-state-metrics"]["metricLabelsAllowlist"]


def test_project_allows_the_new_sources(apps: dict[str, dict[str, Any]]) -> None:
    import yaml

    for env, by_name in apps.items():
        docs = list(yaml.safe_load_all((GITOPS / "bootstrap" / f"{env}.yaml").read_text()))
        [project] = [d for d in docs if d["kind"] == "AppProject" and d["metadata"]["name"] == f"shop-{env}"]
        allowed = set(project["spec"]["sourceRepos"])
        for name in (*NEW_APPS, "observability"):
            for source in sources(by_name[name]):
                assert source["repoURL"] in allowed, (env, name, source["repoURL"])


def test_pushgateway_url_agrees_with_the_cost_config(config: Config) -> None:
    cost = getattr(config, "cost", None)
    metrics = getattr(cost, "metrics", None)
    url = getattr(metrics, "pushgateway_url", None)
    if not url:
        pytest.skip("cost.metrics.pushgateway_url is not configured in pipelines/devops.yaml")
    values = load_values(GITOPS / "platform" / "pushgateway" / "values.yaml")
    assert f"//{values['fullnameOverride']}.monitoring.svc:9091" in str(url)


def test_chart_values_have_a_folder_for_every_dashboard_prefix() -> None:
    folders = load_values(CHART / "values.yaml")["dashboards"]["folders"]
    prefixes = {p.stem.split("-")[0] for p in (CHART / "dashboards").glob("*.json")}
    assert prefixes <= set(folders), prefixes - set(folders)


def test_helm_lint_of_the_apps_chart_stays_clean(environments: list[str]) -> None:
    for env in environments:
        report = helm.lint(str(GITOPS / "apps"), load_values(GITOPS / "apps" / f"values-{env}.yaml"), strict=True)
        assert report["errors"] == [], env


