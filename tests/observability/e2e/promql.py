"""What the end-to-end test needs to read PromQL and Grafana dashboards, without a PromQL parser.

Prometheus 2.42 has no `/api/v1/parse_query`, and no Python package parses PromQL, so a small
tokenizer finds the vector selectors of an expression: a metric name (an identifier that is
not a function, keyword or grouping label) and its label matchers. It is run on the output of
Prometheus's own `/api/v1/format_query`, so the text it sees is canonical.

Dashboards: every target with an `expr` whose data source is Prometheus (uid `prometheus`,
type `prometheus`, or none: the default), with Grafana's variables replaced as the issue 9
contract says (`$__rate_interval`, `$__interval`, `$__range` and dashboard variables that carry
`current.value`). Loki targets are returned separately: there is no Loki here to run them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "bool", "offset", "atan2", "inf", "nan",
}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile",
}
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |(?P<comment>\#[^\n]*)
    |(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
    |(?P<number>0x[0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[a-zA-Z]*)
    |(?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
    |(?P<op>=~|!~|!=|==|>=|<=|[-+*/%^<>=(){}\[\],@:])
    """,
    re.VERBOSE,
)

# Grafana's built-in interval variables, as a 1 s scrape interval makes them (Grafana's
# $__rate_interval is at least four scrape intervals; 1m keeps dozens of samples in a window).
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "10s",
    "__interval_ms": "10000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def text(self) -> str:
        return f"{self.label}{self.op}{json.dumps(self.value)}"


@dataclass(frozen=True)
class Selector:
    """One vector selector: `metric{matchers}` (metric "" when selected by matchers only)."""

    metric: str
    matchers: tuple[Matcher, ...] = ()

    def text(self, keep: set[str] | None = None) -> str:
        chosen = [m for m in self.matchers if keep is None or m.label in keep]
        inner = ",".join(m.text() for m in chosen)
        if not self.metric:
            return "{" + inner + "}"
        return f"{self.metric}{{{inner}}}" if inner else self.metric


def _tokens(expr: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN.match(expr, pos)
        if not match:
            raise ValueError(f"cannot tokenize PromQL at {expr[pos:pos + 20]!r}")
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            found.append((kind, match.group()))
        pos = match.end()
    return found


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    if text.startswith("'"):
        text = '"' + text[1:-1].replace("\\'", "'").replace('"', '\\"') + '"'
    try:
        return str(json.loads(text))
    except json.JSONDecodeError:
        return text[1:-1]


def _matchers(tokens: list[tuple[str, str]], start: int) -> tuple[tuple[Matcher, ...], int]:
    """Matchers inside `{...}` beginning at tokens[start] == "{"; returns them and the index after `}`."""
    found: list[Matcher] = []
    i = start + 1
    while i < len(tokens) and tokens[i][1] != "}":
        if tokens[i][1] == ",":
            i += 1
            continue
        label, op, value = tokens[i][1], tokens[i + 1][1], tokens[i + 2][1]
        found.append(Matcher(label, op, _unquote(value)))
        i += 3
    return tuple(found), i + 1


def _skip_group(tokens: list[tuple[str, str]], start: int, open_: str, close: str) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        if tokens[i][1] == open_:
            depth += 1
        elif tokens[i][1] == close:
            depth -= 1
            if depth == 0:
                return i + 1
    return len(tokens)


def selectors(expr: str) -> list[Selector]:
    """Every vector selector of a PromQL expression, in order."""
    tokens = _tokens(expr)
    found: list[Selector] = []
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if text in GROUPING and nxt == "(":
            i = _skip_group(tokens, i + 1, "(", ")")
            continue
        if text == "[":
            i = _skip_group(tokens, i, "[", "]")
            continue
        if text == "offset":
            i += 2
            continue
        if text == "@":
            # `@ 1609746000`, `@ start()`, `@ end()`
            i += 4 if i + 2 < len(tokens) and tokens[i + 2][1] == "(" else 2
            continue
        if text == "{":
            matchers, i = _matchers(tokens, i)
            name = next((m.value for m in matchers if m.label == "__name__" and m.op == "="), "")
            found.append(Selector(name, tuple(m for m in matchers if m.label != "__name__")))
            continue
        if text in AGGREGATIONS and nxt in ("by", "without"):
            i += 1
            continue
        if kind == "ident" and text.lower() not in KEYWORDS and nxt != "(":
            if nxt == "{":
                matchers, i = _matchers(tokens, i + 1)
            else:
                matchers, i = (), i + 1
            found.append(Selector(text, matchers))
            continue
        i += 1
    return found


# --- Grafana dashboards -------------------------------------------------------------------------


@dataclass
class Query:
    """One query of a dashboard: a panel target, an annotation or a template variable."""

    dashboard: str
    where: str  # panel title, "annotation NAME" or "variable NAME"
    expr: str
    kind: str  # "panel" | "annotation" | "variable"
    ref: str = ""

    def describe(self) -> str:
        ref = f" [{self.ref}]" if self.ref else ""
        return f"{self.dashboard}: {self.kind} {self.where!r}{ref}: {self.expr}"


@dataclass
class DashboardQueries:
    prometheus: list[Query] = field(default_factory=list)
    loki: list[Query] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _variables(dashboard: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for var in (dashboard.get("templating") or {}).get("list", []):
        name = var.get("name")
        current = (var.get("current") or {}).get("value")
        if not name or current is None:
            continue
        if isinstance(current, list):
            current = [str(v) for v in current]
        if current in ("$__all", ["$__all"]):
            options = [o.get("value") for o in var.get("options", []) if o.get("value") not in (None, "$__all")]
            current = var.get("allValue") or ("|".join(options) if options else ".*")
        values[name] = "|".join(current) if isinstance(current, list) else str(current)
    return values


def substitute(expr: str, variables: dict[str, str]) -> str:
    """Grafana's variable syntaxes `$name`, `${name}`, `${name:format}`, `[[name]]` replaced."""
    known = {**BUILTINS, **variables}

    def repl(match: re.Match[str]) -> str:
        name = match.group("a") or match.group("b") or match.group("c")
        return known.get(name, match.group(0))

    pattern = r"\$\{(?P<a>\w+)(?::[^}]*)?\}|\[\[(?P<b>\w+)(?::[^\]]*)?\]\]|\$(?P<c>\w+)"
    return re.sub(pattern, repl, expr)


def _datasource_kind(ds: Any, variables: dict[str, str]) -> str:
    """"prometheus", "loki" or another kind, from a panel's or target's `datasource`."""
    if ds is None:
        return "prometheus"  # Grafana's default data source (the provisioned Prometheus)
    if isinstance(ds, str):
        uid, type_ = ds, ""
    else:
        uid, type_ = str(ds.get("uid") or ""), str(ds.get("type") or "")
    if uid.startswith("$"):
        uid = variables.get(uid.strip("${}"), uid)
    for kind in ("prometheus", "loki"):
        if type_ == kind or uid.lower() == kind:
            return kind
    return type_ or uid or "prometheus"


def _panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in panels:
        found.append(panel)
        found.extend(_panels(panel.get("panels") or []))  # rows keep collapsed panels inside
    return found


def dashboard_queries(path: Path) -> DashboardQueries:
    """The Prometheus and Loki queries of one dashboard JSON file, variables substituted."""
    result = DashboardQueries()
    name = path.name
    try:
        dashboard = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        result.problems.append(f"{name}: not JSON: {exc}")
        return result
    variables = _variables(dashboard)

    def add(kind: str, where: str, ds: Any, expr: str, ref: str = "") -> None:
        query = Query(name, where, substitute(expr, variables), kind, ref)
        # `$1` (label_replace's capture group) is not a variable: names start with a letter.
        left = re.findall(r"\$\{?[A-Za-z_]\w*|\[\[[A-Za-z_]\w*", query.expr)
        if left:
            result.problems.append(f"{query.describe()}: unknown variable(s) {', '.join(sorted(set(left)))} "
                                   "(give the dashboard variable a current.value)")
            return
        (result.loki if _datasource_kind(ds, variables) == "loki" else result.prometheus).append(query)

    for panel in _panels(dashboard.get("panels") or []):
        title = panel.get("title") or f"panel id {panel.get('id')}"
        for target in panel.get("targets") or []:
            if "expr" not in target or target.get("datasource", {}) == {"type": "__expr__"}:
                continue
            ds = target.get("datasource") or panel.get("datasource")
            if isinstance(panel.get("datasource"), dict) and panel["datasource"].get("uid") == "-- Mixed --":
                ds = target.get("datasource")
            kind = _datasource_kind(ds, variables)
            if kind not in ("prometheus", "loki"):
                continue
            add("panel", title, ds, str(target["expr"]), str(target.get("refId", "")))
    for annotation in (dashboard.get("annotations") or {}).get("list", []):
        expr = annotation.get("expr") or (annotation.get("target") or {}).get("expr")
        if expr:
            add("annotation", annotation.get("name", "?"), annotation.get("datasource"), str(expr))
    for var in (dashboard.get("templating") or {}).get("list", []):
        if var.get("type") != "query":
            continue
        query = var.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if query:
            add("variable", var.get("name", "?"), var.get("datasource"), str(query))
    return result


def variable_expression(query: str) -> str | None:
    """The PromQL behind a Grafana Prometheus variable query (None: `metrics()`, not PromQL).

    `label_values(expr, label)` lists the values `label` takes in `expr`'s series: PromQL
    `count by (label) (expr)` has one series per value. `label_values(label)` (any metric):
    `count by (label) ({label!=""})`. `query_result(expr)`: expr itself.
    """
    text = query.strip()
    match = re.fullmatch(r"label_values\((.*),\s*(\w+)\s*\)", text, re.S)
    if match:
        return f"count by ({match.group(2)}) ({match.group(1)})"
    match = re.fullmatch(r"label_values\(\s*(\w+)\s*\)", text)
    if match:
        return f'count by ({match.group(1)}) ({{{match.group(1)}!=""}})'
    match = re.fullmatch(r"query_result\((.*)\)", text, re.S)
    if match:
        return match.group(1)
    if text.startswith("metrics("):
        return None
    return text
