"""The chart gitops/platform/observability as Argo CD renders it: one ConfigMap per dashboard
(for Grafana's sidecar, in its folder), one PrometheusRule per rule file (exactly the file's
groups), the ServiceMonitors of the blackbox probes and the Pushgateway; every object valid
against the Kubernetes and CRD schemas; bad input fails the render with a message naming it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from devops.config.model import Config
from tests.charts.render import KUBERNETES_VERSIONS, kubernetes_errors
from tests.gitops_manifests.manifests import SchemaSet, load_values, render_chart
from tests.observability.manifests.catalogue import CHART, DASHBOARDS, GRAFANA_VALUES, RULES

RELEASE_LABEL = "kube-prometheus-stack"
PROBE_VALUES = {"probes": {"targets": {"frontend": "https://dev.techitfactory.com/"}}}


def _kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _render(chart: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    return render_chart(chart, values if values is not None else PROBE_VALUES, release="observability",
                        namespace="monitoring")


def test_one_configmap_per_dashboard_in_its_grafana_folder(rendered: dict[str, list[dict[str, Any]]]) -> None:
    files = sorted(DASHBOARDS.glob("*.json"))
    assert len(files) >= 6
    sidecar = load_values(GRAFANA_VALUES)["sidecar"]["dashboards"]
    for env, docs in rendered.items():
        maps = _kind(docs, "ConfigMap")
        assert sorted(maps) == sorted(f"dashboard-{p.stem}" for p in files), env
        for path in files:
            cm = maps[f"dashboard-{path.stem}"]
            assert cm["metadata"]["namespace"] == "monitoring"
            # ... where the sidecar looks, with its label, and the folder by the file's prefix.
            assert "monitoring" in sidecar["searchNamespace"]
            assert cm["metadata"]["labels"][sidecar["label"]] == sidecar["labelValue"] == "1"
            folder = cm["metadata"]["annotations"][sidecar["folderAnnotation"]]
            assert folder == ("Cost" if path.stem.startswith("cost-") else "Shop"), path.name
            # The dashboard byte for byte (modulo the trailing newline), parseable.
            assert list(cm["data"]) == [path.name]
            assert cm["data"][path.name] == path.read_text(encoding="utf-8").strip()
            assert json.loads(cm["data"][path.name])["uid"]


def test_grafana_files_sidecar_dashboards_into_folders() -> None:
    """The annotation the chart sets is the one Grafana's sidecar reads, and the provider turns
    the sidecar's sub-folders into Grafana folders (otherwise everything lands in General)."""
    sidecar = load_values(GRAFANA_VALUES)["sidecar"]["dashboards"]
    assert sidecar["enabled"] is True
    assert sidecar["folderAnnotation"] == "grafana_folder"
    assert sidecar["provider"]["foldersFromFilesStructure"] is True
    # kube-prometheus-stack's own dashboards get a folder too (not "General").
    stack = load_values(CHART.parent / "kube-prometheus-stack" / "values.yaml")["grafana"]
    assert stack["sidecar"]["dashboards"]["annotations"] == {"grafana_folder": "Kubernetes"}


def test_one_prometheus_rule_per_rule_file_with_its_groups(rendered: dict[str, list[dict[str, Any]]]) -> None:
    files = sorted(RULES.glob("*.yaml"))
    if not files:
        pytest.skip("gitops/platform/observability/rules/ has no rule files yet")
    for env, docs in rendered.items():
        rules = _kind(docs, "PrometheusRule")
        assert sorted(rules) == sorted(f"shop-{p.stem}" for p in files), env
        for path in files:
            rule = rules[f"shop-{path.stem}"]
            assert rule["metadata"]["labels"]["release"] == RELEASE_LABEL
            assert rule["spec"] == yaml.safe_load(path.read_text(encoding="utf-8")), path.name


def test_prometheus_selects_what_the_chart_renders(rendered: dict[str, list[dict[str, Any]]]) -> None:
    """kube-prometheus-stack selects rules and ServiceMonitors by `release: <its release name>`
    in the monitoring namespace (ruleSelectorNilUsesHelmValues...)."""
    repo = CHART.parents[2]
    apps = load_values(repo / "gitops" / "apps" / "values.yaml")
    assert apps["platform"]["kube-prometheus-stack"]["releaseName"] == RELEASE_LABEL
    spec = load_values(repo / "gitops" / "platform" / "kube-prometheus-stack" / "values.yaml")["prometheus"][
        "prometheusSpec"]
    for selector in ("ruleNamespaceSelector", "serviceMonitorNamespaceSelector"):
        [expr] = spec[selector]["matchExpressions"]
        assert "monitoring" in expr["values"]
    for docs in rendered.values():
        for doc in docs:
            if doc["kind"] in {"PrometheusRule", "ServiceMonitor"}:
                assert doc["metadata"]["labels"]["release"] == RELEASE_LABEL, doc["metadata"]["name"]
                assert doc["metadata"]["namespace"] == "monitoring"


def test_probes_target_the_environment_url_as_job_blackbox(
    rendered: dict[str, list[dict[str, Any]]], config: Config
) -> None:
    for env, docs in rendered.items():
        monitor = _kind(docs, "ServiceMonitor")["blackbox-probes"]
        url = config.environments[env].url.rstrip("/")
        targets = {}
        for endpoint in monitor["spec"]["endpoints"]:
            assert endpoint["path"] == "/probe" and endpoint["params"]["module"] == ["http_2xx"]
            [target] = endpoint["params"]["target"]
            labels = {r["targetLabel"]: r["replacement"] for r in endpoint["relabelings"]}
            # The contract: job="blackbox", instance = the probed URL.
            assert labels["job"] == "blackbox" and labels["instance"] == target
            targets[labels["target"]] = target
        assert targets == {"frontend": f"{url}/", "products-api": f"{url}/api/products"}, env
        # The exporter's Service: the blackbox chart's selector labels for release blackbox-exporter.
        assert monitor["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": "prometheus-blackbox-exporter",
            "app.kubernetes.io/instance": "blackbox-exporter",
        }


def test_pushgateway_is_scraped_with_honor_labels(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for docs in rendered.values():
        monitor = _kind(docs, "ServiceMonitor")["pushgateway"]
        [endpoint] = monitor["spec"]["endpoints"]
        # Without it the pushed job="devops-cost" would become exported_job.
        assert endpoint["honorLabels"] is True
        assert monitor["spec"]["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": "prometheus-pushgateway",
            "app.kubernetes.io/instance": "pushgateway",
        }


def test_crds_validate_against_the_shared_schemas(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet
) -> None:
    problems: list[str] = []
    kinds: set[str] = set()
    for env, docs in rendered.items():
        for doc in docs:
            if doc["apiVersion"].startswith("monitoring.coreos.com/"):
                kinds.add(doc["kind"])
                problems += schemas.errors(doc, label=f"observability ({env})")
    assert problems == []
    assert {"ServiceMonitor"} <= kinds
    if list(RULES.glob("*.yaml")):
        assert "PrometheusRule" in kinds


def test_the_shared_validator_script_accepts_the_chart(
    rendered: dict[str, list[dict[str, Any]]], schema_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "observability.yaml"
    out.write_text(yaml.safe_dump_all(rendered["dev"], sort_keys=False))
    result = subprocess.run([sys.executable, str(schema_dir / "validate_manifests.py"), str(out)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_configmaps_are_valid_kubernetes(rendered: dict[str, list[dict[str, Any]]]) -> None:
    for version in KUBERNETES_VERSIONS:
        assert kubernetes_errors(rendered["prod"], version) == []


def test_helm_lint_is_clean() -> None:
    report = helm.lint(str(CHART), PROBE_VALUES, strict=True)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_a_broken_prometheus_rule_fails_the_schema(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet
) -> None:
    """Control: the schema check can fail (a rule without `expr`, a misspelt field)."""
    rules = _kind(rendered["dev"], "PrometheusRule")
    if not rules:
        pytest.skip("no PrometheusRule rendered yet")
    rule = json.loads(json.dumps(next(iter(rules.values()))))
    rule["spec"]["groups"][0]["rules"][0].pop("expr")
    rule["spec"]["groups"][0]["rulez"] = []
    problems = schemas.errors(rule)
    assert any("'expr' is a required property" in p for p in problems), problems
    assert any("'rulez' was unexpected" in p for p in problems), problems


# --- bad input: the render fails and names the file / key -------------------------------------


def test_a_malformed_rule_file_fails_the_render(chart_copy: Path) -> None:
    (chart_copy / "rules").mkdir(exist_ok=True)
    (chart_copy / "rules" / "broken.yaml").write_text("groups:\n  - name: x\n    rules: [\n")
    with pytest.raises(helm.HelmRenderError, match=r"rules/broken\.yaml is not a Prometheus rule file .*yaml: line"):
        _render(chart_copy)


@pytest.mark.parametrize(
    "text", ["- alert: X\n  expr: up == 0\n", "rules:\n  - alert: X\n    expr: up == 0\n", "groups: {}\n"],
    ids=["a-list", "no-groups", "groups-not-a-list"],
)
def test_a_rule_file_without_groups_fails_the_render(chart_copy: Path, text: str) -> None:
    (chart_copy / "rules").mkdir(exist_ok=True)
    (chart_copy / "rules" / "flat.yaml").write_text(text)
    with pytest.raises(helm.HelmRenderError, match=r"rules/flat\.yaml is not a Prometheus rule file"):
        _render(chart_copy)


def test_a_new_rule_file_becomes_its_own_prometheus_rule(chart_copy: Path) -> None:
    (chart_copy / "rules").mkdir(exist_ok=True)
    rules = {"groups": [{"name": "extra", "rules": [{"alert": "Extra", "expr": "up == 0"}]}]}
    (chart_copy / "rules" / "extra.yaml").write_text(yaml.safe_dump(rules))
    [rule] = [d for d in _render(chart_copy) if d["metadata"]["name"] == "shop-extra"]
    assert rule["kind"] == "PrometheusRule" and rule["spec"] == rules


def test_a_dashboard_that_is_not_json_fails_the_render(chart_copy: Path) -> None:
    (chart_copy / "dashboards" / "shop-broken.json").write_text('{"uid": "x", ')
    with pytest.raises(helm.HelmRenderError, match=r"dashboards/shop-broken\.json is not valid JSON"):
        _render(chart_copy)


def test_a_dashboard_without_a_folder_fails_the_render(chart_copy: Path) -> None:
    (chart_copy / "dashboards" / "misc-thing.json").write_text('{"uid": "misc-thing"}')
    with pytest.raises(helm.HelmRenderError, match=r'no Grafana folder for the prefix "misc"'):
        _render(chart_copy)


def test_a_dashboard_file_name_that_cannot_name_an_object_fails(chart_copy: Path) -> None:
    (chart_copy / "dashboards" / "Shop_Thing.json").write_text('{"uid": "x"}')
    with pytest.raises(helm.HelmRenderError, match=r"dashboards/Shop_Thing\.json: the file name must be lower-case"):
        _render(chart_copy)


def test_probes_without_targets_fail_the_render() -> None:
    with pytest.raises(helm.HelmRenderError, match=r"probes\.targets is empty"):
        _render(CHART, {})
    docs = _render(CHART, {"probes": {"enabled": False}})
    assert "blackbox-probes" not in _kind(docs, "ServiceMonitor")


def test_a_probe_target_that_is_not_a_url_fails_the_render() -> None:
    with pytest.raises(helm.HelmRenderError, match=r'probes\.targets\.frontend: "dev\.techitfactory\.com" is not'):
        _render(CHART, {"probes": {"targets": {"frontend": "dev.techitfactory.com"}}})


def test_rendered_rules_still_pass_promtool(rendered: dict[str, list[dict[str, Any]]], promtool: str,
                                            tmp_path: Path) -> None:
    """What Prometheus receives (the PrometheusRule spec after Helm's YAML round trip) is still a
    valid rule file: alert templates such as {{ $value }} and multi-line expressions survive."""
    rules = _kind(rendered["prod"], "PrometheusRule")
    if not rules:
        pytest.skip("no PrometheusRule rendered yet")
    for name, rule in rules.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(rule["spec"], sort_keys=False))
        result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True,
                                timeout=60, check=False)
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
