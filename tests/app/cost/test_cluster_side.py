"""The cost schedule's cluster side (devops/app/cost_cluster.py) through the reconciler, on the
in-memory EKS (node groups and their Auto Scaling groups) and Kubernetes API of tests/fakes:
what each autoscaler mode does at night and in the morning, in which order, that a second run
writes nothing, that a run killed at any step is finished by the next one without losing a
saved value, and that a failure keeps the capacity up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from devops.app.cost_reconcile import reconcile
from devops.domain.cost.cluster_state import DISCOVERY_TAG, LIMITS_ANNOTATION, REPLICAS_ANNOTATION
from devops.domain.cost.outcome import Manual, RunResult
from devops.domain.cost.target import Selector, Target, Workloads
from devops.domain.retry import RetryPolicy
from tests.app.cost.conftest import MORNING, NIGHT, target
from tests.fakes.platform import CLUSTER, Platform, platform

SUSPENDED = "devops.cost.suspended/" + DISCOVERY_TAG
QUICK = RetryPolicy(attempts=3, base_seconds=0, max_seconds=0)
SHOP = Workloads(namespaces=("shop", "monitoring"))


def dev(autoscaler: str = "cluster-autoscaler", **fields: Any) -> Target:
    fields.setdefault("workloads", SHOP)
    return target(autoscaler=autoscaler, nodegroups=Selector(exclude=("system",)), **fields)


class Killed(Exception):
    """A run "killed" at a checkpoint."""


def run(world: Platform, tgt: Target, at: datetime, *, kill_at: str | None = None, dry_run: bool = False,
        manual: Manual | None = None) -> RunResult:
    def checkpoint(step: str) -> None:
        if step == kill_at:
            raise Killed(step)

    return reconcile([tgt], at, world.eks.port, dry_run=dry_run, manual=manual, checkpoint=checkpoint,
                     readback=QUICK, sleep=lambda _s: None, cluster=world.ports())


def actions(result: RunResult) -> list[tuple[str, str, str]]:
    return [(o.kind, o.name, o.action) for o in result.cluster if o.action != "none"]


def state(world: Platform) -> dict[str, Any]:
    """Everything a night changes and a morning must put back."""
    from tests.fakes.platform import SHOP as APPS

    return {
        "sizes": {g: world.eks.size(CLUSTER, g) for g in world.eks.clusters[("ap-south-1", CLUSTER)].groups},
        "asg": {g: world.eks.asg_tags(CLUSTER, g) for g in world.eks.clusters[("ap-south-1", CLUSTER)].groups},
        "replicas": {f"{ns}/{name}": world.replicas(ns, kind, name) for _, _, _, kind, ns, name, _ in APPS},
        "windows": {p: world.windows(p) for p in ("shop-dev", "cluster-dev")},
        "limits": world.limits() if world.kube.find("karpenter.sh/v1", "NodePool", "default") else {},
    }


def test_cluster_autoscaler_night_suspends_the_group_then_scales_workloads_and_nodes_to_zero() -> None:
    world = platform()
    result = run(world, dev(), NIGHT)
    assert actions(result) == [
        ("SyncWindow", "shop-dev", "window-on"),
        ("AutoScalingGroup", world.eks.clusters[("ap-south-1", CLUSTER)].groups["general"].asg_name, "suspend"),
        ("StatefulSet", "shop/mongodb", "scale-down"),
        ("Deployment", "shop/cart", "scale-down"),
        ("Deployment", "shop/frontend", "scale-down"),
        ("Deployment", "shop/order", "scale-down"),
        ("Deployment", "monitoring/grafana", "scale-down"),
    ]
    assert world.eks.size(CLUSTER, "general") == (0, 0, 3)
    assert world.eks.size(CLUSTER, "system") == (1, 1, 2)  # protected: untouched
    general, system = world.eks.asg_tags(CLUSTER, "general"), world.eks.asg_tags(CLUSTER, "system")
    assert DISCOVERY_TAG not in general and general[SUSPENDED] == "true"
    assert system[DISCOVERY_TAG] == "true" and SUSPENDED not in system
    cart = world.kube.find("apps/v1", "Deployment", "cart", "shop")
    assert cart["spec"]["replicas"] == 0 and cart["metadata"]["annotations"][REPLICAS_ANNOTATION].startswith(
        "replicas=2 at=2026-11-25T17:30:00Z schedule=office-hours")
    [team, ours] = world.windows("shop-dev")
    assert team["description"] == "a window of the team's, kept"
    assert ours["kind"] == "deny" and ours["schedule"] == "* * * * *" and ours["manualSync"] is False
    assert ours["applications"] == ["cart-dev", "frontend-dev", "grafana-dev", "mongodb-dev", "order-dev"]
    assert world.windows("cluster-dev") == []
    # Order: the window before anything Argo CD would undo, the autoscaler before the workloads,
    # the workloads before the nodes.
    writes = [w for w in world.eks.log if w[0] in ("CreateOrUpdateTags", "DeleteTags", "UpdateNodegroupConfig")]
    assert [w[0] for w in writes] == ["CreateOrUpdateTags", "DeleteTags", "UpdateNodegroupConfig"]
    assert world.kube.writes[0] == ("patch", "AppProject argocd/shop-dev")


def test_a_second_run_at_night_writes_nothing() -> None:
    world = platform()
    run(world, dev(), NIGHT)
    kube_writes, eks_writes = len(world.kube.writes), world.eks.writes
    again = run(world, dev(), NIGHT)
    assert actions(again) == []
    assert len(world.kube.writes) == kube_writes and world.eks.writes == eks_writes


def test_the_morning_restores_capacity_then_the_autoscaler_then_workloads_by_wave_then_drops_the_window() -> None:
    world = platform()
    before = state(world)
    run(world, dev(), NIGHT)
    writes_at_night = len(world.kube.writes)
    result = run(world, dev(), MORNING)
    assert state(world) == before
    group = world.eks.clusters[("ap-south-1", CLUSTER)].groups["general"].asg_name
    assert actions(result) == [
        ("AutoScalingGroup", group, "resume"),
        ("StatefulSet", "shop/mongodb", "restore"),  # wave -1, StatefulSets first within a wave
        ("Deployment", "monitoring/grafana", "restore"),  # wave -1
        ("Deployment", "shop/cart", "restore"),  # wave 0
        ("Deployment", "shop/order", "restore"),
        ("Deployment", "shop/frontend", "restore"),  # wave 1
        ("SyncWindow", "shop-dev", "window-off"),
    ]
    log = [w[0] for w in world.eks.log if w[0] in ("CreateOrUpdateTags", "DeleteTags", "UpdateNodegroupConfig")]
    assert log[-3:] == ["UpdateNodegroupConfig", "CreateOrUpdateTags", "DeleteTags"]  # nodes, then the tag
    assert world.kube.writes[-1] == ("patch", "AppProject argocd/shop-dev")
    assert len(world.kube.writes) == writes_at_night + 6
    quiet = run(world, dev(), MORNING)
    assert actions(quiet) == []


def test_karpenter_night_limits_the_nodepool_to_zero_and_drains_its_nodeclaims_and_the_morning_restores() -> None:
    world = platform(karpenter=True)
    before = state(world)
    night = run(world, dev("karpenter"), NIGHT)
    assert ("NodePool", "default", "scale-down") in actions(night)
    assert [a for a in actions(night) if a[0] == "NodeClaim"] == [("NodeClaim", "default-a1", "drain"),
                                                                   ("NodeClaim", "default-b2", "drain")]
    assert world.limits() == {"cpu": "0", "memory": "0"}
    pool = world.kube.find("karpenter.sh/v1", "NodePool", "default")
    assert pool["metadata"]["annotations"][LIMITS_ANNOTATION] == '{"cpu": "16", "memory": "64Gi"}'
    assert all(c["metadata"]["deletionTimestamp"] for c in world.kube.all("karpenter.sh/v1", "NodeClaim"))
    # Argo CD would put the limits back: karpenter-nodes-dev is held by a window of its project.
    assert world.windows("cluster-dev")[0]["applications"] == ["karpenter-nodes-dev"]
    assert not any(a[0] == "AutoScalingGroup" for a in actions(night))  # no Cluster Autoscaler here
    # Karpenter drained one node meanwhile (its finalizer gone); the next night run deletes nothing.
    world.kube.remove("karpenter.sh/v1", "NodeClaim", "default-a1")
    again = run(world, dev("karpenter"), NIGHT)
    assert actions(again) == []
    run(world, dev("karpenter"), MORNING)
    after = state(world)
    assert after == before
    assert LIMITS_ANNOTATION not in (world.kube.find("karpenter.sh/v1", "NodePool", "default")["metadata"]
                                     .get("annotations") or {})


STEPS = ["after-window", "after-suspend", "after-workloads", "after-save"]


@pytest.mark.parametrize("step", STEPS)
def test_a_night_killed_at_any_step_is_finished_by_the_next_run_and_the_morning_restores_everything(step: str) -> None:
    world = platform()
    before = state(world)
    with pytest.raises(Killed):
        run(world, dev(), NIGHT, kill_at=step)
    run(world, dev(), NIGHT)
    clean = platform()
    run(clean, dev(), NIGHT)
    assert state(world) == state(clean)  # the same night as an uninterrupted run
    run(world, dev(), MORNING)
    assert state(world) == before


@pytest.mark.parametrize("step", ["after-scale-up"])
def test_a_morning_killed_after_the_nodes_is_finished_by_the_next_run(step: str) -> None:
    world = platform()
    before = state(world)
    run(world, dev(), NIGHT)
    with pytest.raises(Killed):
        run(world, dev(), MORNING, kill_at=step)
    assert world.replicas("shop", "Deployment", "cart") == 0  # killed before the workloads
    run(world, dev(), MORNING)
    assert state(world) == before


def test_a_tag_move_cut_between_its_two_calls_loses_nothing() -> None:
    world = platform()
    before = state(world)
    world.eks.fail("DeleteTags", 1)
    failed = run(world, dev(), NIGHT)
    assert ("AutoScalingGroup", "failed") in [(o.kind, o.action) for o in failed.cluster]
    tags = world.eks.asg_tags(CLUSTER, "general")
    assert tags[SUSPENDED] == "true" and tags[DISCOVERY_TAG] == "true"  # copied, not yet removed
    assert world.eks.size(CLUSTER, "general") == (1, 2, 3)  # fail closed: the nodes stay up
    assert world.replicas("shop", "Deployment", "cart") == 2
    [held] = [o for o in failed.outcomes if o.nodegroup == "general"]
    assert held.action == "skipped" and "cluster side" in held.message
    run(world, dev(), NIGHT)
    assert DISCOVERY_TAG not in world.eks.asg_tags(CLUSTER, "general")
    assert world.eks.size(CLUSTER, "general") == (0, 0, 3)
    run(world, dev(), MORNING)
    assert state(world) == before


def test_an_unreachable_api_keeps_the_capacity_up_and_fails_the_run() -> None:
    world = platform()
    world.kube.fail_next("list", 1)
    result = run(world, dev(), NIGHT)
    assert [o.action for o in result.cluster] == ["failed"] and "503" in result.cluster[0].message
    assert world.eks.size(CLUSTER, "general") == (1, 2, 3)
    assert world.eks.writes == 0 and world.kube.writes == []


def test_a_workload_changed_between_read_and_write_is_a_conflict_for_the_next_run() -> None:
    world = platform()
    kube = world.ports().kube_for(dev())
    original = kube.patch

    def racing_patch(api_version: str, kind: str, name: str, patch: Any, **kwargs: Any) -> Any:
        if kind == "Deployment" and name == "cart":
            world.kube.put(world.kube.find("apps/v1", "Deployment", "cart", "shop"))  # someone else wrote it
        return original(api_version, kind, name, patch, **kwargs)

    kube.patch = racing_patch  # type: ignore[method-assign]
    world_ports = world.ports()
    result = reconcile([dev()], NIGHT, world.eks.port, checkpoint=lambda _s: None, sleep=lambda _s: None,
                       cluster=type(world_ports)(lambda _t: kube, world_ports.asg_for))
    failed = [o for o in result.cluster if o.action == "failed"]
    assert [(o.kind, o.name) for o in failed] == [("Deployment", "shop/cart")] and "409" in failed[0].message
    assert world.eks.size(CLUSTER, "general") == (1, 2, 3)
    run(world, dev(), NIGHT)
    assert world.replicas("shop", "Deployment", "cart") == 0


def test_a_workload_scaled_up_by_hand_at_night_goes_down_again_keeping_the_saved_count() -> None:
    world = platform()
    run(world, dev(), NIGHT)
    cart = world.kube.find("apps/v1", "Deployment", "cart", "shop")
    cart["spec"]["replicas"] = 1
    world.kube.put(cart)
    again = run(world, dev(), NIGHT)
    assert actions(again) == [("Deployment", "shop/cart", "scale-down")]
    run(world, dev(), MORNING)
    assert world.replicas("shop", "Deployment", "cart") == 2


def test_opted_out_and_excluded_workloads_are_left_alone_and_nothing_zero_is_saved() -> None:
    world = platform()
    grafana = world.kube.find("apps/v1", "Deployment", "grafana", "monitoring")
    grafana["metadata"]["labels"]["devops.cost.opt-out"] = "true"
    world.kube.put(grafana)
    order = world.kube.find("apps/v1", "Deployment", "order", "shop")
    order["spec"]["replicas"] = 0
    world.kube.put(order)
    result = run(world, dev(workloads=Workloads(("shop", "monitoring"), exclude=("shop/front*",))), NIGHT)
    rows = {(o.kind, o.name): o for o in result.cluster}
    assert rows[("Deployment", "monitoring/grafana")].action == "skipped"
    assert ("Deployment", "shop/frontend") not in rows
    assert rows[("Deployment", "shop/order")].action == "none"
    assert world.replicas("monitoring", "Deployment", "grafana") == 1
    assert world.replicas("shop", "Deployment", "frontend") == 2
    assert REPLICAS_ANNOTATION not in (world.kube.find("apps/v1", "Deployment", "order", "shop")["metadata"]
                                       .get("annotations") or {})
    assert "grafana-dev" not in world.windows("shop-dev")[-1]["applications"]


def test_a_dry_run_reads_and_plans_but_writes_nothing() -> None:
    world = platform()
    result = run(world, dev(), NIGHT, dry_run=True)
    assert ("Deployment", "shop/cart", "scale-down") in actions(result)
    assert all("(dry run)" in o.message for o in result.cluster if o.action != "none")
    assert world.kube.writes == [] and world.eks.writes == 0


def test_without_an_autoscaler_workloads_still_go_down_but_no_auto_scaling_group_is_read() -> None:
    world = platform()
    result = run(world, dev("none"), NIGHT)
    assert not any(o.kind == "AutoScalingGroup" for o in result.cluster)
    assert world.eks.calls["DescribeAutoScalingGroups"] == 0
    assert world.replicas("shop", "Deployment", "cart") == 0
    assert DISCOVERY_TAG in world.eks.asg_tags(CLUSTER, "general")


def test_one_node_group_by_hand_leaves_the_cluster_side_alone() -> None:
    world = platform()
    result = run(world, dev(), NIGHT, manual=Manual("down", "general"))
    assert result.cluster == []
    assert world.eks.size(CLUSTER, "general") == (0, 0, 3)
    assert world.replicas("shop", "Deployment", "cart") == 2
