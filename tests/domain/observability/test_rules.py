"""The generated SLO rule file: recording rules, multi-window multi-burn-rate alerts, refusals.

Pure: the rules are computed from domain types; tests/observability/rules runs the real promtool
on what the CLI writes."""

from __future__ import annotations

from typing import Any

import pytest
from ruamel.yaml import YAML

from devops.domain.observability.rules import (
    BURN_WINDOWS,
    HEADER,
    WINDOWS,
    BurnWindow,
    compare,
    recording_name,
    render_slo_rules,
    runbook_url,
    slo_rule_groups,
    thresholds,
)
from devops.domain.observability.slo import LatencyTarget, Objective, ServiceTargets, SloDefinitions, objectives
from devops.errors import ConfigError

SLOS = SloDefinitions(period="30d", services=(ServiceTargets("product", 99.5, LatencyTarget(0.25, 99.0)),
                                              ServiceTargets("cart", 99.9)), source="pipelines/devops.yaml")


def alerts(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in data["groups"] for rule in group["rules"] if "alert" in rule]


def test_names_and_links() -> None:
    assert recording_name("5m") == "slo:sli_error:ratio_rate5m"
    assert runbook_url("ApiLatencyBudgetBurn").endswith("docs/runbooks/alerts.md#apilatencybudgetburn")


def test_burn_factors_are_the_workbooks_for_30d_and_scale_with_the_period() -> None:
    assert [w.factor("30d") for w in BURN_WINDOWS] == [14.4, 6.0, 3.0, 1.0]
    assert [w.factor("28d") for w in BURN_WINDOWS] == [13.44, 5.6, 2.8, 0.9333]
    assert BurnWindow("warning", "1d", "2h", 0.1).factor("7d") == 0.7


def test_thresholds_are_factor_times_budget() -> None:
    product = objectives(SLOS)[0]
    found = [(w.long, f, round(t, 6)) for w, f, t in thresholds(product, "30d")]
    assert found == [("1h", 14.4, 0.072), ("6h", 6.0, 0.03), ("1d", 3.0, 0.015), ("3d", 1.0, 0.005)]


def test_a_period_shorter_than_the_longest_window_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"^custom.yaml: observability.slo_period: 2d is shorter than the longest "
                                          r"alert window \(3d\)") as refused:
        thresholds(objectives(SLOS)[0], "2d", "custom.yaml")
    assert refused.value.hint == "use a period of at least 3d; 30d is the usual one"
    assert thresholds(objectives(SLOS)[0], "3d")   # control: the shortest period that works


@pytest.mark.parametrize(("objective", "key"), [
    (Objective("order", "order", "availability", 93.0, "/api/.*"), "observability.slos.order.availability: 93 "),
    (Objective("order", "order", "latency", 90.0, "/api/.*", 0.5), "observability.slos.order.latency.objective: 90 "),
])
def test_an_objective_no_alert_can_honour_is_refused_naming_the_key(objective: Objective, key: str) -> None:
    with pytest.raises(ConfigError, match="could never fire") as refused:
        thresholds(objective, "30d")
    assert key in refused.value.message and refused.value.hint == "raise the objective"


def test_one_group_per_service_recording_rules_first() -> None:
    data = slo_rule_groups(SLOS)
    assert [g["name"] for g in data["groups"]] == ["slo-product", "slo-cart"]
    product, cart = (g["rules"] for g in data["groups"])
    assert ["record" in r for r in product] == [True] * 2 * len(WINDOWS) + [False] * 4
    assert ["record" in r for r in cart] == [True] * len(WINDOWS) + [False] * 2
    assert product[0] == {"record": "slo:sli_error:ratio_rate5m", "expr": objectives(SLOS)[0].ratio("5m"),
                          "labels": {"service": "product", "slo": "availability"}}


def test_alerts_page_on_fast_burns_and_ticket_on_slow_ones() -> None:
    found = {(a["labels"]["service"], a["labels"]["slo"], a["labels"]["severity"]): a for a in alerts(slo_rule_groups(SLOS))}
    page = found[("product", "availability", "critical")]
    assert page["alert"] == "ApiAvailabilityBudgetBurn"
    assert 'slo:sli_error:ratio_rate1h{service="product",slo="availability"} > (14.4 * 0.005)' in page["expr"]
    assert 'slo:sli_error:ratio_rate30m{service="product",slo="availability"} > (6 * 0.005)' in page["expr"]
    assert "answered with a 5xx over the last 1h or 6h" in page["annotations"]["description"]
    assert "page: at this rate the budget is gone within days" in page["annotations"]["description"]
    assert page["annotations"]["summary"] == "product: availability error budget burning fast"
    ticket = found[("product", "latency", "warning")]
    assert ticket["alert"] == "ApiLatencyBudgetBurn"
    assert "slower than 0.25s over the last 1d or 3d" in ticket["annotations"]["description"]
    assert "ticket: at this rate the budget does not last the period" in ticket["annotations"]["description"]
    assert ticket["annotations"]["summary"] == "product: latency error budget burning steadily"
    assert ticket["annotations"]["runbook_url"] == runbook_url("ApiLatencyBudgetBurn")


def test_the_file_is_deterministic_yaml_with_a_header_naming_its_source() -> None:
    text = render_slo_rules(SLOS)
    assert text == render_slo_rules(SLOS)
    assert text.startswith(f"# {HEADER}\n# source: pipelines/devops.yaml observability (slo_period 30d); ")
    assert "# objectives: product-availability 99.5%, product-latency 99%, cart-availability 99.9%\n" in text
    assert YAML(typ="safe", pure=True).load(text) == slo_rule_groups(SLOS)


def test_no_objectives_give_an_empty_rule_file() -> None:
    empty = SloDefinitions(source="other.yaml")
    assert slo_rule_groups(empty) == {"groups": []}
    assert "# objectives: none\n" in render_slo_rules(empty)


def test_compare() -> None:
    assert compare(None, "x", "p") == compare(None, "x", "p")
    missing, same, drift = compare(None, "x", "p"), compare("x", "x", "p"), compare("y", "x", "p")
    assert (missing.exists, missing.matches) == (False, False)
    assert (same.exists, same.matches) == (True, True)
    assert (drift.exists, drift.matches) == (True, False)
