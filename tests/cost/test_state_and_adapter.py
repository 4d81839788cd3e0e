"""State tags (encode/decode) and the EKS adapter against in-process moto (`mock_aws`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from devops.adapters.aws.eks import CallCounter, EksAdapter
from devops.domain.cost.nodegroups import Size
from devops.domain.cost.state import ClusterState, Hold, SavedSize, StateError
from devops.errors import ExternalError, UnknownName

ROLE = "arn:aws:iam::123456789012:role/eks-nodes"


def test_saved_size_round_trip_fits_an_aws_tag() -> None:
    saved = SavedSize(Size(2, 5, 3), datetime(2026, 11, 25, 17, 30, tzinfo=UTC), "office-hours", "abcdef123456", "down")
    value = saved.encode()
    assert value == ("phase=down min=2 max=5 desired=3 at=2026-11-25T17:30:00Z schedule=office-hours hash=abcdef123456")
    assert SavedSize.decode(value) == saved
    assert len(value) <= 256


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("phase=down min=0 max=5 desired=0 at=2026-11-25T17:30:00Z", "cannot be restored"),
        ("phase=down min=3 max=2 desired=3 at=2026-11-25T17:30:00Z", "cannot be restored"),
        ("min=two", "not a saved size"),
        ("phase=gone min=1 max=2 desired=1 at=2026-11-25T17:30:00Z", "unknown phase 'gone'"),
    ],
)
def test_bad_saved_sizes_are_refused(value: str, message: str) -> None:
    with pytest.raises(StateError, match=message):
        SavedSize.decode(value)


def test_cluster_state_from_tags() -> None:
    state = ClusterState.from_tags(
        {
            "team": "platform",
            "devops.cost.opt-out": "false",
            "devops.cost/general": "phase=down min=1 max=3 desired=2 at=2026-11-25T17:30:00Z",
            "devops.cost/broken": "min=0",
            "devops.cost.hold/*": "state=up until=2026-11-25T20:30:00Z",
        }
    )
    assert set(state.saved) == {"general"}
    assert "broken" in state.broken
    assert state.hold_for("general", datetime(2026, 11, 25, 20, 0, tzinfo=UTC)) == Hold(
        "up", datetime(2026, 11, 25, 20, 30, tzinfo=UTC)
    )
    assert state.hold_for("general", datetime(2026, 11, 25, 20, 30, tzinfo=UTC)) is None
    assert state.expired_holds(datetime(2026, 11, 26, tzinfo=UTC)) == ["devops.cost.hold/*"]


@pytest.fixture
def mocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from moto import mock_aws

    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def test_adapter_pages_counts_and_maps_errors(mocked: None) -> None:
    import boto3

    raw = boto3.client("eks", region_name="eu-central-1")
    raw.create_cluster(name="big", roleArn=ROLE, resourcesVpcConfig={})
    for i in range(105):
        raw.create_nodegroup(
            clusterName="big",
            nodegroupName=f"ng-{i:03d}",
            nodeRole=ROLE,
            subnets=["s"],
            scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1},
        )
    counter = CallCounter()
    eks = EksAdapter("eu-central-1", counter)
    names = eks.list_nodegroups("big")
    assert len(names) == 105 and names[0] == "ng-000"
    assert counter.calls["ListNodegroups"] == 2  # two pages of at most 100
    group = eks.describe_nodegroup("big", "ng-007")
    assert group.size == Size(1, 2, 1)
    with pytest.raises(UnknownName, match="EKS DescribeNodegroup big/nope in eu-central-1: not found"):
        eks.describe_nodegroup("big", "nope")
    with pytest.raises(ExternalError, match="refusing to set big/ng-001 to min/desired/max 2/1/3: inconsistent"):
        eks.update_scaling("big", "ng-001", Size(2, 3, 1))
    assert counter.calls["UpdateNodegroupConfig"] == 0  # refused before any call
    eks.update_scaling("big", "ng-001", Size(0, 2, 0))
    assert eks.describe_nodegroup("big", "ng-001").size == Size(0, 2, 0)
    assert counter.writes == 1 and counter.reads == 5
