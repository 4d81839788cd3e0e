"""The planner (devops/domain/cost/planner.py): a snapshot of one cluster -> rows and changes,
with no EKS at all. Every decision of the reconciler is pinned here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from devops.domain.cost import planner
from devops.domain.cost.nodegroups import Cluster, Nodegroup, Size
from devops.domain.cost.outcome import Manual
from devops.domain.cost.planner import ClusterView, Gone
from devops.domain.cost.state import ClusterState, SavedSize
from devops.domain.cost.target import Selector, Target
from devops.domain.schedule import Schedule
from devops.errors import BadInput, UnknownName

SCHEDULE = Schedule.build("office-hours", timezone="Asia/Kolkata", uptime=["Mon-Fri 08:00-20:00"])
NIGHT = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)  # 23:00 in Kolkata, a Wednesday
MORNING = datetime(2026, 11, 26, 3, 30, tzinfo=UTC)  # 09:00
SAVED_AT = "at=2026-11-25T17:30:00Z"
TARGET = Target("dev", "shop-dev", "ap-south-1", SCHEDULE, nodegroups=Selector(exclude=("keep-*",)))


def group(name: str, lo: int, desired: int, hi: int, *, status: str = "ACTIVE", **tags: str) -> Nodegroup:
    return Nodegroup("shop-dev", name, Size(lo, hi, desired), ("t3.medium",), "ON_DEMAND", status, tags)


def view(at: datetime = NIGHT, names: tuple[str, ...] = ("general",), tags: dict[str, str] | None = None,
         target: Target = TARGET, **kwargs: Any) -> ClusterView:
    return ClusterView(target, at, ClusterState.from_tags(tags or {}), names, **kwargs)


def saved(name: str, phase: str, lo: int = 2, hi: int = 5, desired: int = 3) -> dict[str, str]:
    return {f"devops.cost/{name}": f"phase={phase} min={lo} max={hi} desired={desired} {SAVED_AT}"}


def plan(v: ClusterView, *groups: Nodegroup | tuple[str, Gone]) -> planner.ClusterPlan:
    observed: dict[str, planner.Observed] = {}
    for item in groups:
        if isinstance(item, tuple):
            observed[item[0]] = item[1]
        else:
            observed[item.name] = item
    return planner.plan_cluster(v, observed)


def only(p: planner.ClusterPlan) -> tuple[str, str]:
    [row] = p.rows
    return row.action, row.message


GONE = Gone(UnknownName("EKS DescribeNodegroup shop-dev/general in ap-south-1: not found"))


# -- down ------------------------------------------------------------------------------------
def test_down_saves_the_running_size_and_scales_to_zero_keeping_max() -> None:
    p = plan(view(), group("general", 2, 3, 5))
    [row] = p.rows
    assert (row.action, row.want, row.before, row.after, row.saved) == (
        "scale-down", "down", Size(2, 5, 3), Size(0, 5, 0), Size(2, 5, 3))
    assert row.reason == "outside uptime (Asia/Kolkata Wed 23:00)" and row.message == ""
    assert p.save["general"] == SavedSize(Size(2, 5, 3), NIGHT, "office-hours", SCHEDULE.digest, "saving")
    assert [g.name for g in p.down] == ["general"] and p.changes["general"] is row
    assert only(plan(view(dry_run=True), group("general", 2, 3, 5))) == ("scale-down", "(dry run)")


def test_a_saved_size_is_never_overwritten_while_down() -> None:
    p = plan(view(tags=saved("general", "saving")), group("general", 1, 1, 5))  # resized by hand at night
    assert p.save["general"].size == Size(2, 5, 3) and p.rows[0].saved == Size(2, 5, 3)
    assert p.save["general"].at == datetime(2026, 11, 25, 17, 30, tzinfo=UTC)


def test_phase_down_is_trusted_without_a_read_except_by_hand() -> None:
    v = view(tags=saved("general", "down"))
    assert planner.reads_needed(v) == []
    assert only(plan(v)) == ("none", "down since 2026-11-25 17:30Z")
    by_hand = view(tags=saved("general", "down"), manual=Manual("down"))
    assert planner.reads_needed(by_hand) == ["general"]
    assert only(plan(by_hand, group("general", 0, 0, 5))) == ("none", "already at zero")


@pytest.mark.parametrize(("tags", "expected"), [
    (saved("general", "saving"), ("confirm", "already at zero; marking the saved size as down")),
    (saved("general", "restoring"), ("confirm", "already at zero; marking the saved size as down")),
    ({}, ("none", "already at zero with no saved size: nothing to save, the schedule will not scale it up")),
])
def test_already_at_zero(tags: dict[str, str], expected: tuple[str, str]) -> None:
    p = plan(view(tags=tags), group("general", 0, 0, 5))
    assert only(p) == expected
    assert list(p.confirm) == (["general"] if expected[0] == "confirm" else [])
    if p.confirm:
        assert p.confirm["general"].phase == "down"
    assert not p.save and not p.down


def test_inconsistent_sizes_and_opt_out_are_left_alone() -> None:
    assert only(plan(view(), group("general", 3, 1, 2))) == (
        "refused", "size 3/1/2 (min/desired/max) is inconsistent; fix it by hand")
    tagged = group("general", 2, 3, 5, **{"devops.cost.opt-out": " TRUE "})
    assert only(plan(view(), tagged)) == ("skipped", "node group tagged devops.cost.opt-out")
    not_tagged = group("general", 2, 3, 5, **{"devops.cost.opt-out": "false"})  # control
    assert only(plan(view(), not_tagged))[0] == "scale-down"


def test_a_node_group_deleted_meanwhile_is_skipped_or_raises_by_hand() -> None:
    assert only(plan(view(), ("general", GONE))) == (
        "skipped", "EKS DescribeNodegroup shop-dev/general in ap-south-1: not found (deleted while this run looked at it)")
    with pytest.raises(UnknownName, match="shop-dev/general in ap-south-1: not found"):
        plan(view(manual=Manual("down")), ("general", GONE))


# -- up --------------------------------------------------------------------------------------
def test_up_restores_the_saved_size_and_respects_a_max_changed_by_hand() -> None:
    v = view(MORNING, tags=saved("general", "down"))
    p = plan(v, group("general", 0, 0, 5))
    [row] = p.rows
    assert (row.action, row.after, row.reason) == ("restore", Size(2, 5, 3), "uptime Mon-Fri 08:00-20:00 (Asia/Kolkata)")
    [(g, s, size)] = p.up
    assert (g.name, s.phase, size) == ("general", "down", Size(2, 5, 3))
    raised = plan(v, group("general", 0, 0, 8)).up[0][2]
    assert raised == Size(2, 8, 3)
    too_low = plan(v, group("general", 0, 0, 2)).up[0][2]
    assert too_low == Size(2, 5, 3)  # the saved size does not fit max 2: the saved one
    assert only(plan(view(MORNING, tags=saved("general", "down"), dry_run=True), group("general", 0, 0, 5))) == (
        "restore", "(dry run)")


def test_up_clears_what_is_up_already() -> None:
    restoring = plan(view(MORNING, tags=saved("general", "restoring")), group("general", 2, 3, 5))
    assert only(restoring) == ("clear-state", "restored earlier; clearing the saved size")
    assert restoring.clear == ["general"]
    by_hand = plan(view(MORNING, tags=saved("general", "down")), group("general", 1, 1, 5))
    assert only(by_hand) == ("clear-state", "resized by hand to 1/1/5 since; keeping it and clearing the saved size")
    gone = plan(view(MORNING, tags=saved("general", "down")), ("general", GONE))
    assert only(gone) == ("clear-state", "node group is gone; clearing its saved size") and gone.clear == ["general"]


def test_up_with_nothing_saved() -> None:
    v = view(MORNING)
    assert planner.reads_needed(v) == []
    assert only(plan(v)) == ("none", "nothing saved; nothing to restore")
    by_hand = view(MORNING, manual=Manual("up"))
    assert planner.reads_needed(by_hand) == ["general"]
    assert only(plan(by_hand, group("general", 1, 2, 3))) == ("none", "already up")
    action, message = only(plan(by_hand, group("general", 0, 0, 3)))
    assert action == "refused"
    assert message == ("no saved size for shop-dev/general; set its size with 'aws eks update-nodegroup-config "
                       "--cluster-name shop-dev --nodegroup-name general --scaling-config "
                       "minSize=..,maxSize=..,desiredSize=..'")
    with pytest.raises(UnknownName):
        plan(by_hand, ("general", GONE))


def test_an_opted_out_node_group_is_not_restored() -> None:
    tagged = group("general", 0, 0, 5, **{"devops.cost.opt-out": "1"})
    assert only(plan(view(MORNING, tags=saved("general", "down")), tagged)) == (
        "skipped", "node group tagged devops.cost.opt-out")


# -- which node groups, in which order --------------------------------------------------------
def test_candidates_are_the_selected_then_the_saved_ones() -> None:
    tags = {**saved("keep-x", "down"), **saved("zz-gone", "down")}
    v = view(names=("a", "keep-x", "b"), tags=tags)
    assert planner.candidates(v) == ["a", "b", "keep-x", "zz-gone"]
    night = plan(v, group("a", 1, 1, 2), group("b", 1, 1, 2))
    actions = {r.nodegroup: (r.action, r.message) for r in night.rows}
    assert actions["keep-x"] == ("skipped", "no longer selected by the include/exclude patterns: only restored, "
                                            "never scaled")
    assert "zz-gone" not in actions  # deleted: nothing to do at night
    morning = plan(view(MORNING, names=("a", "keep-x", "b"), tags=tags), group("keep-x", 0, 0, 5))
    assert {r.nodegroup: r.action for r in morning.rows} == {
        "a": "none", "b": "none", "keep-x": "restore", "zz-gone": "clear-state"}


def test_by_hand_one_node_group_that_must_exist_and_be_selected() -> None:
    v = view(names=("general", "keep-x"), manual=Manual("down", "general"))
    assert planner.candidates(v) == ["general"]
    with pytest.raises(UnknownName, match=r"node group 'nope' not found in cluster shop-dev \(ap-south-1\); "
                                          "node groups: general, keep-x"):
        planner.candidates(view(names=("general", "keep-x"), manual=Manual("down", "nope")))
    with pytest.raises(UnknownName, match="node groups: none"):
        planner.candidates(view(names=(), manual=Manual("down", "nope")))
    with pytest.raises(BadInput, match="'keep-x' is not selected by cost.targets.dev.nodegroups"):
        planner.candidates(view(names=("general", "keep-x"), manual=Manual("down", "keep-x")))


def test_a_broken_saved_size_is_refused_naming_the_tag() -> None:
    v = view(tags={"devops.cost/general": "phase=down min=0 max=4 desired=0 " + SAVED_AT})
    assert only(plan(v)) == ("refused", "saved size 0/0/4 (min/desired/max) cannot be restored; "
                                        "fix or delete cluster tag devops.cost/general")


def test_the_plan_stops_at_the_first_node_group_it_has_not_seen() -> None:
    v = view(names=("a", "b", "c"))
    assert planner.reads_needed(v) == ["a", "b", "c"]
    p = plan(v, group("a", 1, 1, 2), group("c", 1, 1, 2))
    assert p.unread == "b" and [r.nodegroup for r in p.rows] == ["a"]
    assert plan(v, group("a", 1, 1, 2), group("b", 1, 1, 2), group("c", 1, 1, 2)).unread is None


# -- decisions ---------------------------------------------------------------------------------
def test_decide_by_hand_then_hold_then_force_up_then_schedule() -> None:
    holds = {"devops.cost.hold/general": "state=up until=2026-11-25T20:30:00Z",
             "devops.cost.hold/*": "state=down until=2026-11-26T06:30:00Z"}
    assert planner.decide(view(manual=Manual("up")), "general").reason == "by hand"
    assert planner.decide(view(tags=holds), "general").reason == "hold until 2026-11-25 20:30Z"
    assert planner.decide(view(tags=holds), "spot").state == "down"  # the cluster-wide hold
    forced = Target("dev", "shop-dev", "ap-south-1", SCHEDULE, force_up=True)
    assert planner.decide(view(target=forced), "general").reason == "force_up in config"
    assert planner.decide(view(), "general").state == "down"


def test_targets_left_alone_before_anything_is_read() -> None:
    prod = Target("live", "shop-live", "ap-south-1", SCHEDULE, production=True)
    row = planner.screen_target(prod, NIGHT, None)
    assert row is not None and (row.nodegroup, row.action, row.reason) == ("*", "skipped", "production")
    assert row.message == ("production cluster: set allow_production: true in cost.targets.live to let devops "
                           "cost scale it")
    allowed = Target("live", "shop-live", "ap-south-1", SCHEDULE, production=True, allow_production=True)
    assert planner.screen_target(allowed, NIGHT, None) is None
    excluded = Target("dev", "shop-dev", "ap-south-1", SCHEDULE, exclude_until="2026-11-26")
    row = planner.screen_target(excluded, NIGHT, None)
    assert row is not None and row.message == "excluded until 2026-11-26 (Asia/Kolkata)"
    assert planner.screen_target(excluded, NIGHT, Manual("down")) is None  # by hand it does not apply
    assert planner.screen_target(excluded, datetime(2026, 11, 25, 18, 30, tzinfo=UTC), None) is None  # over


def test_clusters_missing_or_opted_out() -> None:
    row = planner.missing_cluster(TARGET, UnknownName("EKS DescribeCluster shop-dev in ap-south-1: not found"))
    assert (row.action, row.message) == ("skipped", "EKS DescribeCluster shop-dev in ap-south-1: not found; "
                                                    "nothing to scale")
    tagged = Cluster("shop-dev", "ap-south-1", "arn", {"devops.cost.opt-out": "yes"})
    row = planner.screen_cluster(TARGET, tagged)
    assert row is not None and (row.reason, row.message) == ("opt-out", "cluster tagged devops.cost.opt-out=yes")
    assert planner.screen_cluster(TARGET, Cluster("shop-dev", "ap-south-1", "arn", {"devops.cost.opt-out": "no"})) is None


def test_holds_by_hand() -> None:
    until = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    state = ClusterState.from_tags({"devops.cost.hold/*": "state=up until=2026-11-26T00:00:00Z",
                                    "devops.cost.hold/spot": "state=up until=2026-11-26T00:00:00Z"})
    everything = planner.holds_by_hand(TARGET, state, Manual("down"))
    assert everything.remove == ("devops.cost.hold/*", "devops.cost.hold/spot") and not everything.set
    assert [r.message for r in everything.rows] == ["removed hold(s) *, spot"]
    spot = planner.holds_by_hand(TARGET, state, Manual("up", "spot", until))
    assert spot.remove == () and spot.set == {"devops.cost.hold/spot": "state=up until=2026-11-26T02:00:00Z"}
    assert [(r.nodegroup, r.message) for r in spot.rows] == [("spot", "schedule held up until 2026-11-26 02:00Z")]
    whole = planner.holds_by_hand(TARGET, state, Manual("up", None, until))
    assert whole.remove == ("devops.cost.hold/spot",) and list(whole.set) == ["devops.cost.hold/*"]
    assert planner.holds_by_hand(TARGET, ClusterState.from_tags({}), Manual("up")).rows == ()
