"""The `AsgPort` (devops/app/cost_cluster.py): the same assertions against the in-memory fake
(tests/fakes/eks.py FakeAsg) and the real adapter (devops/adapters/aws/autoscaling.py) on moto
server's Auto Scaling, with groups tagged as EKS tags a managed node group's group (cluster and
node group names, Cluster Autoscaler's discovery tags). The real side is marked slow."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from devops.app.cost_cluster import AsgPort
from tests.fakes.eks import EksWorld

REGION = "ap-south-1"
DISCOVERY = "k8s.io/cluster-autoscaler/enabled"


@dataclass
class Side:
    port: AsgPort
    # cluster(name, {nodegroup: (min, desired, max)}) -> {nodegroup: group name}
    cluster: Callable[[str, dict[str, tuple[int, int, int]]], dict[str, str]]


def _fake() -> Side:
    world = EksWorld()

    def cluster(name: str, groups: dict[str, tuple[int, int, int]]) -> dict[str, str]:
        made = world.cluster(name, groups, region=REGION)
        return {ng: g.asg_name for ng, g in made.groups.items()}

    return Side(world.asg_port(REGION), cluster)


def _real() -> Side:
    import boto3

    from devops.adapters.aws.autoscaling import AsgAdapter

    raw = boto3.client("autoscaling", region_name=REGION)
    raw.create_launch_configuration(LaunchConfigurationName="eks-nodes", ImageId="ami-12c6146b",
                                    InstanceType="t3.medium")

    def cluster(name: str, groups: dict[str, tuple[int, int, int]]) -> dict[str, str]:
        names = {}
        for ng, (lo, desired, hi) in groups.items():
            group = f"eks-{ng}-{name}"
            tags = {"eks:cluster-name": name, "eks:nodegroup-name": ng, DISCOVERY: "true",
                    f"k8s.io/cluster-autoscaler/{name}": "owned"}
            raw.create_auto_scaling_group(
                AutoScalingGroupName=group, LaunchConfigurationName="eks-nodes", MinSize=lo, MaxSize=hi,
                DesiredCapacity=desired, AvailabilityZones=[f"{REGION}a"],
                Tags=[{"Key": k, "Value": v, "PropagateAtLaunch": True} for k, v in tags.items()])
            names[ng] = group
        return names

    return Side(AsgAdapter(REGION), cluster)


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "real":
        request.getfixturevalue("aws_env")
        return _real()
    return _fake()


def test_groups_of_a_cluster_with_their_sizes_and_discovery_tags(side: Side) -> None:
    names = side.cluster("techitfactory-dev", {"general": (1, 2, 3), "system": (1, 1, 2)})
    side.cluster("other", {"general": (0, 0, 1)})
    found = side.port.groups("techitfactory-dev")
    assert [(g.name, g.nodegroup, g.min, g.desired, g.max) for g in found] == [
        (names["general"], "general", 1, 2, 3), (names["system"], "system", 1, 1, 2)]
    assert all(g.tags[DISCOVERY] == "true" and g.tags["k8s.io/cluster-autoscaler/techitfactory-dev"] == "owned"
               for g in found)
    assert side.port.groups("nope") == []


def test_moving_the_discovery_tag_aside_and_back(side: Side) -> None:
    names = side.cluster("techitfactory-dev", {"general": (1, 2, 3)})
    group = names["general"]
    side.port.set_tags(group, {"devops.cost.suspended/" + DISCOVERY: "true"})
    side.port.delete_tags(group, [DISCOVERY])
    [found] = side.port.groups("techitfactory-dev")
    assert DISCOVERY not in found.tags and found.tags["devops.cost.suspended/" + DISCOVERY] == "true"
    side.port.delete_tags(group, [DISCOVERY])  # absent already: no error
    side.port.set_tags(group, {DISCOVERY: "true"})
    side.port.delete_tags(group, ["devops.cost.suspended/" + DISCOVERY])
    [found] = side.port.groups("techitfactory-dev")
    assert found.tags[DISCOVERY] == "true" and not any(k.startswith("devops.cost") for k in found.tags)
