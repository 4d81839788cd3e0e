"""Cost estimate of a plan, on real `terraform show -json` output.

The AWS provider cannot be downloaded here, so the `priced` fixture root plans
`terraform_data` resources whose `input` carries `aws_type` and the attributes the AWS
provider would plan. The test takes the REAL plan JSON that `devops infra plan` saved and
enriches it (each change gets `aws_type` as its type and `values` as its before/after), which
is the shape the AWS provider's plan has, then summarises and prices it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from devops.domain.cost.pricing import HOURS_PER_MONTH, PriceTable
from devops.domain.infra.estimate import estimate
from devops.domain.infra.plan_summary import summarise
from tests.infra.conftest import InfraProject

P = PriceTable()


def enrich(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as the AWS provider would show it: terraform_data -> the described resource."""
    enriched = copy.deepcopy(plan)
    for rc in enriched["resource_changes"]:
        change = rc["change"]
        after_input = (change.get("after") or {}).get("input") or {}
        before_input = (change.get("before") or {}).get("input") or {}
        described = after_input or before_input
        if rc["type"] != "terraform_data" or "aws_type" not in described:
            continue
        rc["type"] = described["aws_type"]
        rc["address"] = rc["address"].replace("terraform_data.", f"{described['aws_type']}.")
        change["after"] = after_input.get("values") if change.get("after") is not None else None
        change["before"] = before_input.get("values") if change.get("before") is not None else None
        change["after_unknown"], change["after_sensitive"], change["before_sensitive"] = {}, {}, {}
    return enriched


@pytest.fixture
def priced(project: InfraProject, backend: object) -> InfraProject:
    project.roots = {"dev": "priced", "prod": "priced"}
    project.write_config()
    return project


def _saved_plan(project: InfraProject) -> dict[str, Any]:
    return json.loads((project.work("dev") / "plan.json").read_text())


def monthly(hourly: float) -> float:
    return round(hourly * HOURS_PER_MONTH, 2)


def test_cost_of_creating_the_dev_platform(priced: InfraProject) -> None:
    run = priced.devops("infra", "plan", "--env", "dev")
    assert run.code == 0, run.err
    real = _saved_plan(priced)
    assert real["format_version"].startswith("1.") and real["terraform_version"].startswith("1.")
    result = estimate(summarise(enrich(real)), P)
    lines = {line.type: line for line in result.lines}
    assert set(lines) == {"aws_nat_gateway", "aws_eks_cluster", "aws_eks_node_group", "aws_lb"}  # VPC is free
    assert lines["aws_nat_gateway"].monthly == monthly(0.045) == 32.85
    assert lines["aws_eks_cluster"].monthly == monthly(0.10) == 73.0
    assert lines["aws_eks_node_group"].monthly == monthly(2 * 0.0416) == 60.74
    assert lines["aws_eks_node_group"].what == "2 x t3.medium"
    assert lines["aws_lb"].monthly == monthly(0.0225) == 16.43
    assert result.monthly_delta == 183.02
    assert result.unpriced == ()


def test_cost_of_resizing_and_removing_a_nat(priced: InfraProject) -> None:
    priced.devops("infra", "plan", "--env", "dev")
    assert priced.devops("infra", "apply", "--env", "dev").code == 0
    priced.set_vars("dev", desired_size=3, with_nat=False)
    assert priced.devops("infra", "plan", "--env", "dev").code == 0
    summary = summarise(enrich(_saved_plan(priced)))
    assert summary.counts == {"create": 0, "update": 1, "delete": 1, "replace": 0}
    result = estimate(summary, P)
    lines = {line.type: line for line in result.lines}
    assert lines["aws_eks_node_group"].action == "update"
    assert lines["aws_eks_node_group"].what == "2 x t3.medium -> 3 x t3.medium"
    assert lines["aws_eks_node_group"].monthly == round(0.0416 * HOURS_PER_MONTH, 2) == 30.37
    assert lines["aws_nat_gateway"].action == "delete" and lines["aws_nat_gateway"].monthly == -32.85
    assert result.monthly_delta == round(30.37 - 32.85, 2)


def test_cli_prints_the_estimate_of_the_real_plan(priced: InfraProject) -> None:
    # Without enrichment the plan holds only terraform_data: free, and said so.
    run, data = priced.devops_json("infra", "plan", "--env", "dev")
    assert data["cost"]["monthly_delta_usd"] == 0 and data["cost"]["lines"] == []
    human = priced.devops("infra", "plan", "--env", "dev")
    assert "estimated monthly cost change: +0.00 USD" in human.out


# Plan JSON fragments shaped exactly like `terraform show -json` of the AWS provider.
def _plan(*changes: dict[str, Any]) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": list(changes)}


def _rc(rtype: str, actions: list[str], before: Any = None, after: Any = None, **extra: Any) -> dict[str, Any]:
    return {"address": f"module.x.{rtype}.this", "mode": "managed", "type": rtype, "name": "this",
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": extra.get("unknown", {}),
                       "before_sensitive": {}, "after_sensitive": {}}}


def test_unknown_desired_size_or_instance_type_is_unpriced_not_guessed() -> None:
    plan = _plan(
        _rc("aws_eks_node_group", ["create"], after={"instance_types": ["m7g.large"],
                                                     "scaling_config": [{"desired_size": 2}]}),
        _rc("aws_eks_node_group", ["create"], after={"instance_types": ["t3.medium"], "scaling_config": [{}]},
            unknown={"scaling_config": [{"desired_size": True}]}),
        _rc("aws_instance", ["create"], after={"instance_type": "t3.small"}),
        _rc("aws_route53_zone", ["create"], after={"name": "techitfactory.com"}),
    )
    result = estimate(summarise(plan), P)
    assert [line.monthly for line in result.lines] == [None, None, monthly(0.0208), 0.5]
    assert "(no price)" in result.lines[0].what
    assert "desired size unknown" in result.lines[1].what
    assert len(result.unpriced) == 2
    assert result.monthly_delta == round(monthly(0.0208) + 0.5, 2)


def test_replacement_nets_to_zero_and_tag_updates_cost_nothing() -> None:
    ng = {"instance_types": ["t3.medium"], "scaling_config": [{"desired_size": 2}]}
    plan = _plan(
        _rc("aws_nat_gateway", ["delete", "create"], before={"subnet_id": "a"}, after={"subnet_id": "b"}),
        _rc("aws_eks_node_group", ["update"], before={**ng, "tags": {}}, after={**ng, "tags": {"a": "b"}}),
    )
    result = estimate(summarise(plan), P)
    assert [(line.action, line.monthly) for line in result.lines] == [("replace", 0.0)]
    assert result.monthly_delta == 0.0


def test_a_region_without_its_own_prices_is_a_warning_not_a_silent_ap_south_1() -> None:
    from devops.domain.cost.pricing import price_table

    plan = _plan(
        _rc("aws_nat_gateway", ["create"], after={}),
        _rc("aws_eks_node_group", ["create"], after={"instance_types": ["t3.medium"],
                                                     "scaling_config": [{"desired_size": 2}]}),
        _rc("aws_route53_zone", ["create"], after={"name": "techitfactory.com"}),  # same price everywhere
    )
    summary = summarise(plan)
    result = estimate(summary, PriceTable(region="us-east-1"))
    assert result.warnings == ("region us-east-1 has no price table: instances.t3.medium, nat_gateway priced at "
                               "ap-south-1's rates, not us-east-1's; add them under cost.prices.us-east-1 in "
                               "pipelines/devops.yaml",)
    assert result.to_dict()["warnings"] == list(result.warnings)
    assert result.monthly_delta == estimate(summary, P).monthly_delta  # the figures are the same; now labelled

    # Controls: ap-south-1 itself, and a region whose table gives what the plan uses.
    assert estimate(summary, P).warnings == ()

    class UsEast:
        instances = {"t3.medium": 0.0416}
        eks_control_plane = None
        nat_gateway = 0.045
        alb = None

    assert estimate(summary, price_table("us-east-1", {"us-east-1": UsEast()})).warnings == ()


def test_plan_prices_in_the_clusters_region_with_cost_prices_applied(priced: InfraProject) -> None:
    """The plan's estimate takes cost.prices of the cluster's region (the CLI used to ignore them)."""
    import json as jsonlib

    data = jsonlib.loads(priced.config.read_text())
    data["environments"]["dev"]["cluster"]["region"] = "us-east-1"
    priced.config.write_text(jsonlib.dumps(data))
    run, result = priced.devops_json("infra", "plan", "--env", "dev")
    assert run.code == 0, run.err
    assert result["cost"]["region"] == "us-east-1"
