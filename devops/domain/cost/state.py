"""Saved node-group sizes and holds, encoded as EKS cluster tags.

One tag per node group, on the cluster (moto cannot tag node-group ARNs; cluster tags are
the same code path in tests and production):

    devops.cost/<nodegroup>       = "phase=down min=2 max=4 desired=3 at=2026-11-25T14:30:00Z
                                     schedule=office-hours hash=1a2b3c4d5e6f"   (one line)
    devops.cost.hold/<nodegroup>  = "state=up until=2026-11-26T02:00:00Z"      (or .../* for all)

Tag values allow letters, digits, spaces and `_ . : / = + - @` (no JSON), at most 256
characters; an EKS resource has at most 50 tags, which bounds the node groups per cluster
this can manage (48, leaving room for the cluster's own tags). `phase` makes the two-step
operations restartable:

    saving     the size is saved, scaling down may not have happened yet: check and finish
    down       scaled down and read back: trusted without reading the node group again
    restoring  scaling up was asked, clearing the saved size may not have happened: check
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, cast

from devops.domain.cost.nodegroups import Size

STATE_PREFIX = "devops.cost/"
HOLD_PREFIX = "devops.cost.hold/"
ALL_NODEGROUPS = "*"
Phase = Literal["saving", "down", "restoring"]
PHASES: tuple[str, ...] = ("saving", "down", "restoring")
_VALUE_CHARS = re.compile(r"^[A-Za-z0-9 _.:/=+@-]*$")


class StateError(ValueError):
    """A tag that does not hold a valid saved size (edited by hand, or truncated)."""


@dataclass(frozen=True)
class SavedSize:
    """The size a node group had when it was scaled down, and the schedule that did it."""

    size: Size
    at: datetime
    schedule: str
    digest: str
    phase: Phase = "saving"

    def with_phase(self, phase: Phase) -> SavedSize:
        return replace(self, phase=phase)

    def encode(self) -> str:
        value = (
            f"phase={self.phase} min={self.size.min} max={self.size.max} desired={self.size.desired} "
            f"at={self.at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} "
            f"schedule={self.schedule} hash={self.digest}"
        )
        if len(value) > 256 or not _VALUE_CHARS.match(value):
            raise StateError(f"saved size does not fit an AWS tag value: {value!r}")
        return value

    @classmethod
    def decode(cls, value: str) -> SavedSize:
        fields = dict(part.split("=", 1) for part in value.split() if "=" in part)
        try:
            size = Size(int(fields["min"]), int(fields["max"]), int(fields["desired"]))
            at = datetime.strptime(fields["at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            phase = fields.get("phase", "saving")
        except (KeyError, ValueError):
            raise StateError(f"not a saved size: {value!r}") from None
        if phase not in PHASES:
            raise StateError(f"unknown phase {phase!r} in {value!r}")
        if not size.consistent or size.at_zero:
            raise StateError(f"saved size {size} (min/desired/max) cannot be restored")
        return cls(
            size=size,
            at=at,
            schedule=fields.get("schedule", ""),
            digest=fields.get("hash", ""),
            phase=cast(Phase, phase),
        )


@dataclass(frozen=True)
class Hold:
    """Keep node groups up (or down) whatever the schedule says, until `until` (UTC)."""

    state: Literal["up", "down"]
    until: datetime

    def encode(self) -> str:
        return f"state={self.state} until={self.until.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"

    @classmethod
    def decode(cls, value: str) -> Hold:
        fields = dict(part.split("=", 1) for part in value.split() if "=" in part)
        try:
            until = datetime.strptime(fields["until"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            state = fields["state"]
        except (KeyError, ValueError):
            raise StateError(f"not a hold: {value!r}") from None
        if state not in ("up", "down"):
            raise StateError(f"hold state must be up or down, got {state!r}")
        return cls(state=state, until=until)  # type: ignore[arg-type]


def state_key(nodegroup: str) -> str:
    return f"{STATE_PREFIX}{nodegroup}"


def hold_key(nodegroup: str | None) -> str:
    return f"{HOLD_PREFIX}{nodegroup or ALL_NODEGROUPS}"


@dataclass(frozen=True)
class ClusterState:
    """Everything `devops cost` keeps on one cluster, read from its tags."""

    saved: Mapping[str, SavedSize]
    broken: Mapping[str, str]  # node group -> why its tag could not be read
    holds: Mapping[str, Hold]  # node group or "*" -> hold

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> ClusterState:
        saved: dict[str, SavedSize] = {}
        broken: dict[str, str] = {}
        holds: dict[str, Hold] = {}
        for key, value in tags.items():
            if key.startswith(STATE_PREFIX):
                name = key[len(STATE_PREFIX) :]
                try:
                    saved[name] = SavedSize.decode(value)
                except StateError as exc:
                    broken[name] = str(exc)
            elif key.startswith(HOLD_PREFIX):
                try:
                    holds[key[len(HOLD_PREFIX) :]] = Hold.decode(value)
                except StateError as exc:
                    broken[key] = str(exc)
        return cls(saved=saved, broken=broken, holds=holds)

    def hold_for(self, nodegroup: str, at: datetime) -> Hold | None:
        """The hold in force for `nodegroup` at `at` (its own wins over the cluster-wide one)."""
        for key in (nodegroup, ALL_NODEGROUPS):
            hold = self.holds.get(key)
            if hold is not None and at < hold.until:
                return hold
        return None

    def expired_holds(self, at: datetime) -> list[str]:
        return [hold_key(name) for name, hold in self.holds.items() if at >= hold.until]
