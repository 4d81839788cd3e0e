"""EKS managed node groups: read sizes, change scaling config, keep state in cluster tags.

Every call goes through `devops.adapters.aws.client.client` (standard retry mode: throttling and 5xx
are retried with backoff before an error is raised). Calls are counted per operation with
botocore's event hooks, so a run can say how many requests it made (`api_calls`) and how many
HTTP attempts that took (`attempts`, retries included).

State lives in tags on the *cluster* (one tag per node group): tags on node-group ARNs would
be the natural place, but moto rejects them, and keeping one code path that the tests
exercise is worth more than the nicer location. See docs/cost.md.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devops.adapters.aws import client as aws
from devops.domain.cost.nodegroups import Cluster, Nodegroup, Size
from devops.errors import ExternalError, UnknownName


@dataclass
class CallCounter:
    """API calls (one per operation) and HTTP attempts (retries included), thread-safe."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hook(self, client: Any) -> None:
        client.meta.events.register("before-call.eks", self._on_call)
        # request-created fires once per HTTP attempt (botocore re-creates the request to retry).
        client.meta.events.register("request-created.eks", self._on_send)

    def _on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[model.name] += 1

    def _on_send(self, event_name: str = "", **_: Any) -> None:
        with self._lock:
            self.attempts[event_name.rsplit(".", 1)[-1] or "unknown"] += 1

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if not op.startswith(("Describe", "List")))

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.calls.items() if op.startswith(("Describe", "List")))


class EksAdapter:
    """One region's EKS API (the `EksPort` of devops/app/cost_reconcile.py), returning the
    domain's types. Methods raise `ExternalError` (3) or `UnknownName` (2)."""

    def __init__(self, region: str, counter: CallCounter | None = None, client: Any = None) -> None:
        self.region = region
        self.counter = counter or CallCounter()
        self._client = client or aws.client("eks", region)
        self.counter.hook(self._client)

    def _call(self, operation: str, what: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                raise UnknownName(f"EKS {what} in {self.region}: not found") from None
            raise aws.aws_error(exc, f"EKS {what} in {self.region}") from None
        except BotoCoreError as exc:
            raise aws.aws_error(exc, f"EKS {what} in {self.region}") from None

    def describe_cluster(self, name: str) -> Cluster:
        """The cluster and its tags (where node-group state is kept)."""
        data = self._call("describe_cluster", f"DescribeCluster {name}", name=name)["cluster"]
        return Cluster(name=data["name"], region=self.region, arn=data["arn"], tags=dict(data.get("tags") or {}))

    def list_nodegroups(self, cluster: str) -> list[str]:
        """Names of every managed node group of `cluster` (all pages)."""
        names: list[str] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"clusterName": cluster, "maxResults": 100}
            if token:
                kwargs["nextToken"] = token
            page = self._call("list_nodegroups", f"ListNodegroups {cluster}", **kwargs)
            names.extend(page.get("nodegroups", []))
            token = page.get("nextToken")
            if not token:
                return sorted(names)

    def describe_nodegroup(self, cluster: str, name: str) -> Nodegroup:
        """One node group's size, instance types and tags."""
        data = self._call(
            "describe_nodegroup",
            f"DescribeNodegroup {cluster}/{name}",
            clusterName=cluster,
            nodegroupName=name,
        )["nodegroup"]
        scaling = data.get("scalingConfig") or {}
        try:
            size = Size(int(scaling["minSize"]), int(scaling["maxSize"]), int(scaling["desiredSize"]))
        except (KeyError, TypeError, ValueError):
            raise ExternalError(
                f"EKS DescribeNodegroup {cluster}/{name} in {self.region}: no scalingConfig in the answer"
            ) from None
        return Nodegroup(
            cluster=cluster,
            name=name,
            size=size,
            instance_types=tuple(data.get("instanceTypes") or ()),
            capacity_type=str(data.get("capacityType") or "ON_DEMAND"),
            status=str(data.get("status") or "UNKNOWN"),
            tags=dict(data.get("tags") or {}),
            labels={str(k): str(v) for k, v in (data.get("labels") or {}).items()},
        )

    def update_scaling(self, cluster: str, name: str, size: Size) -> str:
        """Ask EKS for `size`; returns the update id. Refuses sizes EKS would reject."""
        if not size.consistent:
            raise ExternalError(f"refusing to set {cluster}/{name} to min/desired/max {size}: inconsistent")
        answer = self._call(
            "update_nodegroup_config",
            f"UpdateNodegroupConfig {cluster}/{name}",
            clusterName=cluster,
            nodegroupName=name,
            scalingConfig={"minSize": size.min, "maxSize": size.max, "desiredSize": size.desired},
        )
        return str((answer.get("update") or {}).get("id") or "")

    def tag_cluster(self, cluster: Cluster, tags: Mapping[str, str]) -> None:
        """Set `tags` on the cluster in one call (a no-op for an empty mapping)."""
        if tags:
            self._call("tag_resource", f"TagResource {cluster.name}", resourceArn=cluster.arn, tags=dict(tags))

    def untag_cluster(self, cluster: Cluster, keys: Sequence[str]) -> None:
        """Remove tag `keys` from the cluster (a no-op for none).

        One call per key: AWS takes a list, but moto (5.2) removes only the first key of it,
        and the same code must hold in tests and in production."""
        for key in keys:
            self._call("untag_resource", f"UntagResource {cluster.name}", resourceArn=cluster.arn, tagKeys=[key])
