"""`devops cluster status` (devops/app/cluster_status.py) on the in-memory EKS and Kubernetes API
of tests/fakes: Applications by wave, node groups with sizes, nodes and protection, what the cost
schedule saved and holds (a night of tests/support/nightsim.py), Karpenter's NodePools."""

from __future__ import annotations

from typing import Any

from devops.app.cluster_status import StatusPorts, status
from devops.config.model import Config
from tests.app.config import make_config
from tests.fakes.kube import FakeKube
from tests.fakes.platform import CLUSTER, REGION
from tests.support.nightsim import NIGHT_EDGE, Simulation


def config(autoscaler: str) -> Config:
    return make_config(environments={"dev": {
        "url": "https://dev.example.com", "cluster": {"name": CLUSTER, "region": REGION, "autoscaler": autoscaler},
        "gitops": {"path": "gitops/environments/dev"}}})


def node(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


def run(sim: Simulation, autoscaler: str) -> Any:
    kube = FakeKube(sim.world.kube)  # type: ignore[arg-type]
    return status(config(autoscaler), "dev", StatusPorts(sim.world.eks.port(REGION), lambda: kube))


def test_status_by_day_lists_applications_by_wave_and_node_groups_with_their_nodes() -> None:
    sim = Simulation("cluster-autoscaler")
    sim.world.kube.put(node("ip-1", **{"eks.amazonaws.com/nodegroup": "system"}))
    for name in ("ip-2", "ip-3"):
        sim.world.kube.put(node(name, **{"eks.amazonaws.com/nodegroup": "general"}))
    found = run(sim, "cluster-autoscaler")
    assert found.autoscaler == "cluster-autoscaler" and found.ready
    assert [(a.name, a.wave) for a in found.applications][:2] == [("grafana-dev", "-1"), ("mongodb-dev", "-1")]
    groups = {g.name: g for g in found.nodegroups}
    assert (groups["general"].min, groups["general"].desired, groups["general"].max) == (1, 2, 3)
    assert groups["general"].nodes == 2 and not groups["general"].protected and groups["general"].saved == ""
    assert groups["system"].protected and groups["system"].nodes == 1
    assert found.protected == ["system"] and found.cost_windows == [] and found.nodepools == []


def test_status_at_night_shows_the_saved_size_the_held_window_and_the_nodepool_at_zero() -> None:
    sim = Simulation("karpenter")
    sim.minute = int((NIGHT_EDGE - sim.at(0)).total_seconds() // 60)
    sim.cost_run()
    found = run(sim, "karpenter")
    assert found.cost_windows == ["cluster-dev: karpenter-nodes-dev",
                                  "shop-dev: cart-dev, frontend-dev, grafana-dev, mongodb-dev, order-dev"]
    [pool] = found.nodepools
    assert pool.limits == {"cpu": "0", "memory": "0"} and pool.saved == {"cpu": "16", "memory": "64Gi"}

    sim = Simulation("cluster-autoscaler")
    sim.minute = int((NIGHT_EDGE - sim.at(0)).total_seconds() // 60)
    sim.cost_run()
    general = {g.name: g for g in run(sim, "cluster-autoscaler").nodegroups}["general"]
    assert (general.min, general.desired) == (0, 0) and general.saved.startswith("1/2/3 (down since")
