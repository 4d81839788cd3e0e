"""The monthly estimate (devops/domain/cost/estimate.py) and prices (pricing.py): the scheduler's
own decisions over a real calendar month, priced for a 730-hour month."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from devops.domain.cost.estimate import CostReport, ScheduleMonth, compute_report, target_runs, week_picture
from devops.domain.cost.pricing import HOURS_PER_MONTH, PriceTable, price_table
from devops.domain.cost.target import Capacity, FixedCounts, Target
from devops.domain.schedule import Schedule
from devops.errors import ConfigError

OFFICE = Schedule.build("office-hours", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"])
NOV = (datetime(2026, 10, 31, 18, 30, tzinfo=UTC), datetime(2026, 11, 30, 18, 30, tzinfo=UTC))


def target(**fields: object) -> Target:
    return Target("dev", "shop-dev", str(fields.pop("region", "ap-south-1")), OFFICE, **fields)  # type: ignore[arg-type]


def hours(runs: list) -> dict[str, float]:
    out = {"up": 0.0, "down": 0.0}
    for left, right, decision in runs:
        out[decision.state] += (right - left).total_seconds() / 3600
    return out


def test_runs_follow_the_schedule_or_the_rules_that_override_it() -> None:
    runs, note = target_runs(target(), *NOV)
    assert hours(runs) == {"up": 252, "down": 468} and note == ""
    runs, note = target_runs(target(production=True), *NOV)
    assert hours(runs)["up"] == 720 and note == "production: not scheduled"
    runs, note = target_runs(target(production=True, allow_production=True), *NOV)
    assert hours(runs)["up"] == 252  # allowed: scheduled like the rest
    runs, note = target_runs(target(force_up=True), *NOV)
    assert hours(runs)["up"] == 720 and note == "force_up: always up"


def test_exclude_until_counts_as_up_until_then() -> None:
    runs, note = target_runs(target(exclude_until="2026-11-16"), *NOV)
    assert note == "excluded (counted up) until 2026-11-16"
    assert hours(runs)["up"] == 15 * 24 + 11 * 12  # Nov 1-15 up, then 11 weekdays
    runs, note = target_runs(target(exclude_until="2027-01-01"), *NOV)
    assert hours(runs) == {"up": 720, "down": 0} and len(runs) == 1  # the whole month
    runs, note = target_runs(target(exclude_until="2026-10-01"), *NOV)
    assert note == "" and hours(runs)["up"] == 252  # over before the month


def test_the_week_picture_of_the_first_full_week() -> None:
    week = week_picture(OFFICE, 2026, 11)
    assert week.start == date(2026, 11, 2) and week.up_hours == 60
    assert week.days[0].label == "Mon 02"
    assert week.days[0].runs == (("down", "00:00", "08:00"), ("up", "08:00", "20:00"), ("down", "20:00", "24:00"))
    assert week.days[6].runs == (("down", "00:00", "24:00"),) and week.days[6].up_hours == 0
    assert week_picture(OFFICE, 2026, 6).start == date(2026, 6, 1)  # a month starting on a Monday


def test_a_report_priced_from_capacity_and_fixed_costs() -> None:
    dev = target()
    report = compute_report([dev], 2026, 11, lambda region: price_table(region),
                            lambda t: [Capacity("general", "t3.medium", 2, "config")])
    [group] = report.nodegroups
    assert (group.monthly_always, group.node_hours_always, group.node_hours_scheduled) == (60.74, 1440, 504)
    assert group.monthly_scheduled == round(0.0416 * 2 * 730 * 252 / 720, 2) and group.saving == 39.48
    assert {f.item: f.monthly for f in report.fixed} == {"EKS control plane": 73.0, "NAT gateway": 32.85,
                                                        "ALB": 16.43}
    assert report.total_always == round(60.74 + 73.0 + 32.85 + 16.43, 2)
    assert report.saving == 39.48 and report.saving_percent == round(100 * 39.48 / report.total_always, 1)
    assert report.compute_saving_percent == 65.0
    assert report.targets["dev"] == ScheduleMonth("office-hours", "Asia/Kolkata", 720, 252, "")
    assert report.warnings == [] and len(report.weeks) == 1


def test_one_week_picture_per_schedule_and_warnings_per_region() -> None:
    targets = [target(), Target("qa", "shop-qa", "us-east-1", OFFICE, fixed=FixedCounts(0, 0, 0))]
    report = compute_report(targets, 2026, 11, lambda region: price_table(region), lambda t: [])
    assert len(report.weeks) == 1 and [f.target for f in report.fixed] == ["dev", "dev", "dev"]
    assert report.warnings == []  # us-east-1 used no price at all
    report = compute_report(targets, 2026, 11, lambda region: price_table(region),
                            lambda t: [Capacity("general", "t3.small", 1, "aws")])
    [warning] = report.warnings
    assert warning.startswith("region us-east-1 has no price table: instances.t3.small priced at ap-south-1's")


def test_an_empty_report_has_no_percentages() -> None:
    report = CostReport("2026-11")
    assert (report.saving_percent, report.compute_saving_percent, report.total_always) == (0.0, 0.0, 0)
    assert ScheduleMonth("s", "UTC", 0, 0).fraction == 1.0


def test_an_instance_type_without_a_price_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"cost.prices.ap-south-1.instances: no price for instance type 'c7g.large'"):
        compute_report([target()], 2026, 11, lambda region: price_table(region),
                       lambda t: [Capacity("general", "c7g.large", 1, "config")])


def test_price_tables() -> None:
    seed = PriceTable()
    assert seed.monthly(0.1) == 73.0 and HOURS_PER_MONTH == 730
    assert not seed.is_stand_in("nat_gateway") and seed.stand_in_warning(["nat_gateway"]) is None

    class Override:
        instances = {"m5.large": 0.1}
        eks_control_plane = None
        nat_gateway = 0.05
        alb = None

    table = price_table("sa-east-1", {"sa-east-1": Override()})
    assert table.own == frozenset({"instances.m5.large", "nat_gateway"})
    assert table.instance("m5.large") == 0.1 and table.instance("t3.medium") == 0.0416
    assert (table.nat_gateway_hourly, table.alb_hourly) == (0.05, 0.0225)
    warning = table.stand_in_warning(["alb", "nat_gateway", "instances.m5.large"])
    assert warning == ("region sa-east-1 has only part of a price table: alb priced at ap-south-1's rates, not "
                       "sa-east-1's; add them under cost.prices.sa-east-1 in pipelines/devops.yaml")
    with pytest.raises(KeyError, match="no price for instance type 'x1.huge' in region sa-east-1"):
        table.instance("x1.huge")
    assert price_table("eu-west-1", {"sa-east-1": Override()}).own == frozenset()
