"""EKS managed node groups as the cost optimizer sees them: a size, a cluster with its tags,
a node group with its size, status and tags. The EKS adapter returns these; the planner
decides on them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TRUE_WORDS = frozenset({"true", "yes", "1", "on"})


@dataclass(frozen=True)
class Size:
    """A node group's scaling config."""

    min: int
    max: int
    desired: int

    @property
    def at_zero(self) -> bool:
        return self.min == 0 and self.desired == 0

    @property
    def consistent(self) -> bool:
        """EKS requires min <= desired <= max and max >= 1 (moto does not check; we do)."""
        return 0 <= self.min <= self.desired <= self.max and self.max >= 1

    def __str__(self) -> str:
        return f"{self.min}/{self.desired}/{self.max}"


@dataclass(frozen=True)
class Cluster:
    name: str
    region: str
    arn: str
    tags: Mapping[str, str]


@dataclass(frozen=True)
class Nodegroup:
    cluster: str
    name: str
    size: Size
    instance_types: tuple[str, ...]
    capacity_type: str
    status: str
    tags: Mapping[str, str]
    # Kubernetes labels of its nodes (techitfactory.com/capacity=system marks protected capacity).
    labels: Mapping[str, str] = field(default_factory=dict)


def tagged_true(tags: Mapping[str, str], key: str) -> bool:
    """True when tag `key` says yes (`true`, `yes`, `1`, `on`, any case): the opt-out tag."""
    value = tags.get(key)
    return value is not None and value.strip().lower() in TRUE_WORDS
