"""Every path an Application references exists in the repository, and every chart from a Helm
repository is pinned to an exact version."""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

import pytest

from devops.config.model import Config
from tests.gitops_manifests.conftest import (
    CONTRACT_MONGODB_CHART,
    CONTRACT_SERVICE_CHART,
    CONTRACT_SERVICE_DEFAULTS,
    REPO_URL,
)
from tests.gitops_manifests.manifests import applications, load_values, sources

EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


def _references(app: dict[str, Any]) -> list[tuple[str, str]]:
    """(what, repository path) of every path and value file an Application uses from this repo.
    `$values/...` resolves against the `ref: values` source; plain value files against the
    source's path (Argo CD keeps them inside the repository)."""
    refs: list[tuple[str, str]] = []
    by_ref = {s["ref"]: s for s in sources(app) if "ref" in s}
    for source in sources(app):
        if "path" in source:
            assert source["repoURL"] == REPO_URL
            refs.append(("path", source["path"]))
        for value_file in source.get("helm", {}).get("valueFiles", []):
            if value_file.startswith("$"):
                ref, _, rest = value_file[1:].partition("/")
                assert ref in by_ref, f"{app['metadata']['name']}: {value_file} names no `ref: {ref}` source"
                assert by_ref[ref]["repoURL"] == REPO_URL
                refs.append(("valueFile", rest))
            elif "chart" in source:
                pytest.fail(f"{app['metadata']['name']}: value file {value_file} would be looked up in the chart")
            else:
                resolved = posixpath.normpath(posixpath.join(source["path"], value_file))
                assert not resolved.startswith(".."), f"{value_file} leaves the repository"
                refs.append(("valueFile", resolved))
    return refs


def _contract_paths(config: Config) -> set[str]:
    paths = {CONTRACT_SERVICE_CHART, CONTRACT_MONGODB_CHART}
    paths |= {CONTRACT_SERVICE_DEFAULTS.format(service=s) for s in config.services}
    return paths


def test_references_to_charts_are_the_contract_paths(
    rendered: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    contract = _contract_paths(config)
    for env, docs in rendered.items():
        used = {path for app in docs for _, path in _references(app) if path.startswith("charts/")}
        assert used == contract, env


def test_every_referenced_file_under_gitops_exists(
    rendered: dict[str, list[dict[str, Any]]], repo_root: Path, config: Config
) -> None:
    for env, docs in rendered.items():
        for app in docs:
            for what, path in _references(app):
                if path.startswith("charts/"):
                    continue
                assert path.startswith("gitops/"), (app["metadata"]["name"], path)
                # A `path` source is a chart folder (gitops/platform/observability), a value file a file.
                exists = (repo_root / path / "Chart.yaml").is_file() if what == "path" else (repo_root / path).is_file()
                assert exists, f"{app['metadata']['name']}: {what} {path} does not exist"
        # The environment files are where pipelines/devops.yaml says `devops` writes them.
        target = config.environments[env].gitops
        for service in config.services:
            expected = f"{target.path}/{target.values_file.format(service=service)}"
            service_app = dict(applications(docs)[f"{service}-{env}"])
            assert expected in [p for _, p in _references(service_app)], (env, service)


def test_every_referenced_chart_file_exists_once_the_charts_are_there(
    rendered: dict[str, list[dict[str, Any]]], repo_root: Path
) -> None:
    """The charts come from another part of the work: a folder not there yet is skipped, but once
    a folder exists everything referenced in it must exist (a misnamed file fails)."""
    missing_folders: set[str] = set()
    for docs in rendered.values():
        for app in docs:
            for what, path in _references(app):
                if not path.startswith("charts/"):
                    continue
                folder = path if what == "path" else posixpath.dirname(path)
                if not (repo_root / folder).is_dir():
                    missing_folders.add(folder)
                    continue
                if what == "path":
                    assert (repo_root / path / "Chart.yaml").is_file(), f"{path} is not a Helm chart"
                else:
                    assert (repo_root / path).is_file(), f"{app['metadata']['name']}: {path} does not exist"
    if missing_folders:
        pytest.skip(f"not there yet: {', '.join(sorted(missing_folders))}")


def test_platform_charts_come_from_their_official_repositories_pinned(
    rendered: dict[str, list[dict[str, Any]]], gitops: Path
) -> None:
    official = {
        "kube-prometheus-stack": "https://prometheus-community.github.io/helm-charts",
        "loki": "https://grafana.github.io/helm-charts",
        "alloy": "https://grafana.github.io/helm-charts",
        "grafana": "https://grafana.github.io/helm-charts",
    }
    for env, docs in rendered.items():
        apps = applications(docs)
        for name, repo in official.items():
            [chart] = [s for s in sources(apps[f"{name}-{env}"]) if "chart" in s]
            assert (chart["repoURL"], chart["chart"]) == (repo, name)
            assert EXACT_VERSION.match(chart["targetRevision"]), f"{name}: {chart['targetRevision']!r} is not pinned"
        # Nothing from git floats either: every git source is on a named branch, never HEAD.
        for app in docs:
            for source in sources(app):
                assert source["targetRevision"] not in {"HEAD", "", "*"}, app["metadata"]["name"]


def test_platform_values_files_are_mappings(gitops: Path) -> None:
    for name in ("kube-prometheus-stack", "loki", "alloy", "grafana"):
        values = load_values(gitops / "platform" / name / "values.yaml")
        assert values, name


def test_grafana_provisions_prometheus_and_loki_at_the_release_services(gitops: Path) -> None:
    values = load_values(gitops / "platform" / "grafana" / "values.yaml")
    sources_ = values["datasources"]["datasources.yaml"]["datasources"]
    urls = {d["type"]: d["url"] for d in sources_}
    # Service names follow the release names set in gitops/apps/values.yaml.
    apps = load_values(gitops / "apps" / "values.yaml")["platform"]
    assert urls["prometheus"] == f"http://{apps['kube-prometheus-stack']['releaseName']}-prometheus.monitoring.svc:9090"
    assert urls["loki"] == f"http://{apps['loki']['releaseName']}.monitoring.svc:3100"
    assert [d["name"] for d in sources_ if d.get("isDefault")] == ["Prometheus"]


def test_prometheus_selects_the_service_monitors_of_the_shop_namespace(gitops: Path, repo_root: Path) -> None:
    values = load_values(gitops / "platform" / "kube-prometheus-stack" / "values.yaml")
    spec = values["prometheus"]["prometheusSpec"]
    [expression] = spec["serviceMonitorNamespaceSelector"]["matchExpressions"]
    assert expression["key"] == "kubernetes.io/metadata.name" and "shop" in expression["values"]
    assert spec["serviceMonitorSelectorNilUsesHelmValues"] is True
    # ... selecting by `release: <release name>`, the label charts/service puts on its ServiceMonitor.
    release = load_values(gitops / "apps" / "values.yaml")["platform"]["kube-prometheus-stack"]["releaseName"]
    chart_values = repo_root / "charts" / "service" / "values.yaml"
    if not chart_values.is_file():
        pytest.skip("charts/service/values.yaml is not there yet")
    assert load_values(chart_values)["serviceMonitor"]["labels"] == {"release": release}
