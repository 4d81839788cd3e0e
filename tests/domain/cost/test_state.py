"""State kept in cluster tags (devops/domain/cost/state.py): saved sizes and holds, encoded
within AWS's tag rules, and refused when edited into something that cannot be restored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devops.domain.cost.nodegroups import Size
from devops.domain.cost.state import ClusterState, Hold, SavedSize, StateError, hold_key, state_key

AT = datetime(2026, 11, 25, 17, 30, tzinfo=UTC)


def test_saved_sizes_round_trip_within_a_tag_value() -> None:
    saved = SavedSize(Size(2, 5, 3), AT, "office-hours", "abcdef123456", "down")
    value = saved.encode()
    assert value == "phase=down min=2 max=5 desired=3 at=2026-11-25T17:30:00Z schedule=office-hours hash=abcdef123456"
    assert SavedSize.decode(value) == saved
    assert saved.with_phase("restoring").phase == "restoring" and saved.phase == "down"


def test_old_values_without_phase_or_schedule_are_saving() -> None:
    saved = SavedSize.decode("min=1 max=3 desired=2 at=2026-11-25T17:30:00Z")
    assert (saved.phase, saved.schedule, saved.digest) == ("saving", "", "")


def test_a_value_that_does_not_fit_a_tag_is_refused() -> None:
    with pytest.raises(StateError, match="does not fit an AWS tag value"):
        SavedSize(Size(1, 2, 1), AT, "office,hours", "x").encode()
    with pytest.raises(StateError, match="does not fit"):
        SavedSize(Size(1, 2, 1), AT, "s" * 250, "x").encode()


@pytest.mark.parametrize(("value", "message"), [
    ("phase=down min=0 max=5 desired=0 at=2026-11-25T17:30:00Z", "cannot be restored"),
    ("phase=down min=3 max=2 desired=3 at=2026-11-25T17:30:00Z", "cannot be restored"),
    ("min=two", "not a saved size"),
    ("phase=down min=1 max=2 desired=1 at=yesterday", "not a saved size"),
    ("phase=gone min=1 max=2 desired=1 at=2026-11-25T17:30:00Z", "unknown phase 'gone'"),
])
def test_bad_saved_sizes(value: str, message: str) -> None:
    with pytest.raises(StateError, match=message):
        SavedSize.decode(value)


def test_holds() -> None:
    hold = Hold("up", datetime(2026, 11, 25, 20, 30, tzinfo=UTC))
    assert hold.encode() == "state=up until=2026-11-25T20:30:00Z"
    assert Hold.decode(hold.encode()) == hold
    with pytest.raises(StateError, match="not a hold"):
        Hold.decode("state=up")
    with pytest.raises(StateError, match="hold state must be up or down, got 'sideways'"):
        Hold.decode("state=sideways until=2026-11-25T20:30:00Z")
    assert (hold_key(None), hold_key("spot"), state_key("spot")) == (
        "devops.cost.hold/*", "devops.cost.hold/spot", "devops.cost/spot")


def test_cluster_state_from_tags() -> None:
    state = ClusterState.from_tags({
        "team": "platform",
        "devops.cost.opt-out": "false",
        "devops.cost/general": "phase=down min=1 max=3 desired=2 at=2026-11-25T17:30:00Z",
        "devops.cost/broken": "min=0",
        "devops.cost.hold/*": "state=up until=2026-11-25T20:30:00Z",
        "devops.cost.hold/spot": "state=down until=2026-11-25T19:00:00Z",
        "devops.cost.hold/bad": "until=never",
    })
    assert set(state.saved) == {"general"}
    assert set(state.broken) == {"broken", "devops.cost.hold/bad"}
    assert set(state.holds) == {"*", "spot"}
    assert state.hold_for("spot", datetime(2026, 11, 25, 18, 0, tzinfo=UTC)).state == "down"  # its own wins
    assert state.hold_for("spot", datetime(2026, 11, 25, 19, 0, tzinfo=UTC)).state == "up"  # then the cluster's
    assert state.hold_for("general", datetime(2026, 11, 25, 20, 30, tzinfo=UTC)) is None
    assert state.expired_holds(datetime(2026, 11, 25, 19, 30, tzinfo=UTC)) == ["devops.cost.hold/spot"]
