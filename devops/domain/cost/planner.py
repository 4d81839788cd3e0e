"""The cost planner: what one cluster's node groups should become, from what was read of it.

Pure: it takes the cluster's state tags, the node groups EKS lists and the node groups the
reconciler described (a snapshot), and returns the rows to report and the changes to make.
It never reads anything itself: `reads_needed` says which node groups it must see described;
the reconciler (devops/app/cost_reconcile.py) reads them and calls `plan_cluster`. Reads are
few on purpose: a node group saved `phase=down` is trusted without a read, and with nothing
saved a scheduled run has nothing to restore.

Down: save the size first (phase=saving), then scale to min 0 / desired 0 keeping max (EKS
needs max >= 1). A node group already at zero with nothing saved is left alone: a 0/0 size is
never saved as the running size. Up: only node groups with a saved size and still at zero are
restored; one resized by hand meanwhile keeps its size. See devops/domain/cost/state.py for
the phases that make a run killed half way safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from devops.domain.cost.nodegroups import Cluster, Nodegroup, Size, tagged_true
from devops.domain.cost.outcome import WHOLE_TARGET, Action, Manual, Outcome
from devops.domain.cost.state import ClusterState, Hold, SavedSize, hold_key, state_key
from devops.domain.cost.target import Target
from devops.domain.schedule import Decision
from devops.errors import BadInput, UnknownName


@dataclass(frozen=True)
class Gone:
    """A listed node group that EKS no longer knows when described (deleted meanwhile)."""

    error: UnknownName


Observed = Nodegroup | Gone


@dataclass(frozen=True)
class ClusterView:
    """One target's cluster as read: its state tags and the node groups EKS lists."""

    target: Target
    at: datetime
    state: ClusterState
    names: tuple[str, ...]
    manual: Manual | None = None
    dry_run: bool = False


@dataclass
class ClusterPlan:
    """Rows to report and changes to make, in the order the reconciler makes them."""

    rows: list[Outcome] = field(default_factory=list)
    # Sizes to save before scaling down (phase=saving), and saved sizes to mark phase=down.
    save: dict[str, SavedSize] = field(default_factory=dict)
    confirm: dict[str, SavedSize] = field(default_factory=dict)
    down: list[Nodegroup] = field(default_factory=list)
    # Node group, its saved size, the size to restore.
    up: list[tuple[Nodegroup, SavedSize, Size]] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    # The row of each planned change, updated with what the change did.
    changes: dict[str, Outcome] = field(default_factory=dict)
    # The first node group the plan needs described and the snapshot lacks (the plan stops there).
    unread: str | None = None


@dataclass(frozen=True)
class HoldChange:
    """What a change by hand does to holds: tags to remove, tags to set, rows saying so."""

    remove: tuple[str, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)
    rows: tuple[Outcome, ...] = ()


def screen_target(target: Target, at: datetime, manual: Manual | None) -> Outcome | None:
    """The row of a target that is left alone before anything is read, else None."""
    if target.held_back:
        return Outcome.of(target, WHOLE_TARGET, None, "production", "skipped", message=(
            f"production cluster: set allow_production: true in cost.targets.{target.name} "
            "to let devops cost scale it"))
    until = target.excluded_until() if manual is None else None  # by hand, exclude_until does not apply
    if until is not None and at < until:
        note = f"excluded until {target.exclude_until} ({target.schedule.zone.key})"
        return Outcome.of(target, WHOLE_TARGET, None, "exclude_until", "skipped", message=note)
    return None


def missing_cluster(target: Target, error: UnknownName) -> Outcome:
    """A target whose cluster does not exist (destroyed for the night, say): skipped."""
    return Outcome.of(target, WHOLE_TARGET, None, "", "skipped", message=f"{error}; nothing to scale")


def screen_cluster(target: Target, cluster: Cluster) -> Outcome | None:
    """The row of a cluster tagged with the opt-out tag, else None."""
    if tagged_true(cluster.tags, target.opt_out_tag):
        note = f"cluster tagged {target.opt_out_tag}={cluster.tags[target.opt_out_tag]}"
        return Outcome.of(target, WHOLE_TARGET, None, "opt-out", "skipped", message=note)
    return None


def decide(view: ClusterView, nodegroup: str) -> Decision:
    """Up or down for `nodegroup` now: by hand > a hold in force > force_up > the schedule."""
    if view.manual is not None:
        return Decision(view.manual.state, "by hand")
    hold = view.state.hold_for(nodegroup, view.at)
    if hold is not None:
        return Decision(hold.state, f"hold until {hold.until:%Y-%m-%d %H:%M}Z")
    if view.target.force_up:
        return Decision("up", "force_up in config")
    return view.target.schedule.decide(view.at)


def candidates(view: ClusterView) -> list[str]:
    """The node groups to judge, in order. By hand with `--nodegroup`, that one, which must
    exist (UnknownName) and be selected (BadInput): a wrong request is exit 2 naming it."""
    target, names = view.target, view.names
    chosen = view.manual.nodegroup if view.manual is not None else None
    if chosen is not None:
        if chosen not in names:
            raise UnknownName(
                f"node group {chosen!r} not found in cluster {target.cluster} ({target.region}); "
                f"node groups: {', '.join(names) or 'none'}"
            )
        if not target.nodegroups.selects(chosen):
            raise BadInput(
                f"node group {chosen!r} is not selected by cost.targets.{target.name}.nodegroups "
                "(include/exclude); devops cost never touches node groups outside its targets"
            )
        return [chosen]
    found = [n for n in names if target.nodegroups.selects(n)]
    # Restore what we scaled down even if the patterns changed since (never strand it at 0),
    # and forget sizes saved for node groups deleted since.
    return found + sorted(n for n in view.state.saved if n not in found)


def reads_needed(view: ClusterView) -> list[str]:
    """The node groups `plan_cluster` needs described, in the order it judges them."""
    needed = []
    for name in candidates(view):
        probe = ClusterPlan()
        if not _judge(view, name, decide(view, name), {}, probe):
            needed.append(name)
    return needed


def plan_cluster(view: ClusterView, observed: Mapping[str, Observed]) -> ClusterPlan:
    """Judge every candidate on the snapshot `observed` (node group -> described or gone).

    Stops at the first node group it needs described and `observed` lacks (`unread`), so a
    reconciler whose read failed still reports what it had decided before."""
    plan = ClusterPlan()
    for name in candidates(view):
        if not _judge(view, name, decide(view, name), observed, plan):
            plan.unread = name
            break
    return plan


def _judge(view: ClusterView, name: str, decision: Decision, observed: Mapping[str, Observed],
           plan: ClusterPlan) -> bool:
    """Plan one node group into `plan`; False when it needs `name` described first."""
    target = view.target
    if name not in view.names:
        if decision.state == "up":
            plan.clear.append(name)
            plan.changes[name] = _row(view, plan, name, decision, "clear-state",
                                      message="node group is gone; clearing its saved size")
        return True
    if name in view.state.saved and not target.nodegroups.selects(name) and decision.state == "down":
        _row(view, plan, name, decision, "skipped",
             message="no longer selected by the include/exclude patterns: only restored, never scaled")
        return True
    broken = view.state.broken.get(name)
    if broken:
        _row(view, plan, name, decision, "refused", message=f"{broken}; fix or delete cluster tag {state_key(name)}")
        return True
    if decision.state == "down":
        return _down(view, name, decision, observed, plan)
    return _up(view, name, decision, observed, plan)


def _row(view: ClusterView, plan: ClusterPlan, name: str, decision: Decision, action: Action, *,
         before: Size | None = None, after: Size | None = None, saved: Size | None = None,
         message: str = "") -> Outcome:
    out = Outcome.of(view.target, name, decision.state, decision.reason, action, before=before, after=after,
                     saved=saved, message=message)
    plan.rows.append(out)
    return out


def _deleted(view: ClusterView, plan: ClusterPlan, name: str, decision: Decision, gone: Gone) -> bool:
    if view.manual is not None:
        raise gone.error  # by hand: the node group asked for is gone, exit 2 naming it
    _row(view, plan, name, decision, "skipped", message=f"{gone.error} (deleted while this run looked at it)")
    return True


def _down(view: ClusterView, name: str, decision: Decision, observed: Mapping[str, Observed],
          plan: ClusterPlan) -> bool:
    target, saved = view.target, view.state.saved.get(name)
    if saved is not None and saved.phase == "down" and view.manual is None:
        # Scaled down and read back earlier: trusted, no read (one read per cluster).
        _row(view, plan, name, decision, "none", saved=saved.size, message=f"down since {saved.at:%Y-%m-%d %H:%M}Z")
        return True
    group = observed.get(name)
    if group is None:
        return False
    if isinstance(group, Gone):
        return _deleted(view, plan, name, decision, group)
    if tagged_true(group.tags, target.opt_out_tag):
        _row(view, plan, name, decision, "skipped", before=group.size,
             message=f"node group tagged {target.opt_out_tag}")
        return True
    if not group.size.consistent:
        _row(view, plan, name, decision, "refused", before=group.size,
             message=f"size {group.size} (min/desired/max) is inconsistent; fix it by hand")
        return True
    if group.size.at_zero:
        if saved is not None and saved.phase != "down":
            plan.confirm[name] = saved.with_phase("down")
            _row(view, plan, name, decision, "confirm", before=group.size, saved=saved.size,
                 message="already at zero; marking the saved size as down")
        elif saved is not None:
            _row(view, plan, name, decision, "none", before=group.size, saved=saved.size, message="already at zero")
        else:
            _row(view, plan, name, decision, "none", before=group.size,
                 message="already at zero with no saved size: nothing to save, the schedule will not scale it up")
        return True
    # Never overwrite a saved size while down: it is the size of the last uptime.
    keep = (
        saved.with_phase("saving")
        if saved is not None
        else SavedSize(group.size, view.at, target.schedule.name, target.schedule.digest, "saving")
    )
    plan.save[name] = keep
    plan.down.append(group)
    plan.changes[name] = _row(view, plan, name, decision, "scale-down", before=group.size, saved=keep.size,
                              after=Size(0, group.size.max, 0), message="(dry run)" if view.dry_run else "")
    return True


def _up(view: ClusterView, name: str, decision: Decision, observed: Mapping[str, Observed],
        plan: ClusterPlan) -> bool:
    target, saved = view.target, view.state.saved.get(name)
    if saved is None:
        if view.manual is None:
            _row(view, plan, name, decision, "none", message="nothing saved; nothing to restore")
            return True
        group = observed.get(name)
        if group is None:
            return False
        if isinstance(group, Gone):
            return _deleted(view, plan, name, decision, group)
        if group.size.at_zero:
            _row(view, plan, name, decision, "refused", before=group.size, message=(
                f"no saved size for {target.cluster}/{name}; set its size with "
                f"'aws eks update-nodegroup-config --cluster-name {target.cluster} --nodegroup-name {name} "
                "--scaling-config minSize=..,maxSize=..,desiredSize=..'"))
        else:
            _row(view, plan, name, decision, "none", before=group.size, message="already up")
        return True
    group = observed.get(name)
    if group is None:
        return False
    if isinstance(group, Gone):
        plan.clear.append(name)
        plan.changes[name] = _row(view, plan, name, decision, "clear-state", saved=saved.size,
                                  message="node group is gone; clearing its saved size")
        return True
    if tagged_true(group.tags, target.opt_out_tag):
        _row(view, plan, name, decision, "skipped", before=group.size, saved=saved.size,
             message=f"node group tagged {target.opt_out_tag}")
        return True
    if group.size.at_zero:
        size = restore_size(saved.size, group.size)
        plan.up.append((group, saved, size))
        plan.changes[name] = _row(view, plan, name, decision, "restore", before=group.size, saved=saved.size,
                                  after=size, message="(dry run)" if view.dry_run else "")
        return True
    plan.clear.append(name)
    note = (
        "restored earlier; clearing the saved size"
        if saved.phase == "restoring"
        else f"resized by hand to {group.size} since; keeping it and clearing the saved size"
    )
    plan.changes[name] = _row(view, plan, name, decision, "clear-state", before=group.size, saved=saved.size,
                              message=note)
    return True


def restore_size(saved: Size, now: Size) -> Size:
    """The size to restore: the saved one, with a max raised or lowered by hand while down kept
    when the saved size fits it."""
    if now.max != saved.max and saved.min <= saved.desired <= now.max:
        return Size(saved.min, now.max, saved.desired)
    return saved


def holds_by_hand(target: Target, state: ClusterState, manual: Manual) -> HoldChange:
    """A change by hand supersedes the holds it covers; `--until` sets a new one."""
    scope = manual.nodegroup
    stale = [name for name in state.holds if scope is None or name == scope]
    if manual.hold_until is not None:
        stale = [name for name in stale if name != (scope or WHOLE_TARGET)]  # overwritten below
    rows: list[Outcome] = []
    if stale:
        rows.append(Outcome.of(target, scope or WHOLE_TARGET, manual.state, "by hand", "hold",
                               message=f"removed hold(s) {', '.join(sorted(stale))}"))
    tags: dict[str, str] = {}
    if manual.hold_until is not None:
        hold = Hold(manual.state, manual.hold_until)
        tags[hold_key(scope)] = hold.encode()
        rows.append(Outcome.of(target, scope or WHOLE_TARGET, manual.state, "by hand", "hold",
                               message=f"schedule held {hold.state} until {hold.until:%Y-%m-%d %H:%M}Z"))
    return HoldChange(tuple(hold_key(name) for name in stale), tags, tuple(rows))
