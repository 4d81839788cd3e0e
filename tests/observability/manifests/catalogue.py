"""What the dashboards of gitops/platform/observability/dashboards may query, and the helpers
that read their queries.

`METRICS` is the catalogue of the issue 9 contract (/work/issue9-contract.md, "Metrics that
exist"): every metric a dashboard uses must be one of these or a recording rule defined in
gitops/platform/observability/rules/*.yaml. Each entry says where the metric comes from, so a
test against a real Prometheus (tests/observability/e2e) can tell which ones a local stack
cannot have (kube-state-metrics, the kubelet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
CHART = REPO_ROOT / "gitops" / "platform" / "observability"
DASHBOARDS = CHART / "dashboards"
RULES = CHART / "rules"
GRAFANA_VALUES = REPO_ROOT / "gitops" / "platform" / "grafana" / "values.yaml"

SERVICE = "service /metrics (product, cart: prom-client; order: prometheus_client), selected by job"
NODE = "service /metrics, Node services only (prom-client default metrics: product, cart)"
KSM = "kube-state-metrics (kube-prometheus-stack), job kube-state-metrics"
KUBELET = "cAdvisor through the kubelet (kube-prometheus-stack), job kubelet"
BLACKBOX = "blackbox exporter probes (platform app blackbox-exporter), job blackbox, instance = URL"
PUSHGATEWAY = "devops cost schedule -> Pushgateway (platform app pushgateway), honorLabels, job devops-cost"
PROMETHEUS = "Prometheus itself: the scrape health of every target"

METRICS: dict[str, str] = {
    "http_requests_total": SERVICE,
    "http_request_duration_seconds_bucket": SERVICE,
    "http_request_duration_seconds_sum": SERVICE,
    "http_request_duration_seconds_count": SERVICE,
    "process_cpu_seconds_total": SERVICE,
    "process_resident_memory_bytes": SERVICE,
    "process_open_fds": SERVICE,
    "process_start_time_seconds": SERVICE,
    "nodejs_eventloop_lag_seconds": NODE,
    "nodejs_heap_size_used_bytes": NODE,
    "kube_pod_container_status_restarts_total": KSM,
    "kube_pod_container_status_waiting_reason": KSM,
    "kube_pod_container_resource_limits": KSM,
    "kube_deployment_status_replicas_available": KSM,
    "kube_pod_container_info": KSM,
    "kube_node_info": KSM,
    "kube_node_labels": KSM,
    "container_cpu_usage_seconds_total": KUBELET,
    "container_memory_working_set_bytes": KUBELET,
    "probe_success": BLACKBOX,
    "probe_duration_seconds": BLACKBOX,
    "probe_http_status_code": BLACKBOX,
    "probe_ssl_earliest_cert_expiry": BLACKBOX,
    "devops_cost_nodegroup_desired_up": PUSHGATEWAY,
    "devops_cost_nodegroup_desired_nodes": PUSHGATEWAY,
    "devops_cost_schedule_last_run_timestamp_seconds": PUSHGATEWAY,
    "up": PROMETHEUS,
}

# Grafana's built-in variables the contract allows in expressions, with the value a test uses.
BUILTIN_VARIABLES = {"__rate_interval": "2m", "__interval": "1m", "__range": "1h"}

_KEYWORDS = {
    "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
    "group_left", "group_right", "inf", "nan",
}
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
_IDENT = re.compile(r"(?<![\w.:$])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])")
_VARIABLE = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)\]\]")


@dataclass(frozen=True)
class Query:
    """One query of one panel of one dashboard."""

    file: str
    uid: str
    panel_id: int
    panel_title: str
    ref_id: str
    datasource_type: str
    datasource_uid: str
    expr: str

    @property
    def where(self) -> str:
        return f"{self.file} panel {self.panel_id} ({self.panel_title!r}) query {self.ref_id}"


def load_dashboard(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def panels(dashboard: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every panel, including the ones inside (collapsed) rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def queries(path: Path, dashboard: Mapping[str, Any] | None = None) -> list[Query]:
    """Every query target of a dashboard file, with its effective data source."""
    dashboard = dashboard if dashboard is not None else load_dashboard(path)
    found: list[Query] = []
    for panel in panels(dashboard):
        if panel.get("type") == "row":
            continue
        panel_ds = panel.get("datasource") or {}
        for target in panel.get("targets", []):
            ds = target.get("datasource") or panel_ds
            found.append(Query(
                file=path.name, uid=str(dashboard.get("uid")), panel_id=int(panel.get("id", 0)),
                panel_title=str(panel.get("title", "")), ref_id=str(target.get("refId", "")),
                datasource_type=str(ds.get("type", "")), datasource_uid=str(ds.get("uid", "")),
                expr=str(target.get("expr", "")),
            ))
    return found


def dashboard_variables(dashboard: Mapping[str, Any]) -> dict[str, str]:
    """The dashboard's own variables that carry a current value (what a test substitutes)."""
    found: dict[str, str] = {}
    for var in (dashboard.get("templating") or {}).get("list", []):
        current = (var.get("current") or {}).get("value")
        if isinstance(current, list):
            current = "|".join(str(v) for v in current)
        if current is not None and current != "":
            found[str(var["name"])] = str(current)
    return found


def substitute(expr: str, variables: Mapping[str, str]) -> tuple[str, list[str]]:
    """`expr` with Grafana's built-ins and the dashboard's variables replaced, and the names of
    variables nobody defines. `$1` (digits only) is a regex back-reference of label_replace, not
    a variable, and stays."""
    values = {**BUILTIN_VARIABLES, **variables}
    unknown: list[str] = []

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name.isdigit():
            return match.group(0)
        if name in values:
            return values[name]
        unknown.append(name)
        return match.group(0)

    return _VARIABLE.sub(repl, expr), unknown


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, label names and
    durations excluded). promtool has already said the expression parses."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    # Ranges may nest (subqueries): strip until nothing changes.
    while True:
        stripped = _RANGES.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    text = _GROUPING.sub(" ", text)
    names: set[str] = set()
    for match in _IDENT.finditer(text):
        name = match.group(1)
        if text[match.end():].lstrip().startswith("("):
            continue  # a function or an aggregation
        if name.lower() in _KEYWORDS:
            continue
        names.add(name)
    return names


def selected_labels(expr: str) -> list[str]:
    """Every label matcher `{...}` of an expression, as written."""
    return _MATCHERS.findall(_STRINGS.sub(lambda m: m.group(0).replace("{", "(").replace("}", ")"), expr))


def recording_rules(folder: Path = RULES) -> set[str]:
    """The `record:` names of every rule file of the chart."""
    import yaml

    names: set[str] = set()
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for group in data.get("groups") or []:
            for rule in group.get("rules") or []:
                if "record" in rule:
                    names.add(str(rule["record"]))
    return names


def unknown_metrics(expr: str, recorded: set[str]) -> set[str]:
    """Metric names of `expr` that neither the contract's catalogue nor a recording rule defines."""
    return {name for name in metric_names(expr) if name not in METRICS and name not in recorded}
