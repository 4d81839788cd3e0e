"""A region without a price table of its own is priced at ap-south-1's rates only with a
warning that says so (console, JSON, job summary); ap-south-1 and fully priced regions give
none. The figures themselves are the same as before: only the silence is gone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from devops.domain.cost.pricing import PriceTable, price_table
from tests.cost.conftest import BASE_CONFIG, Run

COST = """\
cost:
  schedules:
    office-hours:
      timezone: Asia/Kolkata
      uptime: ["Mon-Fri 08:00-20:00"]
  targets:
    dev:
      cluster: techitfactory-dev
      region: {region}
      schedule: office-hours
      capacity:
        general: {{instance_type: t3.medium, count: 2}}
{prices}"""


def config(tmp_path: Path, region: str, prices: str = "") -> Path:
    path = tmp_path / "devops.yaml"
    path.write_text(BASE_CONFIG + COST.format(region=region, prices=prices), encoding="utf-8")
    return path


def test_a_region_without_a_table_is_a_warning_naming_what_is_assumed(
        cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    run = cli("cost", "report", "--month", "2026-11", config=config(tmp_path, "us-east-1"))
    assert run.code == 0, run.err
    [warning] = run.json["warnings"]
    assert warning == ("region us-east-1 has no price table: alb, eks_control_plane, instances.t3.medium, "
                       "nat_gateway priced at ap-south-1's rates, not us-east-1's; add them under "
                       "cost.prices.us-east-1 in pipelines/devops.yaml")
    assert warning in run.err
    assert f"> **Warning:** {warning}" in summary.read_text()


def test_a_partial_table_warns_only_about_the_prices_it_lacks(cli: Callable[..., Run], tmp_path: Path) -> None:
    prices = "  prices:\n    eu-west-1: {instances: {t3.medium: 0.0456}, eks_control_plane: 0.10}\n"
    run = cli("cost", "report", "--month", "2026-11", config=config(tmp_path, "eu-west-1", prices))
    assert run.code == 0, run.err
    [warning] = run.json["warnings"]
    assert warning.startswith("region eu-west-1 has only part of a price table: alb, nat_gateway priced at")
    general = next(n for n in run.json["nodegroups"] if n["nodegroup"] == "general")
    assert general["monthly_always"] == round(0.0456 * 2 * 730, 2)


@pytest.mark.parametrize(("region", "prices"), [
    ("ap-south-1", ""),  # the embedded table is ap-south-1's
    ("us-east-1", "  prices:\n    us-east-1: {instances: {t3.medium: 0.0416}, eks_control_plane: 0.10, "
                  "nat_gateway: 0.045, alb: 0.0225}\n"),
])
def test_control_a_region_with_its_own_prices_has_no_warning(
        cli: Callable[..., Run], tmp_path: Path, region: str, prices: str) -> None:
    run = cli("cost", "report", "--month", "2026-11", config=config(tmp_path, region, prices))
    assert run.code == 0, run.err
    assert run.json["warnings"] == [] and "priced at" not in run.err


def test_price_table_records_what_the_region_gives() -> None:
    assert not PriceTable().is_stand_in("nat_gateway")
    assert PriceTable(region="us-east-1").is_stand_in("nat_gateway")
    assert PriceTable(region="us-east-1").stand_in_warning([]) is None  # nothing used, nothing to say

    class Override:
        instances = {"m5.large": 0.1}
        eks_control_plane = None
        nat_gateway = 0.05
        alb = None

    table = price_table("sa-east-1", {"sa-east-1": Override()})
    assert table.own == frozenset({"instances.m5.large", "nat_gateway"})
    assert table.is_stand_in("instances.t3.medium") and not table.is_stand_in("instances.m5.large")
