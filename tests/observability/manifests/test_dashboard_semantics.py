"""The dashboard queries that carry the issue's questions, evaluated by the real promtool on
synthetic series (`promtool test rules`, promql_expr_test): they must answer with the right
number, and a healthy state must read 0, not "No data"."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.observability.manifests.catalogue import DASHBOARDS, load_dashboard, panels, substitute


def expr_of(file: str, title: str, ref_id: str = "A") -> str:
    """A panel's query from the committed dashboard, with Grafana's variables substituted."""
    dashboard = load_dashboard(DASHBOARDS / file)
    [panel] = [p for p in panels(dashboard) if p.get("title") == title]
    [target] = [t for t in panel["targets"] if t["refId"] == ref_id]
    expr, unknown = substitute(target["expr"], {})
    assert unknown == []
    return expr


def run_promtool(promtool: str, tmp_path: Path, series: list[dict[str, str]],
                 checks: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    test = {
        "rule_files": [],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": series, "promql_expr_test": checks}],
    }
    path = tmp_path / "dashboard_test.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=1_000_000))
    return subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True, timeout=60,
                          check=False)


NODES = [
    {"series": 'kube_node_labels{job="kube-state-metrics",node="n1",label_eks_amazonaws_com_nodegroup="general"}',
     "values": "1x30"},
    {"series": 'kube_node_labels{job="kube-state-metrics",node="n2",label_eks_amazonaws_com_nodegroup="general"}',
     "values": "1x30"},
    # The schedule wants 3 general nodes (only 2 came back) and 2 spot nodes (none came back).
    {"series": 'devops_cost_nodegroup_desired_nodes{job="devops-cost",target="dev",cluster="shop-dev",'
               'nodegroup="general"}', "values": "3x30"},
    {"series": 'devops_cost_nodegroup_desired_nodes{job="devops-cost",target="dev",cluster="shop-dev",'
               'nodegroup="spot"}', "values": "2x30"},
]


def test_missing_nodes_shows_a_node_group_that_did_not_come_back(promtool: str, tmp_path: Path) -> None:
    """The cost view's point: a node group still at zero nodes must show, not vanish."""
    expr = expr_of("cost-nodegroups.json", "Missing nodes (desired - actual)")
    result = run_promtool(promtool, tmp_path, NODES, [{
        "expr": expr, "eval_time": "10m",
        "exp_samples": [{"labels": '{nodegroup="general"}', "value": 1}, {"labels": '{nodegroup="spot"}', "value": 2}],
    }])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_semantic_check_fails_on_a_wrong_answer(promtool: str, tmp_path: Path) -> None:
    """Control: promtool compares values; claiming spot is fine fails."""
    expr = expr_of("cost-nodegroups.json", "Missing nodes (desired - actual)")
    result = run_promtool(promtool, tmp_path, NODES, [{
        "expr": expr, "eval_time": "10m", "exp_samples": [{"labels": '{nodegroup="general"}', "value": 1}],
    }])
    assert result.returncode == 1
    assert 'nodegroup="spot"' in result.stdout + result.stderr


def test_nodes_per_node_group(promtool: str, tmp_path: Path) -> None:
    expr = expr_of("cost-nodegroups.json", "Nodes per node group")
    result = run_promtool(promtool, tmp_path, NODES, [{
        "expr": expr, "eval_time": "10m",
        "exp_samples": [{"labels": '{label_eks_amazonaws_com_nodegroup="general"}', "value": 2}],
    }])
    assert result.returncode == 0, result.stdout + result.stderr


def _counter(job: str, method: str, route: str, status: str, per_minute: int) -> dict[str, str]:
    return {"series": f'http_requests_total{{job="{job}",method="{method}",route="{route}",status="{status}"}}',
            "values": f"0+{per_minute}x120"}


SHOP = [
    _counter("cart", "POST", "/api/cart", "201", 8),
    _counter("cart", "GET", "/api/cart", "200", 20),
    _counter("cart", "DELETE", "/api/cart/:itemId", "500", 1),
    _counter("cart", "DELETE", "/api/cart/:itemId", "200", 1),
    _counter("order", "POST", "/api/orders", "201", 2),
    _counter("order", "POST", "/api/orders", "400", 1),
]


@pytest.mark.parametrize(
    ("file", "title", "samples"),
    [
        # 2 orders created per minute.
        ("shop-overview.json", "Orders / min", [("{}", 2)]),
        # 2 orders / 8 items added to carts.
        ("shop-overview.json", "Cart-to-order conversion", [("{}", 0.25)]),
        # Healthy checkout: 0, not "No data".
        ("shop-overview.json", "Checkout 5xx / min", [("{}", 0)]),
        ("shop-overview.json", "Checkout 4xx / min", [("{}", 1)]),
        # Per route: 0 where there was traffic without 5xx, the ratio where there were some.
        ("shop-cart.json", "5xx ratio by route", [('{route="/api/cart"}', 0), ('{route="/api/cart/:itemId"}', 0.5)]),
    ],
    ids=["orders-per-minute", "conversion", "checkout-5xx", "checkout-4xx", "5xx-ratio-by-route"],
)
def test_business_and_error_queries_answer(promtool: str, tmp_path: Path, file: str, title: str,
                                           samples: list[tuple[str, float]]) -> None:
    expr = expr_of(file, title)
    result = run_promtool(promtool, tmp_path, SHOP, [{
        "expr": expr, "eval_time": "60m", "exp_samples": [{"labels": lab, "value": v} for lab, v in samples],
    }])
    assert result.returncode == 0, result.stdout + result.stderr
