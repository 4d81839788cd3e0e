"""End to end: dashboards, alert rules and `devops verify` against a real Prometheus watching the shop.

A real Prometheus 2.42 (Debian package) scrapes the real product, cart and order containers
(built from their Dockerfiles, tests/services/conftest.py) while a background thread browses,
fills carts and places orders, a real Pushgateway holding the cost schedule's metrics and a
real blackbox exporter probing an HTTPS server with a self-signed certificate.
kube-state-metrics and the kubelet's cAdvisor need a Kubernetes cluster, which cannot run here:
their metrics are RECORDED exposition text shaped exactly like kube-state-metrics v2 and
cAdvisor output (tests/observability/e2e/recorded/: the shop's pods on two nodes of node group
`general`), served by a small local HTTP server. See conftest.py.

Then:
- every Prometheus query of every dashboard (gitops/platform/observability/dashboards/) runs
  through the HTTP API and must return at least one series: a dashboard that silently shows
  "No data" is the common failure. Loki queries cannot run (there is no Loki here): skipped,
  and counted in the test's output;
- every alert and recording rule (gitops/platform/observability/rules/) executes, every metric
  it selects has data, and every recording rule produces series;
- a control shows the check catches a query on a metric no service exports;
- `devops verify --env dev` (a subprocess, the real entry point) passes on the healthy shop,
  fails naming the availability objective while the database is stopped (the APIs answer
  503), fails naming cart when its container is stopped, and exits 3 when Prometheus does not
  answer. These run last, in this order: they break the shop on purpose.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.observability.e2e.conftest import DASHBOARDS_DIR, REPO, Observed, rules_in
from tests.observability.e2e.promql import Selector, dashboard_queries, selectors, variable_expression
from tests.services import dockerkit as dk
from tests.support.project import make_project
from tests.support.stack import free_port

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# Matchers that name WHICH target or workload a selector means; the others (status, reason,
# le, ...) select states a healthy shop may not be in (no 5xx, no CrashLoopBackOff).
IDENTITY = {"job", "namespace", "service", "container", "deployment", "endpoint", "slo"}
DASHBOARDS = sorted(DASHBOARDS_DIR.glob("*.json"))


# --- checks (return problems, so the control test can watch them catch one) --------------------


def selector_problems(observed: Observed, selector: Selector) -> list[str]:
    """Nothing when the selector, or at least its identity matchers, select data."""
    full = selector.text()
    result, error = observed.query(f"count({full})")
    if error:
        return [f"{full}: {error}"]
    if result:
        return []
    identity = selector.text(keep=IDENTITY)
    if identity != full:
        result, _ = observed.query(f"count({identity})")
        if result:
            return []  # e.g. status=~"5..": the metric is there, this healthy shop has no errors
    if selector.metric:
        alone, _ = observed.query(f"count({{__name__={json.dumps(selector.metric)}}})")
        if not alone:
            return [f"metric {selector.metric} has no series at all: nothing scraped here exports it"]
    return [f"{identity} selects no series (labels of {selector.metric or 'the selector'} do not match)"]


def expression_problems(observed: Observed, expr: str, *, need_result: bool) -> list[str]:
    """The expression parses and executes; each of its selectors has data; a result if needed."""
    formatted, error = observed.format(expr)
    if formatted is None:
        return [f"does not parse: {error}"]
    result, error = observed.query(expr)
    if result is None:
        return [f"fails: {error}"]
    problems: list[str] = []
    for selector in selectors(formatted):
        problems.extend(selector_problems(observed, selector))
    if need_result and not result:
        problems.append("returns no series" + (f" ({'; '.join(problems)})" if problems else ""))
        return problems[-1:]
    return problems


def dashboard_problems(observed: Observed, path: Path) -> tuple[list[str], int, int]:
    """(problems, Prometheus queries run, Loki queries skipped) for one dashboard file."""
    queries = dashboard_queries(path)
    problems = list(queries.problems)
    for query in queries.prometheus:
        expr = query.expr
        if query.kind == "variable":
            expr = variable_expression(query.expr) or ""
            if not expr:
                continue
        # Annotations mark events (a restart, a deployment): none in the window is normal.
        found = expression_problems(observed, expr, need_result=query.kind != "annotation")
        problems.extend(f"{query.describe()}\n    -> {p}" for p in found)
    return problems, len(queries.prometheus), len(queries.loki)


def rule_problems(observed: Observed, rule: dict[str, Any]) -> list[str]:
    name = rule.get("alert") or rule.get("record")
    where = f"{rule['file']} group {rule['group']} {'alert' if 'alert' in rule else 'record'} {name}"
    found = expression_problems(observed, str(rule["expr"]), need_result="record" in rule)
    return [f"{where}: {p}\n    expr: {' '.join(str(rule['expr']).split())}" for p in found]


# --- tests ---------------------------------------------------------------------------------------


def test_rule_files_load(observed: Observed) -> None:
    assert not observed.rule_problems, "\n".join(observed.rule_problems)
    assert observed.rule_files, "no rule files in gitops/platform/observability/rules/"
    groups = observed.api("/api/v1/rules")["groups"]
    expected = {(g["name"], g["file"]) for g in (
        {"name": r["group"], "file": r["file"]} for r in rules_in(observed.rule_files))}
    loaded = {(g["name"], Path(g["file"]).name) for g in groups}
    assert expected <= loaded, f"Prometheus did not load {sorted(expected - loaded)}"


def test_recording_rules_produce_series(observed: Observed) -> None:
    """Every recording rule's output, with its own labels, exists once evaluated (bounded wait)."""
    records = [r for r in rules_in(observed.rule_files) if "record" in r]
    if not records:
        pytest.skip("the rule files have no recording rules")
    missing: list[str] = []
    deadline = time.monotonic() + 30
    for rule in records:
        labels = ",".join(f"{k}={json.dumps(str(v))}" for k, v in (rule.get("labels") or {}).items())
        selector = f"{rule['record']}{{{labels}}}"
        while True:
            result, error = observed.query(f"count({selector})")
            if result or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not result:
            missing.append(f"{rule['file']} {selector}: no series ({error or 'empty'})\n    expr: {rule['expr']}")
    assert not missing, f"{len(missing)} of {len(records)} recording rules produce nothing:\n" + "\n".join(missing)


def test_alert_and_recording_rule_expressions(observed: Observed) -> None:
    rules = rules_in(observed.rule_files)
    assert rules, "no rules loaded"
    problems = [p for rule in rules for p in rule_problems(observed, rule)]
    assert not problems, f"{len(problems)} problems in {len(rules)} rules:\n" + "\n".join(problems)
    unhealthy = [f"{r['name']}: {r.get('lastError')}" for g in observed.api("/api/v1/rules")["groups"]
                 for r in g["rules"] if r.get("health") == "err"]
    assert not unhealthy, "rules failing in Prometheus:\n" + "\n".join(unhealthy)


def test_healthy_shop_raises_no_alert(observed: Observed) -> None:
    """No alert is pending or firing while the shop is healthy (a rule that always fires pages
    people for nothing). Latency burn alerts are left out: in a Prometheus only a minute old, a
    few cold-start requests are a large share of the budget of a 3-day window."""
    result, error = observed.query('ALERTS{alertname!="ApiLatencyBudgetBurn"}')
    assert result is not None, error
    assert not result, "alerts on a healthy shop:\n" + "\n".join(json.dumps(r["metric"]) for r in result)


@pytest.mark.parametrize("path", DASHBOARDS or [None], ids=[p.stem for p in DASHBOARDS] or ["none"])
def test_dashboard_queries_return_data(observed: Observed, path: Path | None) -> None:
    assert path is not None, f"no dashboards in {DASHBOARDS_DIR.relative_to(REPO)}"
    problems, ran, skipped_loki = dashboard_problems(observed, path)
    assert ran, f"{path.name}: no Prometheus query found"
    if skipped_loki:
        # No Loki runs here: its LogQL targets cannot be executed, only counted.
        print(f"{path.name}: {skipped_loki} Loki queries not run (no Loki here)")
    assert not problems, f"{path.name}: {len(problems)} of {ran} queries fail:\n" + "\n".join(problems)


def test_loki_queries_are_not_run_here() -> None:
    """Loki has no Debian package and no stand-in here: its LogQL panels cannot be executed."""
    loki = [q for path in DASHBOARDS for q in dashboard_queries(path).loki]
    if not loki:
        return
    pytest.skip(f"{len(loki)} Loki queries of the dashboards not run (no Loki here): "
                + ", ".join(sorted({f"{q.dashboard} {q.where!r}" for q in loki})))


def test_control_a_metric_no_service_exports_is_caught(observed: Observed, tmp_path: Path) -> None:
    """The checks above are not vacuous: a panel and an alert on invented metrics fail them."""
    dashboard = {
        "uid": "control", "title": "control", "tags": ["techitfactory"],
        "templating": {"list": [{"name": "job", "type": "custom", "current": {"value": "order"}}]},
        "panels": [
            {"title": "Checkouts abandoned", "type": "timeseries",
             "datasource": {"type": "prometheus", "uid": "prometheus"},
             "targets": [{"refId": "A", "expr": 'sum(rate(shop_checkout_abandoned_total{job="$job"}[$__rate_interval]))'}]},
            {"title": "Orders", "type": "stat", "datasource": {"type": "prometheus", "uid": "prometheus"},
             "targets": [{"refId": "A", "expr": 'sum(rate(http_requests_total{job="$job"}[$__rate_interval]))'}]},
            {"title": "Wrong job", "type": "stat", "datasource": {"type": "prometheus", "uid": "prometheus"},
             "targets": [{"refId": "A", "expr": 'sum(rate(http_requests_total{job="orders"}[5m]))'}]},
            {"title": "Logs", "type": "logs", "datasource": {"type": "loki", "uid": "loki"},
             "targets": [{"refId": "A", "expr": '{namespace="shop"} | json'}]},
        ],
    }
    path = tmp_path / "control.json"
    path.write_text(json.dumps(dashboard))
    problems, ran, loki = dashboard_problems(observed, path)
    assert (ran, loki) == (3, 1)
    assert len(problems) == 2, problems
    assert "control.json: panel 'Checkouts abandoned' [A]" in problems[0]
    assert 'shop_checkout_abandoned_total{job="order"}' in problems[0]  # variables substituted
    assert "returns no series" in problems[0] and "shop_checkout_abandoned_total has no series" in problems[0]
    assert "panel 'Wrong job'" in problems[1] and 'http_requests_total{job="orders"} selects no series' in problems[1]

    rule = {"alert": "Invented", "expr": 'rate(shop_payment_failures_total{job="order"}[5m]) > 0 and on() up{job="order"}',
            "file": "control.yaml", "group": "control"}
    found = rule_problems(observed, rule)
    assert len(found) == 1 and "metric shop_payment_failures_total has no series" in found[0], found
    broken = {**rule, "expr": "rate(http_requests_total[5m]"}
    assert "does not parse" in rule_problems(observed, broken)[0]


# --- devops verify (these break the shop on purpose: keep them last) ------------------------------


@pytest.fixture(scope="module")
def verify_project(observed: Observed, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project whose dev environment is verified against this Prometheus and the real APIs."""
    root = make_project(tmp_path_factory.mktemp("verify") / "shop", services=("product", "cart", "order"))
    urls = observed.stack.urls
    # Loose latency objectives (2.5 s for 90 %): on a busy 2-core machine a few cold or queued
    # requests take over a second, and the healthy case must not fail for that. The outage cases
    # are judged on availability and health, which a loaded machine does not fake.
    (root / "pipelines" / "devops.yaml").write_text(
        (root / "pipelines" / "devops.yaml").read_text().split("environments:")[0] + textwrap.dedent(f"""\
        environments:
          dev:
            url: {observed.probe_url}
            cluster: {{name: test-dev}}
            gitops: {{path: gitops/environments/dev}}
            verify:
              prometheus: {{url: "{observed.prometheus}", timeout_seconds: 10}}
              window: 1m
              min_requests: 5
              health_urls: {{product: "{urls['product']}", cart: "{urls['cart']}", order: "{urls['order']}"}}
              settle_seconds: 0
              health_timeout_seconds: 2
        observability:
          slos:
            product: {{availability: 99.5, latency: {{threshold_seconds: 2.5, objective: 90}}}}
            cart: {{availability: 99.5, latency: {{threshold_seconds: 2.5, objective: 90}}}}
            order: {{availability: 99.5, latency: {{threshold_seconds: 2.5, objective: 90}}}}
        """))
    return root


def run_verify(project: Path, *args: str) -> tuple[int, dict[str, Any] | None, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "DEVOPS_"))}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    done = subprocess.run([sys.executable, "-m", "devops", "verify", "--env", "dev", "--no-record", *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)
    try:
        document = json.loads(done.stdout) if "--json" in args else None
    except json.JSONDecodeError:
        document = None
    return done.returncode, document, done.stderr


def checks(document: dict[str, Any], service: str) -> dict[str, dict[str, Any]]:
    found = next(s for s in document["services"] if s["service"] == service)
    return {c["name"]: c for c in found["checks"]}


def test_verify_healthy_shop_passes(observed: Observed, verify_project: Path) -> None:
    # The traffic started with the fixture: on a loaded machine the 1m window may not hold
    # min_requests (5) of every API yet. Wait for the sample size; the verdict is still verify's.
    observed.wait_for(
        'sum by (job) (increase(http_requests_total{job=~"product|cart|order",route=~"/api/.*"}[1m])) >= 6',
        timeout=90, until=lambda result: len(result) == 3, what="6 API requests of each API in the 1m window")
    code, document, err = run_verify(verify_project, "--json")
    assert document is not None, err
    assert code == 0, f"{err}\n{json.dumps(document, indent=1)}"
    assert document["environment"] == "dev" and document["verdict"] == "PASSED"
    assert [s["service"] for s in document["services"]] == ["product", "cart", "order"]
    for service in ("product", "cart", "order"):
        found = checks(document, service)
        assert set(found) == {"health", "ready", "up", "traffic", "availability", "latency"}, found
        assert all(c["verdict"] == "PASSED" for c in found.values()), found
        assert found["traffic"]["value"] >= 5
        assert found["availability"]["value"] == 0  # a healthy shop answers no 5xx


def test_verify_prometheus_unreachable_exits_3(verify_project: Path) -> None:
    port = free_port()  # nothing listens there
    code, _, err = run_verify(verify_project, "--prometheus-url", f"http://127.0.0.1:{port}")
    assert code == 3, err
    assert f"127.0.0.1:{port}" in err


def test_verify_database_down_fails_availability(observed: Observed, verify_project: Path) -> None:
    mongo = observed.stack.names["mongo"]
    dk.docker("stop", "-t", "2", mongo)
    try:
        # The APIs answer 503 now; wait until Prometheus has seen enough of it in the window.
        observed.wait_for(
            'sum by (job) (rate(http_requests_total{job=~"product|cart|order",route=~"/api/.*",status=~"5.."}[1m]))'
            ' / sum by (job) (rate(http_requests_total{job=~"product|cart|order",route=~"/api/.*"}[1m])) > 0.02',
            timeout=60, until=lambda result: len(result) == 3, what="5xx answers of all three APIs")
        code, document, err = run_verify(verify_project, "--json")
        assert document is not None, err
        assert code == 1, f"{err}\n{json.dumps(document, indent=1)}"
        assert document["verdict"] == "FAILED"
        for service in ("product", "cart", "order"):
            found = checks(document, service)
            assert found["availability"]["verdict"] == "FAILED", found["availability"]
            assert found["availability"]["value"] > found["availability"]["threshold"]
            assert found["ready"]["verdict"] == "FAILED" and "503" in found["ready"]["detail"], found["ready"]
            assert found["health"]["verdict"] == "PASSED"  # liveness has no dependencies
        line = err.strip().splitlines()[-1]
        assert "dev is not healthy" in line and "product: " in line and "availability" in line, err
        # The generated burn-rate alerts see the same outage (pending: their `for` has not passed).
        observed.wait_for('count by (service) (ALERTS{alertname="ApiAvailabilityBudgetBurn"})', timeout=30,
                          until=lambda result: len(result) == 3, what="ApiAvailabilityBudgetBurn of every API")
    finally:
        dk.docker("start", mongo)
        for service in ("product", "cart", "order"):
            dk.wait_http(f"{observed.stack.url(service)}/ready", 200, timeout=60)


def test_verify_cart_stopped_fails_naming_cart(observed: Observed, verify_project: Path) -> None:
    dk.docker("stop", "-t", "2", observed.stack.names["cart"])
    observed.wait_for('up{job="cart"} == 0', timeout=30, what="cart's target down")
    code, document, err = run_verify(verify_project, "--json")
    assert document is not None, err
    assert code == 1, f"{err}\n{json.dumps(document, indent=1)}"
    found = checks(document, "cart")
    assert document["verdict"] == "FAILED"
    for name in ("up", "health", "ready"):
        assert found[name]["verdict"] == "FAILED", found[name]
    assert "0 of 1 targets up" in found["up"]["detail"]
    line = err.strip().splitlines()[-1]
    assert line.startswith("devops: error: dev is not healthy: "), err
    clause = next(part for part in line.split(" | ") if part.split("healthy: ")[-1].startswith("cart: "))
    for name in ("health", "ready", "up 0 of 1 targets up"):
        assert name in clause, clause
    # And an alert about cart's target is raised (pending until its `for` has passed).
    observed.wait_for('ALERTS{job="cart",severity=~"critical|warning"}', timeout=20, what="an alert naming job cart")
