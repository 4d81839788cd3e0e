"""The `EksPort` (devops/app/cost_reconcile.py): the same assertions against the in-memory fake
(tests/fakes/eks.py) and the real adapter (devops/adapters/aws/eks.py) on a moto server, so
what the use-case tests of tests/app/cost learn from the fake holds for EKS. The real side is
marked slow (not in `nox -s unit`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest

from devops.app.cost_reconcile import EksPort
from devops.domain.cost.nodegroups import Size
from devops.errors import ExternalError, UnknownName
from tests.fakes.eks import EksWorld

REGION = "ap-south-1"
ROLE = "arn:aws:iam::123456789012:role/eks-nodes"


@dataclass
class Side:
    port: EksPort
    # cluster(name, {nodegroup: (min, desired, max)}, tags=, ng_tags=): set up through the back door
    cluster: Callable[..., None]
    calls: Callable[[], Mapping[str, int]]


def _fake() -> Side:
    world = EksWorld()

    def cluster(name: str, groups: Mapping[str, tuple[int, int, int]], **kwargs: object) -> None:
        world.cluster(name, groups, **kwargs)  # type: ignore[arg-type]

    return Side(world.port(REGION), cluster, lambda: dict(world.calls))


def _real() -> Side:
    import boto3

    from devops.adapters.aws.eks import CallCounter, EksAdapter

    raw = boto3.client("eks", region_name=REGION)

    def cluster(name: str, groups: Mapping[str, tuple[int, int, int]], *, tags: Mapping[str, str] | None = None,
                ng_tags: Mapping[str, Mapping[str, str]] | None = None, instance_type: str = "t3.medium") -> None:
        raw.create_cluster(name=name, roleArn=ROLE, resourcesVpcConfig={"subnetIds": ["subnet-1"]},
                           tags=dict(tags or {"team": "platform"}))
        for group, (lo, desired, hi) in groups.items():
            raw.create_nodegroup(clusterName=name, nodegroupName=group, nodeRole=ROLE, subnets=["subnet-1"],
                                 scalingConfig={"minSize": lo, "desiredSize": desired, "maxSize": hi},
                                 instanceTypes=[instance_type],
                                 tags=dict((ng_tags or {}).get(group, {"team": "platform"})))

    counter = CallCounter()
    return Side(EksAdapter(REGION, counter), cluster, lambda: dict(counter.calls))


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def side(request: pytest.FixtureRequest) -> Iterator[Side]:
    if request.param == "fake":
        yield _fake()
        return
    request.getfixturevalue("aws_env")
    yield _real()


def test_describe_cluster_gives_its_tags_and_arn(side: Side) -> None:
    side.cluster("shop-dev", {"general": (2, 3, 5)}, tags={"team": "platform", "devops.cost/x": "phase=down"})
    cluster = side.port.describe_cluster("shop-dev")
    assert (cluster.name, cluster.region) == ("shop-dev", REGION)
    assert cluster.arn.startswith(f"arn:aws:eks:{REGION}:") and cluster.arn.endswith(":cluster/shop-dev")
    assert cluster.tags == {"team": "platform", "devops.cost/x": "phase=down"}
    assert side.calls() == {"DescribeCluster": 1}


def test_node_groups_are_listed_sorted_and_described(side: Side) -> None:
    side.cluster("shop-dev", {"spot": (1, 1, 4), "general": (2, 3, 5), "batch": (0, 0, 2)},
                 ng_tags={"spot": {"devops.cost.opt-out": "true"}}, instance_type="m5.large")
    assert side.port.list_nodegroups("shop-dev") == ["batch", "general", "spot"]
    group = side.port.describe_nodegroup("shop-dev", "general")
    assert (group.cluster, group.name, group.size) == ("shop-dev", "general", Size(2, 5, 3))
    assert group.instance_types == ("m5.large",)
    assert group.status == "ACTIVE" and group.capacity_type == "ON_DEMAND"
    assert side.port.describe_nodegroup("shop-dev", "spot").tags == {"devops.cost.opt-out": "true"}
    assert side.calls() == {"ListNodegroups": 1, "DescribeNodegroup": 2}


def test_what_does_not_exist_is_unknown_name_naming_the_call(side: Side) -> None:
    side.cluster("shop-dev", {"general": (2, 3, 5)})
    with pytest.raises(UnknownName, match=f"^EKS DescribeCluster nope in {REGION}: not found$"):
        side.port.describe_cluster("nope")
    with pytest.raises(UnknownName, match=f"^EKS DescribeNodegroup shop-dev/nope in {REGION}: not found$"):
        side.port.describe_nodegroup("shop-dev", "nope")
    # (ListNodegroups of a cluster that does not exist is not asserted: moto answers it with a 500
    # where EKS says ResourceNotFoundException; the reconciler lists only a cluster it described.)


def test_update_scaling_sets_the_size_and_refuses_inconsistent_ones(side: Side) -> None:
    side.cluster("shop-dev", {"general": (2, 3, 5)})
    update = side.port.update_scaling("shop-dev", "general", Size(0, 5, 0))
    assert isinstance(update, str)
    assert side.port.describe_nodegroup("shop-dev", "general").size == Size(0, 5, 0)
    with pytest.raises(ExternalError, match="refusing to set shop-dev/general to min/desired/max 2/1/3: inconsistent"):
        side.port.update_scaling("shop-dev", "general", Size(2, 3, 1))
    assert side.calls()["UpdateNodegroupConfig"] == 1  # refused before any call
    # Control: a consistent size is accepted.
    side.port.update_scaling("shop-dev", "general", Size(1, 6, 2))
    assert side.port.describe_nodegroup("shop-dev", "general").size == Size(1, 6, 2)


def test_cluster_tags_are_set_in_one_call_and_removed_one_key_per_call(side: Side) -> None:
    side.cluster("shop-dev", {"general": (2, 3, 5)})
    cluster = side.port.describe_cluster("shop-dev")
    side.port.tag_cluster(cluster, {"devops.cost/general": "phase=saving min=2", "devops.cost.hold/*": "state=up"})
    side.port.tag_cluster(cluster, {})  # nothing to set: no call
    assert side.port.describe_cluster("shop-dev").tags == {
        "team": "platform", "devops.cost/general": "phase=saving min=2", "devops.cost.hold/*": "state=up"}
    side.port.untag_cluster(cluster, ["devops.cost/general", "devops.cost.hold/*"])
    side.port.untag_cluster(cluster, [])
    assert side.port.describe_cluster("shop-dev").tags == {"team": "platform"}
    calls = side.calls()
    assert (calls["TagResource"], calls["UntagResource"]) == (1, 2)


def test_a_value_replaces_the_tag_it_names(side: Side) -> None:
    side.cluster("shop-dev", {"general": (2, 3, 5)})
    cluster = side.port.describe_cluster("shop-dev")
    side.port.tag_cluster(cluster, {"devops.cost/general": "phase=saving"})
    side.port.tag_cluster(cluster, {"devops.cost/general": "phase=down"})
    assert side.port.describe_cluster("shop-dev").tags["devops.cost/general"] == "phase=down"
