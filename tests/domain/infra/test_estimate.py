"""Monthly cost of a plan's changes (pure), one branch of the price rules at a time."""

from __future__ import annotations

from typing import Any

import pytest

from devops.domain.cost.pricing import HOURS_PER_MONTH, PriceTable
from devops.domain.infra.estimate import CostLine, estimate
from devops.domain.infra.plan_summary import PlanSummary, ResourceChange

P = PriceTable()


def monthly(hourly: float) -> float:
    return round(hourly * HOURS_PER_MONTH, 2)


def change(rtype: str, action: str, before: dict[str, Any] | None = None,
           after: dict[str, Any] | None = None) -> ResourceChange:
    return ResourceChange(f"{rtype}.this", rtype, action, before=before or {}, after=after or {})


def price(*changes: ResourceChange, prices: PriceTable | None = P) -> list[tuple[str, float | None]]:
    result = estimate(PlanSummary("1.11.4", changes, (), {}), prices)
    return [(line.what, line.monthly) for line in result.lines]


NODES = {"instance_types": ["t3.medium"], "scaling_config": [{"desired_size": 2}]}


@pytest.mark.parametrize(("rtype", "after", "expected"), [
    ("aws_nat_gateway", {}, ("NAT gateway", monthly(P.nat_gateway_hourly))),
    ("aws_eks_cluster", {}, ("EKS control plane", monthly(P.eks_control_plane_hourly))),
    ("aws_eks_node_group", NODES, ("2 x t3.medium", monthly(2 * P.instance("t3.medium")))),
    ("aws_eks_node_group", {"instance_types": "t3.medium", "scaling_config": {"desired_size": 1}},
     ("1 x t3.medium", monthly(P.instance("t3.medium")))),
    ("aws_eks_node_group", {"scaling_config": [{"desired_size": 1}]},  # EKS's default type
     ("1 x t3.medium", monthly(P.instance("t3.medium")))),
    ("aws_eks_node_group", {"instance_types": ["t3.medium"], "scaling_config": []},
     ("node group of t3.medium (desired size unknown)", None)),
    ("aws_eks_node_group", {"instance_types": ["t3.medium"]}, ("node group of t3.medium (desired size unknown)",
                                                               None)),
    ("aws_eks_node_group", {"instance_types": ["x9.huge"], "scaling_config": [{"desired_size": 1}]},
     ("1 x x9.huge (no price)", None)),
    ("aws_instance", {"instance_type": "t3.medium"}, ("1 x t3.medium", monthly(P.instance("t3.medium")))),
    ("aws_instance", {}, ("1 x ? (no price)", None)),
    ("aws_lb", {"load_balancer_type": "network"}, ("network load balancer", monthly(P.alb_hourly))),
    ("aws_alb", {}, ("application load balancer", monthly(P.alb_hourly))),
    ("aws_route53_zone", {}, ("Route53 hosted zone", 0.5)),
])
def test_each_priced_resource(rtype: str, after: dict[str, Any], expected: tuple[str, float | None]) -> None:
    assert price(change(rtype, "create", after=after)) == [expected]


def test_free_resources_and_reads_are_not_listed() -> None:
    assert price(change("aws_vpc", "create"), change("aws_nat_gateway", "read")) == []


def test_deletes_subtract_and_updates_count_the_difference() -> None:
    assert price(change("aws_nat_gateway", "delete", before={})) == [("NAT gateway", -monthly(P.nat_gateway_hourly))]
    resized = change("aws_eks_node_group", "update", before=NODES,
                     after={**NODES, "scaling_config": [{"desired_size": 3}]})
    assert price(resized) == [("2 x t3.medium -> 3 x t3.medium", monthly(P.instance("t3.medium")))]
    assert price(change("aws_instance", "delete", before={"instance_type": "x9.huge"})) == [
        ("1 x x9.huge (no price)", None)]


def test_a_tag_update_costs_nothing_and_a_replacement_nets_to_zero() -> None:
    assert price(change("aws_eks_node_group", "update", before=NODES, after={**NODES, "tags": {"a": "b"}})) == []
    assert price(change("aws_nat_gateway", "replace", before={}, after={})) == [("NAT gateway", 0.0)]


def test_an_update_to_something_unpriced_is_unpriced() -> None:
    unknown = change("aws_eks_node_group", "update", before=NODES, after={"instance_types": ["t3.medium"]})
    assert price(unknown) == [("2 x t3.medium -> node group of t3.medium (desired size unknown)", None)]


def test_the_totals_and_json() -> None:
    result = estimate(PlanSummary("1", (change("aws_nat_gateway", "create"),
                                        change("aws_instance", "create", after={"instance_type": "x9.huge"})), (), {}))
    assert result.monthly_delta == monthly(P.nat_gateway_hourly)  # an unpriced line adds nothing
    assert [line.address for line in result.unpriced] == ["aws_instance.this"]
    data = result.to_dict()
    assert data["unpriced"] == ["aws_instance.this"] and data["region"] == "ap-south-1"
    assert data["lines"][0] == CostLine("aws_nat_gateway.this", "aws_nat_gateway", "create", "NAT gateway",
                                        monthly(P.nat_gateway_hourly)).to_dict()
    empty = estimate(PlanSummary("1", (), (), {}))
    assert empty.monthly_delta == 0.0 and isinstance(empty.monthly_delta, float)


def test_a_region_priced_at_another_regions_rates_says_so() -> None:
    result = estimate(PlanSummary("1", (change("aws_nat_gateway", "create"),), (), {}), PriceTable(region="us-east-1"))
    assert len(result.warnings) == 1 and "nat_gateway priced at ap-south-1's rates" in result.warnings[0]


def test_a_type_without_a_price_rule_is_not_guessed() -> None:
    from devops.domain.infra.estimate import _hourly

    with pytest.raises(LookupError):
        _hourly({}, "aws_vpc", P)
