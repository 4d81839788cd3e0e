"""The reconciler (devops/app/cost_reconcile.py) on the in-memory EKS: reads, the phased
writes, read-backs, refusals, opt-outs, production, holds and failures injected at each step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from devops.app.cost_reconcile import reconcile
from devops.domain.cost.outcome import Manual, RunResult
from devops.domain.cost.target import Selector
from devops.domain.retry import RetryPolicy
from devops.errors import BadInput, UnknownName
from tests.app.cost.conftest import CLUSTER, MORNING, NIGHT, Killed, dev_cluster, target
from tests.fakes.eks import EksWorld

QUICK = RetryPolicy(attempts=3, base_seconds=0, max_seconds=0)


def run(world: EksWorld, at: datetime, *targets: Any, **kwargs: Any) -> RunResult:
    world.calls.clear()
    world.log.clear()
    kwargs.setdefault("readback", QUICK)
    kwargs.setdefault("sleep", lambda _s: None)
    return reconcile(list(targets) or [target()], at, world.port, **kwargs)


def rows(result: RunResult) -> dict[str, Any]:
    return {f"{o.cluster}/{o.nodegroup}": o for o in result.outcomes}


def test_down_saves_first_then_scales_then_marks_down(world: EksWorld) -> None:
    dev_cluster(world)
    result = run(world, NIGHT)
    assert {k: o.action for k, o in rows(result).items()} == {
        f"{CLUSTER}/general": "scale-down", f"{CLUSTER}/spot": "scale-down"}  # keep-system excluded
    assert world.size(CLUSTER, "general") == (0, 0, 5) and world.size(CLUSTER, "keep-system") == (1, 2, 2)
    writes = [op for op, _ in world.log if op in ("TagResource", "UpdateNodegroupConfig")]
    assert writes == ["TagResource", "UpdateNodegroupConfig", "UpdateNodegroupConfig", "TagResource"]
    assert world.state(CLUSTER)["devops.cost/general"] == (
        "phase=down min=2 max=5 desired=3 at=2026-11-25T17:30:00Z schedule=office-hours hash="
        + target().schedule.digest)
    # The same instant again: trusted, one read per cluster, no write.
    again = run(world, NIGHT)
    assert dict(world.calls) == {"DescribeCluster": 1, "ListNodegroups": 1}
    assert {o.action for o in again.outcomes} == {"none"}
    up = run(world, MORNING)
    assert rows(up)[f"{CLUSTER}/general"].action == "restore"
    assert world.size(CLUSTER, "general") == (2, 3, 5) and world.state(CLUSTER) == {}
    assert run(world, MORNING).changed == [] and world.writes == 0


def test_killed_after_saving_loses_nothing(world: EksWorld) -> None:
    dev_cluster(world)

    def die(step: str) -> None:
        if step == "after-save":
            raise Killed

    with pytest.raises(Killed):
        run(world, NIGHT, checkpoint=die)
    assert world.size(CLUSTER, "general") == (2, 3, 5)
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=saving min=2 max=5 desired=3")
    result = run(world, NIGHT + timedelta(minutes=30))
    assert rows(result)[f"{CLUSTER}/general"].action == "scale-down"
    assert world.size(CLUSTER, "general") == (0, 0, 5)
    run(world, MORNING)
    assert world.size(CLUSTER, "general") == (2, 3, 5) and world.state(CLUSTER) == {}


@pytest.mark.parametrize(("next_run", "action", "size"), [
    (MORNING + timedelta(hours=1), "clear-state", (2, 3, 5)),
    (NIGHT + timedelta(days=1), "scale-down", (0, 0, 5)),  # already night again: down, same saved size
])
def test_killed_after_scaling_up_loses_nothing(world: EksWorld, next_run: datetime, action: str,
                                               size: tuple[int, int, int]) -> None:
    dev_cluster(world)
    run(world, NIGHT)

    def die(step: str) -> None:
        if step == "after-scale-up":
            raise Killed

    with pytest.raises(Killed):
        run(world, MORNING, checkpoint=die)
    assert world.size(CLUSTER, "general") == (2, 3, 5)
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=restoring min=2 max=5 desired=3")
    assert rows(run(world, next_run))[f"{CLUSTER}/general"].action == action
    assert world.size(CLUSTER, "general") == size
    if action == "scale-down":
        assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=down min=2 max=5 desired=3")


def test_a_checkpoint_is_not_called_when_nothing_is_scaled(world: EksWorld) -> None:
    world.cluster(CLUSTER, {"idle": (0, 0, 3)})
    steps: list[str] = []
    run(world, NIGHT, checkpoint=steps.append)
    run(world, MORNING, checkpoint=steps.append)
    assert steps == [] and world.writes == 0


def test_a_failed_update_keeps_the_saved_size_and_the_next_run_finishes(world: EksWorld) -> None:
    dev_cluster(world)
    world.fail("UpdateNodegroupConfig", 1)
    result = run(world, NIGHT)
    general = rows(result)[f"{CLUSTER}/general"]
    assert general.action == "failed"
    assert general.message.endswith("ServerException: Service unavailable, try again; saved size kept, "
                                    "the next run retries")
    assert rows(result)[f"{CLUSTER}/spot"].action == "scale-down"  # the others carry on
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=saving")
    assert world.state(CLUSTER)["devops.cost/spot"].startswith("phase=down")
    assert rows(run(world, NIGHT))[f"{CLUSTER}/general"].action == "scale-down"
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=down")


def test_a_failed_restore_keeps_the_saved_size(world: EksWorld) -> None:
    dev_cluster(world)
    run(world, NIGHT)
    world.fail("UpdateNodegroupConfig", 2)
    result = run(world, MORNING)
    assert {rows(result)[f"{CLUSTER}/{g}"].action for g in ("general", "spot")} == {"failed"}
    assert world.size(CLUSTER, "general") == (0, 0, 5)
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=restoring min=2 max=5 desired=3")
    run(world, MORNING)
    assert world.size(CLUSTER, "general") == (2, 3, 5) and world.state(CLUSTER) == {}


def test_read_back_mismatch_is_not_marked_down(world: EksWorld) -> None:
    dev_cluster(world)
    world.lie = True
    result = run(world, NIGHT)
    general = rows(result)[f"{CLUSTER}/general"]
    assert (general.action, general.message) == ("mismatch", "asked for 0/0/5, EKS shows 0/1/5; the next run checks again")
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=saving")
    world.lie = False
    assert rows(run(world, NIGHT))[f"{CLUSTER}/general"].action == "confirm"
    assert world.state(CLUSTER)["devops.cost/general"].startswith("phase=down")


def test_restore_mismatch_keeps_the_saved_size(world: EksWorld) -> None:
    dev_cluster(world)
    run(world, NIGHT)
    world.lie = True
    general = rows(run(world, MORNING))[f"{CLUSTER}/general"]
    assert (general.action, general.message) == ("mismatch", "asked for 2/3/5, EKS shows 2/4/5; saved size kept")
    assert "devops.cost/general" in world.state(CLUSTER)


@pytest.mark.parametrize(("at", "message"), [
    (NIGHT, "EKS is still updating (shows 0/1/5); the next run confirms"),
    (MORNING, "EKS is still updating (shows 2/4/5); the next run clears the saved size"),
])
def test_still_updating_after_the_read_backs_is_left_for_the_next_run(world: EksWorld, at: datetime,
                                                                      message: str) -> None:
    dev_cluster(world)
    if at == MORNING:
        run(world, NIGHT)
    world.lie, world.lie_status = True, "UPDATING"
    waits: list[float] = []
    result = run(world, at, sleep=waits.append)
    general = rows(result)[f"{CLUSTER}/general"]
    assert general.action in ("scale-down", "restore") and general.message == message
    # Read back three times (QUICK.attempts) per node group, with waits between.
    updates = sum(1 for op, _ in world.log if op == "UpdateNodegroupConfig")
    assert len(waits) == 2 * updates
    world.lie = False
    follow = rows(run(world, at))[f"{CLUSTER}/general"]
    assert follow.action == ("confirm" if at == NIGHT else "clear-state")
    assert follow.message == ("already at zero; marking the saved size as down" if at == NIGHT
                              else "restored earlier; clearing the saved size")


def test_a_failed_read_reports_what_was_decided_before_it(world: EksWorld) -> None:
    dev_cluster(world)
    world.fail("DescribeNodegroup", 1)
    result = run(world, NIGHT)
    assert [(o.nodegroup, o.action) for o in result.outcomes] == [("*", "failed")]
    assert result.outcomes[0].message.startswith("EKS DescribeNodegroup techitfactory-dev/general in ap-south-1: ")
    # general is read and planned (a confirm), then spot's read fails: general's change is
    # reported failed, and nothing at all is written.
    world.cluster(CLUSTER, {"general": (0, 0, 5), "spot": (1, 1, 4)},
                  tags={"devops.cost/general": "phase=saving min=2 max=5 desired=3 at=2026-11-25T17:30:00Z"})
    world.fail("DescribeNodegroup", 1, on=f"{CLUSTER}/spot")
    result = run(world, NIGHT)
    assert [(o.nodegroup, o.action) for o in result.outcomes] == [("general", "failed"), ("*", "failed")]
    assert result.outcomes[0].message == (
        "EKS DescribeNodegroup techitfactory-dev/spot in ap-south-1: ServerException: Service unavailable, "
        "try again; the next run finishes it")
    assert world.writes == 0 and world.state(CLUSTER)["devops.cost/general"].startswith("phase=saving")
    # Control: with the read answered, the same run confirms general and scales spot down.
    result = run(world, NIGHT)
    assert [(o.nodegroup, o.action) for o in result.outcomes] == [("general", "confirm"), ("spot", "scale-down")]


def test_node_groups_deleted_meanwhile(world: EksWorld) -> None:
    dev_cluster(world)
    run(world, NIGHT)
    cluster = world.clusters[("ap-south-1", CLUSTER)]
    del cluster.groups["spot"]
    result = run(world, MORNING)
    spot = rows(result)[f"{CLUSTER}/spot"]
    assert (spot.action, spot.message) == ("clear-state", "node group is gone; clearing its saved size")
    assert world.state(CLUSTER) == {}
    # Listed, then gone when described: skipped at night, cleared in the morning.
    port = world.port("ap-south-1")
    port.list_nodegroups = lambda _c: ["general", "ghost"]  # type: ignore[method-assign]
    night = reconcile([target()], NIGHT, lambda _r: port, readback=QUICK)
    ghost = rows(night)[f"{CLUSTER}/ghost"]
    assert ghost.action == "skipped"
    assert ghost.message == ("EKS DescribeNodegroup techitfactory-dev/ghost in ap-south-1: not found "
                             "(deleted while this run looked at it)")
    cluster.tags["devops.cost/ghost"] = "phase=down min=1 max=2 desired=1 at=2026-11-25T17:30:00Z"
    morning = reconcile([target()], MORNING, lambda _r: port, readback=QUICK)
    assert rows(morning)[f"{CLUSTER}/ghost"].action == "clear-state"
    assert "devops.cost/ghost" not in world.state(CLUSTER)


def test_by_hand_a_node_group_gone_meanwhile_is_exit_2(world: EksWorld) -> None:
    dev_cluster(world)
    port = world.port("ap-south-1")
    port.list_nodegroups = lambda _c: ["general", "ghost"]  # type: ignore[method-assign]
    with pytest.raises(UnknownName, match="EKS DescribeNodegroup techitfactory-dev/ghost in ap-south-1: not found"):
        reconcile([target()], NIGHT, lambda _r: port, manual=Manual("down"), readback=QUICK)
    with pytest.raises(UnknownName, match="ghost in ap-south-1: not found"):
        reconcile([target()], MORNING, lambda _r: port, manual=Manual("up"), readback=QUICK)


def test_clusters_that_do_not_exist(world: EksWorld) -> None:
    skipped = run(world, NIGHT)
    assert skipped.outcomes[0].action == "skipped"
    assert skipped.outcomes[0].message == ("EKS DescribeCluster techitfactory-dev in ap-south-1: not found; "
                                           "nothing to scale")
    with pytest.raises(UnknownName, match="DescribeCluster techitfactory-dev"):
        run(world, NIGHT, manual=Manual("down"))


def test_production_is_never_read_without_allow_production(world: EksWorld) -> None:
    world.cluster("shop-live", {"general": (2, 2, 4)})
    prod = target("live", "shop-live", production=True)
    result = run(world, NIGHT, prod)
    assert result.outcomes[0].action == "skipped" and "allow_production: true" in result.outcomes[0].message
    assert dict(world.calls) == {}
    assert run(world, NIGHT, target("live", "shop-live", production=True, allow_production=True)).changed
    assert world.size("shop-live", "general") == (0, 0, 4)


def test_opt_out_tags(world: EksWorld) -> None:
    world.cluster(CLUSTER, {"general": (2, 3, 5), "gpu": (1, 1, 2)}, ng_tags={"gpu": {"devops.cost.opt-out": "true"}})
    world.cluster("other", {"general": (1, 2, 3)}, tags={"devops.cost.opt-out": "Yes"})
    result = run(world, NIGHT, target(), target("other", "other"), concurrency=8)
    assert rows(result)[f"{CLUSTER}/gpu"].action == "skipped"
    assert rows(result)["other/*"].message == "cluster tagged devops.cost.opt-out=Yes"
    assert world.size("other", "general") == (1, 2, 3) and world.size(CLUSTER, "gpu") == (1, 1, 2)
    # Opting a node group out while it is down keeps it down, saved size kept.
    world.clusters[("ap-south-1", CLUSTER)].groups["general"].tags["devops.cost.opt-out"] = "on"
    morning = rows(run(world, MORNING))[f"{CLUSTER}/general"]
    assert (morning.action, morning.message) == ("skipped", "node group tagged devops.cost.opt-out")
    assert world.size(CLUSTER, "general") == (0, 0, 5) and "devops.cost/general" in world.state(CLUSTER)


def test_refusals_name_what_to_fix(world: EksWorld) -> None:
    world.cluster(CLUSTER, {"odd": (3, 1, 2), "spot": (1, 1, 4)},
                  tags={"devops.cost/spot": "phase=down min=0 max=4 desired=0 at=2026-11-25T17:30:00Z"})
    result = rows(run(world, NIGHT))
    assert result[f"{CLUSTER}/odd"].action == "refused"
    assert result[f"{CLUSTER}/odd"].message == "size 3/1/2 (min/desired/max) is inconsistent; fix it by hand"
    assert result[f"{CLUSTER}/spot"].message == ("saved size 0/0/4 (min/desired/max) cannot be restored; "
                                                 "fix or delete cluster tag devops.cost/spot")
    assert world.writes == 0


def test_exclude_until_and_force_up(world: EksWorld) -> None:
    dev_cluster(world)
    excluded = target(exclude_until="2026-11-26")
    skipped = run(world, NIGHT, excluded).outcomes[0]
    assert (skipped.action, skipped.message) == ("skipped", "excluded until 2026-11-26 (Asia/Kolkata)")
    # By hand, exclude_until does not hold anyone back.
    assert run(world, NIGHT, excluded, manual=Manual("down", "spot")).changed
    run(world, NIGHT + timedelta(days=1), excluded)
    assert world.size(CLUSTER, "general") == (0, 0, 5)
    forced = rows(run(world, NIGHT + timedelta(days=1, minutes=30), target(force_up=True)))
    assert forced[f"{CLUSTER}/general"].reason == "force_up in config"
    assert world.size(CLUSTER, "general") == (2, 3, 5)


def test_patterns_that_changed_restore_but_never_scale(world: EksWorld) -> None:
    dev_cluster(world)
    run(world, NIGHT)
    narrowed = target(nodegroups=Selector(exclude=("keep-*", "spot")))
    night = rows(run(world, NIGHT + timedelta(minutes=30), narrowed))
    assert night[f"{CLUSTER}/spot"].action == "skipped"
    assert night[f"{CLUSTER}/spot"].message == ("no longer selected by the include/exclude patterns: "
                                                "only restored, never scaled")
    assert rows(run(world, MORNING, narrowed))[f"{CLUSTER}/spot"].action == "restore"
    run(world, NIGHT + timedelta(days=1), narrowed)
    assert world.size(CLUSTER, "spot") == (1, 1, 4)


def test_zero_sizes_are_never_saved(world: EksWorld) -> None:
    world.cluster(CLUSTER, {"idle": (0, 0, 3)})
    night = rows(run(world, NIGHT))[f"{CLUSTER}/idle"]
    assert night.message == ("already at zero with no saved size: nothing to save, the schedule will not "
                             "scale it up")
    by_hand = rows(run(world, MORNING, manual=Manual("up")))[f"{CLUSTER}/idle"]
    assert by_hand.action == "refused" and "aws eks update-nodegroup-config" in by_hand.message
    assert world.writes == 0 and world.state(CLUSTER) == {}


def test_by_hand_requests_that_name_wrong_node_groups_raise(world: EksWorld) -> None:
    dev_cluster(world)
    with pytest.raises(UnknownName, match="node group 'nope' not found in cluster techitfactory-dev"):
        run(world, NIGHT, manual=Manual("down", "nope"))
    with pytest.raises(BadInput, match="'keep-system' is not selected by cost.targets.dev.nodegroups"):
        run(world, NIGHT, manual=Manual("down", "keep-system"))
    assert world.writes == 0


def test_holds_by_hand_and_their_expiry(world: EksWorld) -> None:
    dev_cluster(world)
    run(world, NIGHT)
    until = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
    held = run(world, NIGHT, manual=Manual("up", hold_until=until))
    assert rows(held)[f"{CLUSTER}/*"].message == "schedule held up until 2026-11-25 20:30Z"
    assert world.state(CLUSTER) == {"devops.cost.hold/*": "state=up until=2026-11-25T20:30:00Z"}
    later = run(world, NIGHT + timedelta(hours=2))
    assert later.changed == [] and rows(later)[f"{CLUSTER}/general"].reason == "hold until 2026-11-25 20:30Z"
    # A dry run after expiry removes nothing; the next real run does, and scales down.
    run(world, NIGHT + timedelta(hours=4), dry_run=True)
    assert "devops.cost.hold/*" in world.state(CLUSTER)
    run(world, NIGHT + timedelta(hours=4))
    assert "devops.cost.hold/*" not in world.state(CLUSTER) and world.size(CLUSTER, "general") == (0, 0, 5)


def test_a_change_by_hand_replaces_the_holds_it_covers(world: EksWorld) -> None:
    dev_cluster(world, tags={"devops.cost.hold/*": "state=up until=2026-11-25T20:30:00Z",
                             "devops.cost.hold/spot": "state=up until=2026-11-25T20:30:00Z"})
    spot = run(world, NIGHT, manual=Manual("down", "spot", datetime(2026, 11, 25, 21, tzinfo=UTC)))
    messages = [o.message for o in spot.outcomes if o.action == "hold"]
    assert messages == ["schedule held down until 2026-11-25 21:00Z"]  # its own hold overwritten, `*` kept
    assert world.state(CLUSTER)["devops.cost.hold/spot"] == "state=down until=2026-11-25T21:00:00Z"
    everything = run(world, NIGHT, manual=Manual("down"))
    assert [o.message for o in everything.outcomes if o.action == "hold"] == ["removed hold(s) *, spot"]
    assert not any(k.startswith("devops.cost.hold/") for k in world.state(CLUSTER))


def test_a_dry_run_reads_and_plans_but_writes_nothing(world: EksWorld) -> None:
    dev_cluster(world)
    result = run(world, NIGHT, dry_run=True)
    general = rows(result)[f"{CLUSTER}/general"]
    assert (general.action, general.message, str(general.after)) == ("scale-down", "(dry run)", "0/0/5")
    assert world.writes == 0 and world.state(CLUSTER) == {}


def test_many_targets_run_in_threads_with_one_port_per_region(world: EksWorld) -> None:
    made: list[str] = []
    targets = []
    for n in range(6):
        region = "ap-south-1" if n % 2 else "eu-west-1"
        world.cluster(f"c{n}", {"general": (1, 2, 3)}, region=region)
        targets.append(target(f"t{n}", f"c{n}", region=region))

    def port(region: str) -> Any:
        made.append(region)
        return world.port(region)

    result = reconcile(targets, NIGHT, port, concurrency=4, readback=QUICK)
    assert len(result.changed) == 6 and sorted(made) == ["ap-south-1", "eu-west-1"]
    assert [o.target for o in result.outcomes] == [f"t{n}" for n in range(6)]  # in the targets' order
