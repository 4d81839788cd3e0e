"""The cluster side's rules (devops/domain/cost/cluster_state.py) on the cases the reconciler's
tests do not reach: unreadable saved values, objects no Application tracks, the hand-scaled
workload in the morning, a pool whose limits are restored from nothing saved, the tag move
already done, the windows devops cost holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devops.domain.cost import cluster_state as rules

AT = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)


def test_the_application_of_an_object_by_tracking_annotation_or_instance_label() -> None:
    tracked = {"metadata": {"annotations": {rules.TRACKING_ANNOTATION: "cart-dev:apps/Deployment:shop/cart"}}}
    labelled = {"metadata": {"labels": {rules.INSTANCE_LABEL: "cart-dev"}}}
    assert rules.application_of(tracked) == rules.application_of(labelled) == "cart-dev"
    assert rules.application_of({"metadata": {}}) is None
    assert rules.application_of({"metadata": {"annotations": {rules.TRACKING_ANNOTATION: "no-colon"}}}) is None


@pytest.mark.parametrize(("raw", "message"), [
    ("replicas=two at=2026-11-25T14:30:00Z", "not a saved replica count"),
    ("at=2026-11-25T14:30:00Z", "not a saved replica count"),
    ("replicas=0 at=2026-11-25T14:30:00Z", "saved replica count 0 cannot be restored"),
])
def test_an_unreadable_saved_count_is_reported_and_never_acted_on(raw: str, message: str) -> None:
    obj = {"kind": "Deployment", "metadata": {"name": "cart", "namespace": "shop",
                                              "annotations": {rules.REPLICAS_ANNOTATION: raw}}, "spec": {}}
    workload = rules.Workload.of(obj, "devops.cost.opt-out")
    assert message in workload.broken and workload.replicas == 1  # no replicas: Kubernetes' default 1
    assert rules.workload_change(workload, "down", AT, "s") is None
    assert rules.workload_change(workload, "up", AT, "s") is None


def test_a_saved_count_round_trips_and_a_hand_scaled_workload_keeps_its_count_in_the_morning() -> None:
    saved = rules.SavedReplicas(3, AT, "office-hours")
    assert rules.SavedReplicas.decode(saved.encode()) == saved
    scaled = rules.Workload("Deployment", "shop", "cart", 5, "7", saved)
    change = rules.workload_change(scaled, "up", AT, "office-hours")
    assert change is not None and change.action == "clear-state"
    assert change.patch == {"metadata": {"annotations": {rules.REPLICAS_ANNOTATION: None}}}
    assert rules.workload_change(rules.Workload("Deployment", "shop", "cart", 2, "7"), "up", AT, "s") is None


def test_nodepool_limits_unreadable_saved_or_restored_to_none() -> None:
    broken = rules.NodePool.of({"metadata": {"name": "default", "annotations": {rules.LIMITS_ANNOTATION: "[1]"}},
                                "spec": {"limits": {"cpu": "0"}}})
    assert "not a JSON object of limits" in broken.broken
    assert rules.nodepool_change(broken, "down") is None and rules.nodepool_change(broken, "up") is None
    # Saved with no limits at all (a pool that had none): the morning removes the night's limits.
    unlimited = rules.NodePool("default", {"cpu": "0"}, "3", saved={})
    change = rules.nodepool_change(unlimited, "up")
    assert change is not None and change.patch["spec"] == {"limits": None}
    assert rules.nodepool_change(rules.NodePool("default", {"cpu": "16"}, "3"), "up") is None
    assert rules.nodepool_change(rules.NodePool("default", {"cpu": "0", "memory": "0Gi"}, "3"), "down") is None


def test_the_discovery_tag_move_resumes_where_a_killed_run_stopped() -> None:
    group = rules.AutoScalingGroup("asg", "general", 0, 3, 0, {rules.DISCOVERY_TAG: "true"})
    both = rules.AutoScalingGroup("asg", "general", 0, 3, 0, {rules.DISCOVERY_TAG: "true",
                                                              group.suspended_key: "true"})
    first, resumed = rules.discovery_change(group, "down"), rules.discovery_change(both, "down")
    assert first is not None and first.set == {group.suspended_key: "true"}
    assert resumed is not None and resumed.set == {} and list(resumed.delete) == [rules.DISCOVERY_TAG]
    moved = rules.AutoScalingGroup("asg", "general", 0, 3, 0, {group.suspended_key: "true"})
    assert rules.discovery_change(moved, "down") is None
    assert rules.discovery_change(group, "up") is None


def test_the_windows_devops_cost_holds() -> None:
    mine = rules.deny_window("dev", ["b", "a", "a"])
    team = {"kind": "allow", "schedule": "0 6 * * *", "duration": "1h", "description": "the team's"}
    project = {"spec": {"syncWindows": [team, mine]}}
    assert mine["applications"] == ["a", "b"]
    assert rules.cost_windows(project) == [mine]
    assert rules.windows_with(project, "dev", ["a"]) is None  # already held
    assert rules.windows_with(project, "dev", ["c"]) == [team, rules.deny_window("dev", ["a", "b", "c"])]
    assert rules.windows_without(project, "dev") == [team]
    assert rules.windows_without({"spec": {"syncWindows": [team]}}, "dev") is None


def test_a_run_result_counts_the_cluster_side_changes() -> None:
    from devops.domain.cost.outcome import RunResult

    def row(action: rules.ClusterAction) -> rules.ClusterOutcome:
        return rules.ClusterOutcome("dev", "c", "Deployment", "shop/cart", "down", action)

    result = RunResult(AT, False, cluster=[row("scale-down"), row("none"), row("failed"), row("window-on")])
    assert [o.action for o in result.cluster_changed] == ["scale-down", "window-on"]
    assert [o.action for o in result.cluster_having("failed")] == ["failed"]
