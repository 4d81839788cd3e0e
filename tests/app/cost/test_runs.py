"""The cost use cases (devops/app/cost_run.py, cost_report.py) on the in-memory EKS: targets
and production, exit policy of scheduled and by-hand runs, metrics, holds, the report."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, time
from typing import Any

import pytest

from devops.app import cost_report, cost_run
from devops.app.cost_run import CostPorts
from devops.domain.cost.metrics import MetricSample
from devops.errors import BadInput, ExternalError, GateFailed, HttpError, UnknownName
from tests.app.cost.conftest import CLUSTER, MORNING, NIGHT, config, dev_cluster
from tests.fakes.eks import EksWorld

Ports = Callable[..., CostPorts]


class Metrics:
    """The metrics port, recording what it was asked to push (or failing as told)."""

    where = "http://pushgateway:9091 (job devops-cost)"

    def __init__(self, fail: bool = False) -> None:
        self.pushed: list[list[MetricSample]] = []
        self.fail = fail

    def push(self, samples: Sequence[MetricSample]) -> None:
        if self.fail:
            raise HttpError("Pushgateway http://pushgateway:9091: connection refused")
        self.pushed.append(list(samples))


def notes(run: Any) -> list[tuple[str, str]]:
    return [(n.level, n.text) for n in run.notes]


def test_a_scheduled_run_reports_what_each_schedule_says(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    run = cost_run.schedule(config(), ports(), at=NIGHT)
    assert run.title == "devops cost schedule" and run.failure is None
    [line] = run.schedules or []
    assert (line.target, line.state, line.reason) == ("dev", "down", "outside uptime (Asia/Kolkata Wed 23:00)")
    assert line.next_change == datetime(2026, 11, 26, 2, 30, tzinfo=UTC)
    assert len(run.result.changed) == 2 and run.result.calls["TagResource"] == 2
    assert run.result.attempts == run.result.calls  # no retries in memory


def test_now_comes_from_the_clock_port(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    run = cost_run.schedule(config(), ports(clock=lambda: MORNING.astimezone(UTC)))
    assert run.result.at == MORNING and run.result.changed == []


def test_without_targets_nothing_runs(world: EksWorld, ports: Ports) -> None:
    empty = config(cost="cost: {}\n")
    run = cost_run.schedule(empty, ports(), at=NIGHT)
    assert not run.configured and run.result.outcomes == [] and run.schedules == []
    assert notes(run) == [("info", "no cost.targets configured; nothing to do")]
    assert dict(world.calls) == {}


def test_unknown_targets_and_clusters_are_bad_input(world: EksWorld, ports: Ports) -> None:
    with pytest.raises(UnknownName, match=r"pipelines/devops.yaml: unknown cost target 'qa'; known: dev"):
        cost_run.schedule(config(), ports(), at=NIGHT, names=["qa"])
    with pytest.raises(UnknownName, match="cluster 'nope' is not a target in cost.targets "
                                          r"\(known: techitfactory-dev\); devops cost never touches"):
        cost_run.by_hand(config(), ports(), "down", "nope", at=NIGHT)
    with pytest.raises(UnknownName, match=r"known: none configured"):
        cost_run.by_hand(config(cost="cost: {}\n"), ports(), "down", "nope", at=NIGHT)
    assert dict(world.calls) == {}


PROD = """\
    live: {cluster: shop-live, schedule: office-hours}
    labelled: {cluster: shop-main, environment: production, schedule: office-hours}
    named: {cluster: shop-prd-eu, schedule: office-hours}
"""


def test_production_is_the_one_definition(world: EksWorld, ports: Ports) -> None:
    """A prod environment's cluster, a production label, a cluster named like production:
    skipped without allow_production, not even read."""
    for name in ("shop-live", "shop-main", "shop-prd-eu", CLUSTER):
        world.cluster(name, {"general": (2, 2, 4)})
    run = cost_run.schedule(config(PROD), ports(), at=NIGHT)
    skipped = {o.target for o in run.result.outcomes if o.action == "skipped" and o.reason == "production"}
    assert skipped == {"live", "labelled", "named"}
    assert world.size("shop-live", "general") == (2, 2, 4)
    assert world.size(CLUSTER, "general") == (0, 0, 4)  # control: dev is scaled
    assert run.failure is None  # a scheduled run: skipped is not an error
    by_hand = cost_run.by_hand(config(PROD), ports(), "down", "shop-live", at=NIGHT)
    assert isinstance(by_hand.failure, GateFailed)
    assert str(by_hand.failure).startswith("shop-live: not changed: production cluster: set allow_production: true")
    opted = config(PROD.replace("{cluster: shop-live,", "{cluster: shop-live, allow_production: true,"))
    assert cost_run.by_hand(opted, ports(), "down", "shop-live", at=NIGHT).failure is None
    assert world.size("shop-live", "general") == (0, 0, 4)


def test_failures_end_the_run_with_exit_3_naming_the_first(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    world.fail("UpdateNodegroupConfig", 2)
    run = cost_run.schedule(config(), ports(), at=NIGHT)
    assert isinstance(run.failure, ExternalError)
    assert str(run.failure).startswith("techitfactory-dev/general (ap-south-1): failed: EKS UpdateNodegroupConfig")
    assert str(run.failure).endswith("saved size kept, the next run retries (and 1 more, see the table)")
    world.fail("DescribeCluster", 1)
    whole = cost_run.schedule(config(), ports(), at=NIGHT)
    assert str(whole.failure).startswith("techitfactory-dev (ap-south-1): failed: EKS DescribeCluster")
    assert cost_run.schedule(config(), ports(), at=NIGHT).failure is None  # control


def test_by_hand_refusals_are_exit_1(world: EksWorld, ports: Ports) -> None:
    world.cluster(CLUSTER, {"idle": (0, 0, 3)})
    run = cost_run.by_hand(config(), ports(), "up", CLUSTER, at=MORNING)
    assert isinstance(run.failure, GateFailed)
    assert str(run.failure).startswith("techitfactory-dev/idle: refused: no saved size for techitfactory-dev/idle")
    with pytest.raises(BadInput, match="node group 'keep' not found"):
        cost_run.by_hand(config(), ports(), "down", CLUSTER, nodegroup="keep", at=MORNING)


def test_by_hand_warns_when_the_schedule_will_undo_it(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    run = cost_run.by_hand(config(), ports(), "down", "dev", nodegroup="spot", at=MORNING)
    assert run.title == "devops cost down techitfactory-dev" and run.failure is None
    assert notes(run) == [("warn", "the schedule says up now: the next 'devops cost schedule' run puts it back "
                                   "(next scheduled change at 2026-11-26 14:30Z); pass --until HH:MM to hold it")]
    assert world.size(CLUSTER, "spot") == (0, 0, 4)
    # No warning when it agrees with the schedule, holds it, or changes nothing.
    assert notes(cost_run.by_hand(config(), ports(), "up", CLUSTER, at=MORNING)) == []
    assert notes(cost_run.by_hand(config(), ports(), "down", CLUSTER, at=MORNING, dry_run=True)) == []
    held = cost_run.by_hand(config(), ports(), "down", CLUSTER, until=time(12, 0), at=MORNING)
    assert notes(held) == []
    assert world.state(CLUSTER)["devops.cost.hold/*"] == "state=down until=2026-11-26T06:30:00Z"


def test_until_is_resolved_in_the_schedules_zone(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    cost_run.by_hand(config(), ports(), "up", CLUSTER, until=time(2, 0), at=NIGHT)
    assert world.state(CLUSTER)["devops.cost.hold/*"] == "state=up until=2026-11-25T20:30:00Z"
    with pytest.raises(BadInput, match=r"--until: 2026-11-25T08:00:00 is not after now \(2026-11-25 17:30Z\)"):
        cost_run.by_hand(config(), ports(), "up", CLUSTER, until=datetime(2026, 11, 25, 8, 0), at=NIGHT)


def test_metrics_are_pushed_after_a_real_run_only(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    metrics = Metrics()
    run = cost_run.schedule(config(), ports(metrics=metrics), at=NIGHT)
    [samples] = metrics.pushed
    assert {(s.name, s.labels.get("nodegroup"), s.value) for s in samples if s.name.endswith("desired_up")} == {
        ("devops_cost_nodegroup_desired_up", "general", 0.0), ("devops_cost_nodegroup_desired_up", "spot", 0.0)}
    assert notes(run) == [("debug", f"pushed {len(samples)} samples to http://pushgateway:9091 (job devops-cost)")]
    cost_run.schedule(config(), ports(metrics=metrics), at=NIGHT, dry_run=True)
    assert len(metrics.pushed) == 1
    # Nothing judged (the cluster is gone): nothing to push.
    empty = EksWorld()
    assert cost_run.schedule(config(), CostPorts(eks_for=empty.port, metrics=metrics), at=NIGHT).notes == []
    assert len(metrics.pushed) == 1


def test_a_failed_push_only_warns(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    run = cost_run.by_hand(config(), ports(metrics=Metrics(fail=True)), "down", CLUSTER, at=NIGHT)
    assert run.failure is None
    assert notes(run) == [("warn", "metrics not pushed: Pushgateway http://pushgateway:9091: connection refused")]
    assert world.size(CLUSTER, "general") == (0, 0, 5)


REPORT = """\
cost:
  schedules:
    office-hours: {timezone: Asia/Kolkata, uptime: ["Mon-Fri 08:00-20:00"]}
    nights: {timezone: UTC, uptime: ["Mon-Sun 20:00-08:00"]}
  targets:
    dev:
      cluster: techitfactory-dev
      schedule: office-hours
      capacity: {general: {instance_type: t3.medium, count: 2}}
    qa: {cluster: qa, schedule: office-hours, region: eu-west-1}
    qa2: {cluster: qa2, schedule: office-hours, region: eu-west-1}
"""


def test_the_report_prices_config_capacity_and_asks_eks_for_the_rest(world: EksWorld, ports: Ports) -> None:
    world.cluster("qa", {"general": (1, 3, 4), "spot": (0, 0, 2)}, region="eu-west-1", instance_type="t3.large",
                  tags={"devops.cost/spot": "phase=down min=1 max=2 desired=2 at=2026-11-25T17:30:00Z"})
    world.cluster("qa2", {"general": (1, 1, 1)}, region="eu-west-1")
    made: list[str] = []

    def eks_for(region: str) -> Any:
        made.append(region)
        return world.port(region)

    report = cost_report.report(config(cost=REPORT), CostPorts(eks_for=eks_for), month=(2026, 11))
    counts = {(n.target, n.nodegroup): (n.count, n.instance_type, n.source) for n in report.nodegroups}
    assert counts == {("dev", "general"): (2, "t3.medium", "config"), ("qa", "general"): (3, "t3.large", "aws"),
                      ("qa", "spot"): (2, "t3.large", "aws"),  # the saved size while down
                      ("qa2", "general"): (1, "t3.medium", "aws")}
    assert made == ["eu-west-1"]  # one port per region
    assert report.month == "2026-11" and report.targets["dev"].up_hours == 252
    assert report.warnings and report.warnings[0].startswith("region eu-west-1 has no price table")


def test_the_report_month_defaults_to_this_month_by_the_clock(world: EksWorld, ports: Ports) -> None:
    clock = ports(clock=lambda: datetime(2027, 2, 10, tzinfo=UTC))
    assert cost_report.report(config(cost=REPORT), clock, names=["dev"]).month == "2027-02"


def test_report_requests_that_name_nothing_are_bad_input(world: EksWorld, ports: Ports) -> None:
    with pytest.raises(UnknownName, match=r"unknown schedule 'weekends'; known: nights, office-hours"):
        cost_report.report(config(cost=REPORT), ports(), schedule="weekends")
    with pytest.raises(UnknownName, match=r"no cost.targets use schedule 'nights'"):
        cost_report.report(config(cost=REPORT), ports(), schedule="nights")
    with pytest.raises(UnknownName, match=r"pipelines/devops.yaml: no cost.targets configured"):
        cost_report.report(config(cost="cost: {}\n"), ports())
    with pytest.raises(UnknownName, match=r"unknown schedule 'x'; known: none configured"):
        cost_report.report(config(cost="cost: {}\n"), ports(), schedule="x")


class Heard:
    """The Notifier port, keeping what it was told."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def notify(self, event: Any) -> None:
        self.events.append(event)


def test_a_run_that_resizes_or_fails_is_a_cost_run_notification(world: EksWorld, ports: Ports) -> None:
    dev_cluster(world)
    heard = Heard()
    cost_run.schedule(config(), ports(notifier=heard), at=NIGHT, dry_run=True)
    assert heard.events == []  # a dry run changed nothing
    cost_run.schedule(config(), ports(notifier=heard), at=NIGHT)
    [event] = heard.events
    assert event.kind == "cost-run" and event.summary == "devops cost schedule: 2 change(s), 0 failure(s) (done)"
    cost_run.schedule(config(), ports(notifier=heard), at=NIGHT)
    assert len(heard.events) == 1  # the next run finds it as scheduled: quiet
    world.fail("UpdateNodegroupConfig", 1)
    cost_run.by_hand(config(), ports(notifier=heard), "up", CLUSTER, at=NIGHT)
    assert heard.events[-1].severity == "error" and "failure" in heard.events[-1].summary


def test_a_schedule_takes_the_holidays_of_a_calendar_named_in_the_config(world: EksWorld, ports: Ports) -> None:
    """`cost.schedules.<name>.calendars` refers to `calendars:` by name: the holiday is off all day."""
    import yaml

    from devops.config import Config
    from tests.app.cost.conftest import BASE

    text = BASE.replace('      uptime: ["Mon-Fri 08:00-20:00"]\n',
                        '      uptime: ["Mon-Fri 08:00-20:00"]\n      calendars: [india]\n') + \
        'calendars:\n  india: {timezone: Asia/Kolkata, holidays: [{name: Founders Day, from: "2026-11-26"}]}\n'
    with_holiday = Config.model_validate(yaml.safe_load(text))
    dev_cluster(world)
    run = cost_run.schedule(with_holiday, ports(), at=MORNING)  # Thursday 09:00: office hours, but a holiday
    [line] = run.schedules or []
    assert (line.state, line.reason) == ("down", "holiday Founders Day (calendar india)")
    assert len(run.result.having("scale-down")) == 2
    control = cost_run.schedule(config(), ports(), at=MORNING)  # the same morning without the calendar
    assert control.schedules is not None and control.schedules[0].state == "up"
