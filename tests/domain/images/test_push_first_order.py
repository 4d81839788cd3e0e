"""The order a release starts its builds in (devops/domain/images/plan.py::push_first_order): the
images that bring new base layers first, those that reuse a base already brought after them."""

from __future__ import annotations

from pathlib import Path

from devops.domain.images.identity import BuildInputs
from devops.domain.images.plan import ServicePlan, push_first_order


def plan(service: str, *bases: str) -> ServicePlan:
    inputs = BuildInputs(Path(service), Path(service) / "Dockerfile", {}, bases, 1, "0" * 64)
    return ServicePlan(service, service, f"reg.example/ns/{service}", inputs, True, "new")


def names(plans: list[ServicePlan]) -> list[str]:
    return [p.service for p in push_first_order(plans)]


def test_the_shop_builds_each_runtime_base_first_and_the_image_that_reuses_one_last() -> None:
    # frontend runs on nginx (node only builds it), product and cart on node, order on python.
    shop = [plan("frontend", "node:20", "nginx:1.27"), plan("product", "node:20", "node:20"),
            plan("cart", "node:20", "node:20"), plan("order", "python:3.11")]
    assert names(shop) == ["frontend", "product", "order", "cart"]


def test_distinct_bases_keep_the_configured_order_and_nothing_is_lost_or_repeated() -> None:
    distinct = [plan("a", "x"), plan("b", "y"), plan("c"), plan("d", "z")]
    assert names(distinct) == ["a", "b", "c", "d"], "control: nothing to reorder"
    shared = [plan("a", "x"), plan("b", "x"), plan("c", "x"), plan("d", "y")]
    assert names(shared) == ["a", "d", "b", "c"]
    assert sorted(names(shared)) == ["a", "b", "c", "d"]
