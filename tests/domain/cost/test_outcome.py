"""Run results, what schedules say now, metrics samples and targets (devops/domain/cost/)."""

from __future__ import annotations

from datetime import UTC, datetime

from devops.domain.cost.metrics import DESIRED_NODES, DESIRED_UP, LAST_RUN, run_samples
from devops.domain.cost.nodegroups import Size, tagged_true
from devops.domain.cost.outcome import CostRun, Outcome, RunResult, ScheduleLine
from devops.domain.cost.target import Selector, Target
from devops.domain.schedule import Schedule

AT = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)
ALWAYS = Schedule.build("always", timezone="UTC", uptime=["always"])
OFFICE = Schedule.build("office-hours", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"])
DEV = Target("dev", "shop-dev", "ap-south-1", OFFICE)


def row(nodegroup: str, action: str, want: str | None = "down", **extra: object) -> Outcome:
    return Outcome.of(DEV, nodegroup, want, "why", action, **extra)  # type: ignore[arg-type]


def test_a_result_counts_changes_reads_and_writes() -> None:
    result = RunResult(AT, False, [row("a", "scale-down"), row("b", "none"), row("*", "skipped", None),
                                   row("c", "failed"), row("d", "hold")],
                       calls={"DescribeCluster": 1, "ListNodegroups": 1, "DescribeNodegroup": 3, "TagResource": 2,
                              "UpdateNodegroupConfig": 1})
    assert [o.nodegroup for o in result.changed] == ["a", "d"]
    assert result.nodegroups == 4 and (result.reads, result.writes) == (5, 3)
    assert [o.where for o in result.outcomes[1:3]] == ["shop-dev/b", "shop-dev"]
    assert CostRun("t", result).at_utc == AT


def test_what_a_schedule_says_now() -> None:
    line = ScheduleLine.of(DEV, AT)
    assert (line.state, line.reason, line.next_change) == (
        "down", "outside uptime (Asia/Kolkata Wed 23:00)", datetime(2026, 11, 26, 2, 30, tzinfo=UTC))
    assert ScheduleLine.of(Target("x", "x", "ap-south-1", ALWAYS), AT).next_change is None


def test_metrics_samples_of_a_run() -> None:
    result = RunResult(AT, False, [
        row("general", "scale-down", before=Size(2, 5, 3), after=Size(0, 5, 0)),
        row("spot", "restore", "up", before=Size(0, 4, 0), after=Size(1, 4, 1)),
        row("idle", "none", "up"),  # no size known: only desired_up
        row("broken", "failed"),  # not judged: no samples
        row("*", "hold"),  # the target was reached
    ])
    samples = {(s.name, s.labels.get("nodegroup", "-")): s.value for s in run_samples(result)}
    assert samples == {(DESIRED_UP, "general"): 0.0, (DESIRED_NODES, "general"): 0.0,
                       (DESIRED_UP, "spot"): 1.0, (DESIRED_NODES, "spot"): 1.0,
                       (DESIRED_UP, "idle"): 1.0, (LAST_RUN, "-"): AT.timestamp()}
    skipped = RunResult(AT, False, [row("*", "skipped", None)])
    assert run_samples(skipped) == []  # production or opted out: nothing the schedule wants


def test_targets_and_selectors() -> None:
    assert Selector().selects("anything")
    picky = Selector(include=("gen*", "spot"), exclude=("general-old",))
    assert [n for n in ("general", "general-old", "spot", "gpu") if picky.selects(n)] == ["general", "spot"]
    assert Target("p", "p", "ap-south-1", OFFICE, production=True).held_back
    assert not Target("p", "p", "ap-south-1", OFFICE, production=True, allow_production=True).held_back
    assert DEV.excluded_until() is None
    assert Target("d", "d", "ap-south-1", OFFICE, exclude_until="2026-12-01T08:00").excluded_until() == datetime(
        2026, 12, 1, 2, 30, tzinfo=UTC)


def test_sizes_and_opt_out_words() -> None:
    assert str(Size(1, 5, 3)) == "1/3/5" and Size(0, 1, 0).at_zero and not Size(0, 1, 1).at_zero
    assert Size(0, 1, 0).consistent and not Size(0, 0, 0).consistent and not Size(2, 3, 1).consistent
    assert [tagged_true({"k": v}, "k") for v in ("true", " YES ", "1", "on", "false", "")] == [
        True, True, True, True, False, False]
    assert not tagged_true({}, "k")
