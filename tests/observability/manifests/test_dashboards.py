"""Every dashboard of gitops/platform/observability/dashboards: valid JSON with a stable unique
uid, data sources that Grafana provisions, every Prometheus query parsed by the real promtool,
and every metric one the contract lists (catalogue.METRICS) or a recording rule of rules/*.yaml.
A dashboard querying a metric nobody exports is the classic empty panel: it fails here."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from tests.gitops_manifests.manifests import load_values
from tests.observability.manifests.catalogue import (
    DASHBOARDS,
    GRAFANA_VALUES,
    METRICS,
    REPO_ROOT,
    Query,
    dashboard_variables,
    load_dashboard,
    metric_names,
    panels,
    queries,
    recording_rules,
    substitute,
    unknown_metrics,
)

EXPECTED = {
    "shop-product.json", "shop-cart.json", "shop-order.json", "shop-frontend.json",
    "shop-overview.json", "cost-nodegroups.json",
}
FILES = sorted(DASHBOARDS.glob("*.json"))
SERVICE_METRIC_SOURCE = METRICS["http_requests_total"]


def _prometheus_queries(files: Sequence[Path] = FILES) -> list[tuple[Query, str]]:
    """(query, expression with variables substituted) of every Prometheus target."""
    found: list[tuple[Query, str]] = []
    for path in files:
        dashboard = load_dashboard(path)
        variables = dashboard_variables(dashboard)
        for query in queries(path, dashboard):
            if query.datasource_type == "prometheus":
                expr, unknown = substitute(query.expr, variables)
                assert unknown == [], f"{query.where}: undefined variables {unknown}"
                found.append((query, expr))
    return found


def promtool_check(promtool: str, exprs: Sequence[tuple[str, str]], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check rules` on the expressions written as recording rules (name, expr)."""
    rules = {"groups": [{"name": "dashboards", "rules": [{"record": n, "expr": e} for n, e in exprs]}]}
    path = tmp_path / "dashboard-queries.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False, width=1_000_000))
    return subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)


def _record_name(query: Query) -> str:
    return re.sub(r"[^a-zA-Z0-9_:]", "_", f"dashboard:{query.uid}:panel{query.panel_id}_{query.ref_id}")


def test_the_contract_dashboards_are_there() -> None:
    assert {p.name for p in FILES} >= EXPECTED


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_dashboard_shape(path: Path) -> None:
    dashboard = load_dashboard(path)
    assert re.fullmatch(r"[a-z0-9-]{1,40}", dashboard["uid"]), "a stable, short uid (Grafana allows 40)"
    assert dashboard["uid"] == path.stem, "uid = file name: links stay stable and greppable"
    assert "id" not in dashboard, "no numeric id: Grafana assigns it; a copied one clashes"
    assert "techitfactory" in dashboard["tags"]
    assert dashboard["title"] and dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids are unique (Grafana keys panel links on them)"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel.get("targets"), f"panel {panel['id']} ({panel['title']}) has no query"
        assert panel.get("datasource", {}).get("uid"), f"panel {panel['id']}: no explicit data source"
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, f"panel {panel['id']} is wider than the grid"


def test_uids_are_unique() -> None:
    uids = [load_dashboard(p)["uid"] for p in FILES]
    assert len(uids) == len(set(uids)), uids


def test_data_sources_are_the_provisioned_ones() -> None:
    provisioned = {
        d["uid"]: d["type"] for d in load_values(GRAFANA_VALUES)["datasources"]["datasources.yaml"]["datasources"]
    }
    assert provisioned.get("prometheus") == "prometheus" and provisioned.get("loki") == "loki"
    for path in FILES:
        for query in queries(path):
            assert provisioned.get(query.datasource_uid) == query.datasource_type, (
                f"{query.where}: data source {query.datasource_type}/{query.datasource_uid} is not provisioned in "
                "gitops/platform/grafana/values.yaml"
            )


def test_every_prometheus_query_parses_with_promtool(promtool: str, tmp_path: Path) -> None:
    found = _prometheus_queries()
    assert len(found) > 50
    result = promtool_check(promtool, [(_record_name(q), e) for q, e in found], tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(found)} rules found" in result.stdout


def test_promtool_rejects_a_broken_query(promtool: str, tmp_path: Path) -> None:
    """Control: the parse check can fail, and names the query."""
    result = promtool_check(promtool, [("dashboard:broken", 'sum(rate(http_requests_total{job="cart"}[5m])')],
                            tmp_path)
    assert result.returncode == 1
    assert '"dashboard:broken": could not parse expression' in result.stderr
    assert "unclosed left parenthesis" in result.stderr


def test_every_metric_is_in_the_contract_or_a_recording_rule() -> None:
    recorded = recording_rules()
    problems = [
        f"{q.where}: unknown metric(s) {sorted(unknown_metrics(e, recorded))}"
        for q, e in _prometheus_queries() if unknown_metrics(e, recorded)
    ]
    assert problems == []
    # Every query selects something (no constant-only panels that always "have data").
    assert [q.where for q, e in _prometheus_queries() if not metric_names(e)] == []


def test_a_dashboard_with_an_unknown_metric_fails_the_check(tmp_path: Path) -> None:
    """Control: a panel on a metric no service exports is caught and named."""
    dashboard = load_dashboard(DASHBOARDS / "shop-overview.json")
    panel = next(p for p in panels(dashboard) if p["type"] != "row")
    panel["targets"][0]["expr"] = 'sum(rate(shop_orders_created_total{job="order"}[$__rate_interval])) * 60'
    bad = tmp_path / "shop-overview.json"
    bad.write_text(json.dumps(dashboard))
    recorded = recording_rules()
    problems = {q.where: unknown_metrics(e, recorded) for q, e in _prometheus_queries([bad])}
    assert {where: names for where, names in problems.items() if names} == {
        f"shop-overview.json panel {panel['id']} ({panel['title']!r}) query A": {"shop_orders_created_total"}
    }


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ('sum by (route) (rate(http_requests_total{job="cart",route=~"/api/.*"}[5m]))', {"http_requests_total"}),
        ('histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="x"}[1m])))',
         {"http_request_duration_seconds_bucket"}),
        ('count by (n) (label_replace(kube_node_labels{a!=""}, "n", "$1", "a", "(.+)")) or vector(0)',
         {"kube_node_labels"}),
        ("time() - max(process_start_time_seconds) offset 5m", {"process_start_time_seconds"}),
        ("a:b:c / on (job) group_left (x) up > bool 1e3", {"a:b:c", "up"}),
        ("max_over_time(rate(foo_total[5m])[1h:1m])", {"foo_total"}),
    ],
)
def test_metric_names_are_extracted(expr: str, expected: set[str]) -> None:
    assert metric_names(expr) == expected


def test_variables_are_substituted_and_undefined_ones_reported() -> None:
    expr, unknown = substitute('rate(x{job="$service", r="$1"}[$__rate_interval]) * ${factor}', {"service": "cart"})
    assert expr == 'rate(x{job="cart", r="$1"}[2m]) * ${factor}'
    assert unknown == ["factor"]


def test_a_variable_with_a_current_value_is_used() -> None:
    dashboard = {"templating": {"list": [{"name": "route", "current": {"value": ["/api/cart", "/api/cart/:itemId"]}},
                                         {"name": "empty", "current": {}}]}}
    assert dashboard_variables(dashboard) == {"route": "/api/cart|/api/cart/:itemId"}


def test_services_are_selected_by_job_never_by_exported_service() -> None:
    """The contract: Node services' own `service` label becomes exported_service; select by job."""
    for query, expr in _prometheus_queries():
        assert "exported_service" not in expr, query.where
        service_metrics = {m for m in metric_names(expr) if METRICS.get(m) == SERVICE_METRIC_SOURCE}
        if service_metrics:
            assert re.search(r"\bjob=~?\"", expr), f"{query.where}: {sorted(service_metrics)} without a job matcher"


def test_loki_panels_select_labels_alloy_sets() -> None:
    """Log panels select streams by labels the Alloy pipeline really attaches (its relabel rules
    and stage.labels), filtered by app."""
    alloy = load_values(REPO_ROOT / "gitops" / "platform" / "alloy" / "values.yaml")["alloy"]["configMap"]["content"]
    labels = set(re.findall(r'target_label\s*=\s*"(\w+)"', alloy))
    labels |= set(re.findall(r"stage\.labels\s*\{\s*values\s*=\s*\{\s*(\w+)", alloy))
    assert {"namespace", "app"} <= labels
    loki = [q for path in FILES for q in queries(path) if q.datasource_type == "loki"]
    assert {q.file for q in loki} >= {"shop-product.json", "shop-cart.json", "shop-order.json"}
    for query in loki:
        match = re.fullmatch(r"\{([^}]*)\}.*", query.expr.strip())
        assert match, f"{query.where}: not a LogQL stream selector"
        used = {m.group(1) for m in re.finditer(r"(\w+)\s*(?:=~|!=|!~|=)", match.group(1))}
        assert used <= labels, f"{query.where}: labels {sorted(used - labels)} are not set by Alloy"
        assert "app" in used, f"{query.where}: filter by app"


def test_service_dashboards_cover_red_saturation_and_restarts() -> None:
    """What issue 9 asks of each service dashboard, by the metrics its panels use."""
    want = {
        "http_requests_total", "http_request_duration_seconds_bucket", "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes", "kube_pod_container_resource_limits",
        "kube_pod_container_status_restarts_total",
    }
    for service, node in (("product", True), ("cart", True), ("order", False)):
        path = DASHBOARDS / f"shop-{service}.json"
        exprs = [e for q, e in _prometheus_queries([path])]
        used = set().union(*(metric_names(e) for e in exprs))
        assert want <= used, (service, sorted(want - used))
        assert ("nodejs_eventloop_lag_seconds" in used) == node, service
        assert all(f'job="{service}"' in e or f'container="{service}"' in e or f'deployment="{service}"' in e
                   for e in exprs), f"{service}: a query not about {service}"
        # p50/p95/p99 by route.
        quantiles = {m for e in exprs for m in re.findall(r"histogram_quantile\((0\.\d+), sum by \(le, route\)", e)}
        assert quantiles == {"0.5", "0.95", "0.99"}, service


def test_overview_and_cost_dashboards_answer_the_issue() -> None:
    overview = " ".join(e for _, e in _prometheus_queries([DASHBOARDS / "shop-overview.json"]))
    assert 'job="order",method="POST",route="/api/orders",status=~"2.."' in overview
    assert 'job="cart",method="POST",route="/api/cart",status=~"2.."' in overview
    assert 'status=~"5.."' in overview and 'status=~"4.."' in overview
    cost = " ".join(e for _, e in _prometheus_queries([DASHBOARDS / "cost-nodegroups.json"]))
    for metric in ("kube_node_labels", "devops_cost_nodegroup_desired_up", "devops_cost_nodegroup_desired_nodes",
                   "devops_cost_schedule_last_run_timestamp_seconds"):
        assert metric in cost
    assert "label_eks_amazonaws_com_nodegroup" in cost


