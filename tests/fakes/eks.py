"""EKS in memory, as `devops cost` sees it: clusters with tags, managed node groups with a
scaling config, a status and tags; and `FakeEks`, the `EksPort` of devops/app/cost_reconcile.py
on it, one per region like the real adapter (devops/adapters/aws/eks.py).

It answers as the adapter does on moto or AWS (tests/contract/test_eks.py runs the same
assertions against both): UnknownName naming the call for what does not exist, ExternalError
for an inconsistent size before any call, one TagResource call per non-empty tagging, one
UntagResource call per key, node groups listed sorted; and it counts calls per operation
under AWS's operation names (`calls`, `attempts`) as the adapter's CallCounter does.

Faults are injected, never simulated by the code under test: `fail(op, n, on=...)` makes the
next n calls of an operation (on that cluster or `cluster/nodegroup`) raise ExternalError as a
5xx does after botocore's retries, `lie`
makes DescribeNodegroup show desired+1 (and optionally another status) after an update, as
EKS still applying it or not doing it.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from devops.domain.cost.cluster_state import AutoScalingGroup
from devops.domain.cost.nodegroups import Cluster, Nodegroup, Size
from devops.errors import ExternalError, UnknownName

ACCOUNT = "123456789012"  # moto's account id, so ARNs agree with the real side


@dataclass
class FakeGroup:
    size: Size
    instance_types: tuple[str, ...] = ("t3.medium",)
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    labels: dict[str, str] = field(default_factory=dict)
    # The Auto Scaling group EKS made for it: its tags (EKS puts Cluster Autoscaler's discovery
    # tags on every one); its size is the node group's, as EKS keeps them equal.
    asg_name: str = ""
    asg_tags: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeCluster:
    name: str
    region: str
    tags: dict[str, str] = field(default_factory=dict)
    groups: dict[str, FakeGroup] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{ACCOUNT}:cluster/{self.name}"


@dataclass
class EksWorld:
    """Every region's clusters, what was called, and the faults to inject."""

    clusters: dict[tuple[str, str], FakeCluster] = field(default_factory=dict)  # (region, name) ->
    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    # Every call as (operation, argument), in order: what a test can assert about the phases.
    log: list[tuple[str, str]] = field(default_factory=list)
    failing: dict[str, tuple[int, str]] = field(default_factory=dict)  # operation -> (count, on)
    # After an update, DescribeNodegroup shows desired+1 (EKS did not do it, or not yet) ...
    lie: bool = False
    # ... with this status (UPDATING: still applying it).
    lie_status: str | None = None
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def cluster(self, name: str, nodegroups: Mapping[str, tuple[int, int, int]], *, region: str = "ap-south-1",
                tags: Mapping[str, str] | None = None, ng_tags: Mapping[str, Mapping[str, str]] | None = None,
                instance_type: str = "t3.medium") -> FakeCluster:
        """A cluster with node groups given as (min, desired, max), like tests/cost/conftest.py's."""
        found = FakeCluster(name, region, dict(tags or {"team": "platform"}))
        for group, (lo, desired, hi) in nodegroups.items():
            found.groups[group] = FakeGroup(
                Size(lo, hi, desired), (instance_type,), dict((ng_tags or {}).get(group, {"team": "platform"})),
                asg_name=f"eks-{group}-{next(self._ids):04d}",
                asg_tags={"eks:cluster-name": name, "eks:nodegroup-name": group,
                          "k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{name}": "owned"})
        self.clusters[(region, name)] = found
        return found

    def size(self, name: str, group: str, region: str = "ap-south-1") -> tuple[int, int, int]:
        """(min, desired, max), as the tests of tests/cost read them."""
        size = self.clusters[(region, name)].groups[group].size
        return size.min, size.desired, size.max

    def state(self, name: str, region: str = "ap-south-1") -> dict[str, str]:
        return {k: v for k, v in self.clusters[(region, name)].tags.items() if k.startswith("devops.cost")}

    def fail(self, operation: str, count: int, on: str = "") -> None:
        """The next `count` calls of `operation` (whose argument is `on`, when given) fail."""
        self.failing[operation] = (count, on)

    def port(self, region: str) -> FakeEks:
        return FakeEks(self, region)

    def asg_port(self, region: str) -> FakeAsg:
        return FakeAsg(self, region)

    def asg_tags(self, cluster: str, group: str, region: str = "ap-south-1") -> dict[str, str]:
        return dict(self.clusters[(region, cluster)].groups[group].asg_tags)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if not op.startswith(("Describe", "List")))


class FakeEks:
    """The `EksPort` of one region on an `EksWorld`."""

    def __init__(self, world: EksWorld, region: str) -> None:
        self.world = world
        self.region = region

    def _call(self, operation: str, argument: str) -> None:
        world = self.world
        world.calls[operation] += 1
        world.attempts[operation] += 1
        world.log.append((operation, argument))
        count, on = world.failing.get(operation, (0, ""))
        if count > 0 and on in ("", argument):
            world.failing[operation] = (count - 1, on)
            raise ExternalError(f"EKS {operation} {argument} in {self.region}: ServerException: "
                                "Service unavailable, try again")

    def _cluster(self, operation: str, name: str) -> FakeCluster:
        self._call(operation, name)
        found = self.world.clusters.get((self.region, name))
        if found is None:
            raise UnknownName(f"EKS {operation} {name} in {self.region}: not found")
        return found

    def _group(self, operation: str, cluster: str, name: str) -> FakeGroup:
        self._call(operation, f"{cluster}/{name}")
        found = self.world.clusters.get((self.region, cluster))
        group = found.groups.get(name) if found is not None else None
        if group is None:
            raise UnknownName(f"EKS {operation} {cluster}/{name} in {self.region}: not found")
        return group

    def describe_cluster(self, name: str) -> Cluster:
        found = self._cluster("DescribeCluster", name)
        return Cluster(found.name, self.region, found.arn, dict(found.tags))

    def list_nodegroups(self, cluster: str) -> list[str]:
        return sorted(self._cluster("ListNodegroups", cluster).groups)

    def describe_nodegroup(self, cluster: str, name: str) -> Nodegroup:
        group = self._group("DescribeNodegroup", cluster, name)
        size, status = group.size, group.status
        if self.world.lie and self.world.calls["UpdateNodegroupConfig"]:
            size = Size(size.min, size.max, size.desired + 1)
            status = self.world.lie_status or status
        return Nodegroup(cluster, name, size, group.instance_types, "ON_DEMAND", status, dict(group.tags),
                         dict(group.labels))

    def update_scaling(self, cluster: str, name: str, size: Size) -> str:
        if not size.consistent:
            raise ExternalError(f"refusing to set {cluster}/{name} to min/desired/max {size}: inconsistent")
        group = self._group("UpdateNodegroupConfig", cluster, name)
        group.size = size
        return f"update-{next(self.world._ids)}"

    def tag_cluster(self, cluster: Cluster, tags: Mapping[str, str]) -> None:
        if tags:
            self._cluster("TagResource", cluster.name).tags.update(tags)

    def untag_cluster(self, cluster: Cluster, keys: Sequence[str]) -> None:
        for key in keys:
            self._cluster("UntagResource", cluster.name).tags.pop(key, None)


class FakeAsg:
    """The `AsgPort` (devops/app/cost_cluster.py) of one region on an `EksWorld`: the Auto Scaling
    groups of its node groups, as devops/adapters/aws/autoscaling.py answers on moto
    (tests/contract/test_autoscaling.py)."""

    def __init__(self, world: EksWorld, region: str) -> None:
        self.world = world
        self.region = region
        self._eks = FakeEks(world, region)

    def _find(self, operation: str, name: str) -> FakeGroup:
        self._eks._call(operation, name)
        for (region, _), cluster in self.world.clusters.items():
            for group in cluster.groups.values():
                if region == self.region and group.asg_name == name:
                    return group
        raise ExternalError(f"Auto Scaling {operation} {name} in {self.region}: ValidationError: no such group")

    def groups(self, cluster: str) -> list[AutoScalingGroup]:
        self._eks._call("DescribeAutoScalingGroups", cluster)
        found = self.world.clusters.get((self.region, cluster))
        if found is None:
            return []
        return sorted((AutoScalingGroup(g.asg_name, name, g.size.min, g.size.max, g.size.desired, dict(g.asg_tags))
                       for name, g in found.groups.items()), key=lambda g: g.name)

    def set_tags(self, group: str, tags: Mapping[str, str]) -> None:
        if tags:
            self._find("CreateOrUpdateTags", group).asg_tags.update(tags)

    def delete_tags(self, group: str, keys: Sequence[str]) -> None:
        if keys:
            found = self._find("DeleteTags", group)
            for key in keys:
                found.asg_tags.pop(key, None)
