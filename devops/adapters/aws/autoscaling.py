"""The Auto Scaling groups behind EKS managed node groups: their sizes and tags, and moving
Cluster Autoscaler's discovery tag aside and back (devops/app/cost_cluster.py).

EKS tags each group it makes with `eks:cluster-name` and `eks:nodegroup-name`, which is how a
cluster's groups are found (one filtered, paginated describe); it also puts Cluster Autoscaler's
discovery tags on every one of them. Calls go through the one client factory and are counted
with the EKS calls (`CallCounter`), so a run's `api_calls` has them too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from devops.adapters.aws import client as aws
from devops.adapters.aws.eks import CallCounter
from devops.domain.cost.cluster_state import AutoScalingGroup

CLUSTER_TAG = "eks:cluster-name"
NODEGROUP_TAG = "eks:nodegroup-name"


class AsgAdapter:
    """One region's Auto Scaling API (the `AsgPort` of devops/app/cost_cluster.py)."""

    def __init__(self, region: str, counter: CallCounter | None = None, client: Any = None) -> None:
        self.region = region
        self.counter = counter or CallCounter()
        self._client = client or aws.client("autoscaling", region)
        self._client.meta.events.register("before-call.auto-scaling", self.counter._on_call)
        self._client.meta.events.register("request-created.auto-scaling", self.counter._on_send)

    def _call(self, operation: str, what: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            raise aws.aws_error(exc, f"Auto Scaling {what} in {self.region}") from None

    def groups(self, cluster: str) -> list[AutoScalingGroup]:
        """The groups of `cluster`'s managed node groups (all pages), sorted by name."""
        found: list[AutoScalingGroup] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Filters": [{"Name": f"tag:{CLUSTER_TAG}", "Values": [cluster]}],
                                      "MaxRecords": 100}
            if token:
                kwargs["NextToken"] = token
            page = self._call("describe_auto_scaling_groups", f"DescribeAutoScalingGroups {cluster}", **kwargs)
            for group in page.get("AutoScalingGroups") or []:
                tags = {str(t["Key"]): str(t.get("Value", "")) for t in group.get("Tags") or []}
                if tags.get(CLUSTER_TAG) != cluster:
                    continue  # the filter is the API's; check what came back all the same
                found.append(AutoScalingGroup(str(group["AutoScalingGroupName"]), tags.get(NODEGROUP_TAG, ""),
                                              int(group["MinSize"]), int(group["MaxSize"]),
                                              int(group["DesiredCapacity"]), tags))
            token = page.get("NextToken")
            if not token:
                return sorted(found, key=lambda g: g.name)

    def set_tags(self, group: str, tags: Mapping[str, str]) -> None:
        """Create or overwrite `tags` on the group (not propagated to new instances)."""
        if tags:
            self._call("create_or_update_tags", f"CreateOrUpdateTags {group}", Tags=[
                {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key, "Value": value,
                 "PropagateAtLaunch": False} for key, value in tags.items()])

    def delete_tags(self, group: str, keys: Sequence[str]) -> None:
        """Remove tag `keys` from the group (absent ones are no error)."""
        if keys:
            self._call("delete_tags", f"DeleteTags {group}", Tags=[
                {"ResourceId": group, "ResourceType": "auto-scaling-group", "Key": key} for key in keys])
