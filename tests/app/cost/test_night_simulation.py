"""The night-and-morning simulation (tests/support/nightsim.py): `devops cost` every 30 minutes
against a dev cluster with a simulated scheduler, EKS, Cluster Autoscaler, Karpenter and Argo CD.
Asserts the properties of docs/cost.md per autoscaler mode, never a duration of this machine:
no scheduled node through the night, every pod Ready within a bound of simulated minutes after the
morning edge, nothing left for Argo CD to revert, a killed run finished by the next one. Each
property has its control case: the node-groups-only schedule, which the simulated autoscalers do
undo, and a deleted sync window, which the simulated Argo CD does act on."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.fakes.platform import APPS
from tests.support.nightsim import (
    MODES,
    MORNING_EDGE,
    NIGHT_EDGE,
    NODE_BOOT,
    POD_START,
    RUN_EVERY,
    TERMINATE,
    Simulation,
    simulate,
)

# Every pod Ready this many simulated minutes after the morning edge: a node boots, the pods start.
BOUND = NODE_BOOT + POD_START + 1


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_has_no_scheduled_node_through_the_night_and_every_pod_ready_soon_after_the_edge(mode: str) -> None:
    always = simulate(mode, "always on")
    night = simulate(mode)
    assert always.node_hours == 24.0 and always.drift == []  # two nodes, twelve hours
    # Nodes only while the 20:00 run's removals drain; none from then to 08:00.
    assert night.zero_from is not None and night.zero_from <= TERMINATE
    assert night.node_hours <= 2 * TERMINATE / 60
    assert night.protected_node_hours == always.protected_node_hours == 12.0  # the system node stays up
    assert night.pending_pod_hours == 0  # the workloads went to zero: nothing Pending, no alert
    assert night.minutes_to_ready is not None and night.minutes_to_ready <= BOUND
    assert night.morning_launches == 2  # what the day needs, no churn
    assert night.drift == [] and night.argocd_reverts == 0 and night.failed_rows == 0


@pytest.mark.parametrize("mode", ["cluster-autoscaler", "karpenter"])
def test_control_a_schedule_of_node_groups_only_is_undone_by_the_autoscaler(mode: str) -> None:
    naive = simulate(mode, "node groups only")
    assert naive.zero_from is None  # scheduled nodes all night
    assert naive.node_hours >= 23.9
    if mode == "cluster-autoscaler":
        assert naive.autoscaler_scale_ups >= 1  # Pending pods brought the group straight back


def test_control_in_mode_none_node_groups_only_reach_zero_but_leave_pods_pending_all_night() -> None:
    naive = simulate("none", "node groups only")
    assert naive.zero_from is not None and naive.node_hours <= 2 * TERMINATE / 60
    assert naive.pending_pod_hours > 80  # seven pods, twelve hours: every pod alert fires


def _drop_window(sim: Simulation, minute: int) -> None:
    if sim.at(minute) == datetime.fromisoformat("2026-11-25T23:05:00+05:30"):
        project = sim.world.kube.find(APPS, "AppProject", "shop-dev", "argocd")
        assert project is not None
        project["spec"]["syncWindows"] = [w for w in project["spec"]["syncWindows"] if w["kind"] != "deny"]
        sim.world.kube.put(project)


@pytest.mark.parametrize("mode", MODES)
def test_control_without_the_sync_window_argo_cd_reverts_and_the_next_run_takes_the_night_back(mode: str) -> None:
    night = simulate(mode, tamper=_drop_window)
    assert night.argocd_reverts == 5  # the five workloads back to git's replicas
    assert 0 < night.pending_pod_hours <= 7 * RUN_EVERY / 60  # seven pods Pending until the next run, no more
    assert night.node_hours <= 2 * TERMINATE / 60  # the autoscaler stayed out of it: no node for them
    assert night.drift == [] and night.minutes_to_ready is not None and night.minutes_to_ready <= BOUND


NIGHT_STEPS = ["after-window", "after-suspend", "after-workloads"]


@pytest.mark.parametrize(("mode", "at", "step"), [
    *[(m, NIGHT_EDGE, s) for m in MODES for s in NIGHT_STEPS],
    *[(m, NIGHT_EDGE, "after-save") for m in ("none", "cluster-autoscaler")],
    *[(m, MORNING_EDGE, "after-scale-up") for m in ("none", "cluster-autoscaler")],
])
def test_a_run_killed_at_any_step_is_finished_by_the_next_and_loses_nothing(mode: str, at: datetime,
                                                                            step: str) -> None:
    night = simulate(mode, kill=(at, step))
    assert night.killed == [f"{at:%H:%M} {step}"]  # the kill happened
    assert night.drift == []  # every saved count, limit, tag and window came back
    if at == NIGHT_EDGE:
        # At most one run interval late: zero from the next run on.
        assert night.zero_from is not None and night.zero_from <= RUN_EVERY + TERMINATE
        assert night.minutes_to_ready is not None and night.minutes_to_ready <= BOUND
    else:
        assert night.zero_from is not None and night.zero_from <= TERMINATE
        assert night.minutes_to_ready is not None and night.minutes_to_ready <= RUN_EVERY + BOUND
