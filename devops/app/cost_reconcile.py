"""Reconcile EKS node groups with their schedules: the reads, the writes and the read-backs.

Nothing here remembers anything between runs: every run reads each target's cluster, lets the
planner (devops/domain/cost/planner.py) decide what every node group should be *now*, and
makes it so. A missed or late cron run corrects itself, and a run killed half way is finished
by the next one, because changes are made in phases (devops/domain/cost/state.py):

Down:  save min/max/desired on the cluster (phase=saving) in one tag call, then set min 0 /
       desired 0 (max kept), read back, mark phase=down.
Up:    mark the saved size phase=restoring, restore it, read back, then clear the saved size.

A second run at the same instant changes nothing. `EksPort` is the port; the adapter is
devops/adapters/aws/eks.py and the in-memory fake tests/fakes/eks.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from devops.app.cost_cluster import ClusterPorts, ClusterSide
from devops.domain.cost import planner
from devops.domain.cost.cluster_state import ClusterOutcome
from devops.domain.cost.nodegroups import Cluster, Nodegroup, Size
from devops.domain.cost.outcome import CHANGES, WHOLE_TARGET, Manual, Outcome, RunResult
from devops.domain.cost.planner import ClusterPlan, ClusterView, Gone, Observed
from devops.domain.cost.state import ClusterState, state_key
from devops.domain.cost.target import Target
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import BadInput, DevopsError, UnknownName

# Called between the two steps of a change ("after-save", "after-scale-up"): nothing in a real
# run; a test installs one that pauses there, to kill the process at that very step.
Checkpoint = Callable[[str], None]
# The read-back of `cost:`'s defaults (CostConfig.readback_policy gives the configured one).
READBACK = RetryPolicy(attempts=3, base_seconds=2.0, max_seconds=60.0)


class EksPort(Protocol):
    """What the reconciler needs from EKS (devops.adapters.aws.eks.EksAdapter, tests/fakes/eks.py).

    Reads raise UnknownName (2) for a cluster or node group that does not exist, every call
    ExternalError (3) when EKS fails."""

    def describe_cluster(self, name: str) -> Cluster: ...
    def list_nodegroups(self, cluster: str) -> list[str]: ...
    def describe_nodegroup(self, cluster: str, name: str) -> Nodegroup: ...
    def update_scaling(self, cluster: str, name: str, size: Size) -> str: ...
    def tag_cluster(self, cluster: Cluster, tags: Mapping[str, str]) -> None: ...
    def untag_cluster(self, cluster: Cluster, keys: Sequence[str]) -> None: ...


def no_checkpoint(_step: str) -> None:
    """The checkpoint of a real run: carry on."""


def reconcile(
    targets: Iterable[Target],
    at: datetime,
    eks_for: Callable[[str], EksPort],
    *,
    dry_run: bool = False,
    manual: Manual | None = None,
    concurrency: int = 8,
    checkpoint: Checkpoint = no_checkpoint,
    readback: RetryPolicy = READBACK,
    sleep: Callable[[float], None] = time.sleep,
    cluster: ClusterPorts | None = None,
) -> RunResult:
    """Decide and reconcile every target node group at instant `at`; see the module doc.

    `eks_for(region)` gives the EKS port of a region (made once per region, shared by the
    threads); `checkpoint(step)` is called between the two steps of each change; `cluster` reaches
    the cluster side of targets that cooperate with an autoscaler or scale workloads
    (devops/app/cost_cluster.py)."""
    targets = list(targets)
    result = RunResult(at=at, dry_run=dry_run)
    worker = _TargetRun(at, dry_run, manual, checkpoint, readback, sleep, cluster)
    lock = threading.Lock()
    ports: dict[str, EksPort] = {}

    def port(region: str) -> EksPort:
        with lock:
            if region not in ports:
                ports[region] = eks_for(region)
            return ports[region]

    if manual is not None or len(targets) <= 1 or concurrency <= 1:
        # By hand, errors in the request itself (unknown node group) must reach the user.
        chunks = [worker.run(target, port(target.region)) for target in targets]
    else:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cost") as pool:
            chunks = list(pool.map(lambda t: worker.run(t, port(t.region)), targets))
    for chunk, side in chunks:
        result.outcomes.extend(chunk)
        result.cluster.extend(side)
    return result


def _withhold(plan: ClusterPlan) -> None:
    """Keep the node groups up this run: the cluster side could not stop the autoscaler (or the
    workloads), and scaling the nodes away under it would only make it churn."""
    for group in plan.down:
        out = plan.changes[group.name]
        out.action = "skipped"
        out.message = "kept up: the cluster side did not finish (see its rows); the next run retries"
        out.after = None
        plan.save.pop(group.name, None)
    plan.down.clear()


class _StillUpdating(Exception):
    """A read-back while EKS is still applying the update: worth another read."""

    def __init__(self, seen: Nodegroup) -> None:
        super().__init__(f"{seen.cluster}/{seen.name} still UPDATING")
        self.seen = seen


@dataclass
class _TargetRun:
    at: datetime
    dry_run: bool
    manual: Manual | None
    checkpoint: Checkpoint
    readback: RetryPolicy
    sleep: Callable[[float], None]
    cluster: ClusterPorts | None = None

    def run(self, target: Target, eks: EksPort) -> tuple[list[Outcome], list[ClusterOutcome]]:
        rows: list[Outcome] = []
        side: list[ClusterOutcome] = []
        try:
            self._run(target, eks, rows, side)
        except DevopsError as exc:
            if self.manual is not None and isinstance(exc, BadInput):
                raise  # a wrong request by hand: exit 2 naming it
            # Whatever was planned and not confirmed is reported as failed: state stays
            # consistent (saved sizes are only cleared after a confirmed restore).
            for row in rows:
                if row.action in CHANGES:
                    row.action, row.message = "failed", f"{exc}; the next run finishes it"
            rows.append(Outcome.of(target, WHOLE_TARGET, None, "", "failed", message=str(exc)))
        return rows, side

    def _side(self, target: Target, view: ClusterView, into: list[ClusterOutcome]) -> ClusterSide | None:
        """The cluster side of this target, or None: no cooperation configured, no ports, or a
        change by hand of one node group (the workloads follow the whole cluster)."""
        if not target.cooperates or self.cluster is None:
            return None
        if self.manual is not None and self.manual.nodegroup is not None:
            return None
        decision = planner.decide(view, WHOLE_TARGET)
        side = ClusterSide(target, self.at, decision.state, decision.reason, self.cluster, self.dry_run,
                           self.checkpoint)
        side.rows = into
        return side

    def _run(self, target: Target, eks: EksPort, rows: list[Outcome], into: list[ClusterOutcome]) -> None:
        skipped = planner.screen_target(target, self.at, self.manual)
        if skipped is not None:
            rows.append(skipped)
            return
        try:
            cluster = eks.describe_cluster(target.cluster)
        except UnknownName as exc:
            if self.manual is not None:
                raise
            rows.append(planner.missing_cluster(target, exc))
            return
        skipped = planner.screen_cluster(target, cluster)
        if skipped is not None:
            rows.append(skipped)
            return
        view = ClusterView(target, self.at, ClusterState.from_tags(cluster.tags),
                           tuple(eks.list_nodegroups(target.cluster)), self.manual, self.dry_run)
        plan = self._plan(view, eks, rows)
        if self.manual is None:
            expired = view.state.expired_holds(self.at)
            if expired and not self.dry_run:
                eks.untag_cluster(cluster, expired)
        side = self._side(target, view, into)
        scheduled = [r.nodegroup for r in rows
                     if r.nodegroup != WHOLE_TARGET and r.action not in ("skipped", "refused")]
        try:
            if side is not None and side.want == "down" and not side.night(scheduled):
                _withhold(plan)
            if self.dry_run:
                if side is not None and side.want == "up":
                    side.morning(scheduled)
                return
            self._scale_down(target, eks, cluster, plan)
            self._scale_up(target, eks, cluster, plan)
            if side is not None and side.want == "up":
                side.morning(scheduled)
        finally:
            if side is not None:
                side.close()
        if self.manual is not None:
            change = planner.holds_by_hand(target, view.state, self.manual)
            if change.remove:
                eks.untag_cluster(cluster, list(change.remove))
            if change.set:
                eks.tag_cluster(cluster, change.set)
            rows.extend(change.rows)

    def _plan(self, view: ClusterView, eks: EksPort, rows: list[Outcome]) -> ClusterPlan:
        """Describe the node groups the planner asks for, in its order, and plan on them."""
        observed: dict[str, Observed] = {}
        for name in planner.reads_needed(view):
            try:
                observed[name] = eks.describe_nodegroup(view.target.cluster, name)
            except UnknownName as exc:
                observed[name] = Gone(exc)
            except DevopsError:
                # Report what was decided before the read that failed; the caller marks it failed.
                rows.extend(planner.plan_cluster(view, observed).rows)
                raise
        plan = planner.plan_cluster(view, observed)
        rows.extend(plan.rows)
        return plan

    def _read_back(self, eks: EksPort, cluster: str, name: str, wanted: Size) -> tuple[Size, bool]:
        """Read the node group until it shows `wanted`, or is no longer UPDATING, or the
        read-back policy is spent.

        Returns what it shows and whether EKS is still applying an update (status UPDATING):
        that is not a mismatch yet, the next run confirms it."""
        try:
            for attempt in retrying(self.readback, retry_on=lambda e: isinstance(e, _StillUpdating), sleep=self.sleep):
                with attempt:
                    seen = eks.describe_nodegroup(cluster, name)
                    if seen.size != wanted and seen.status == "UPDATING":
                        raise _StillUpdating(seen)
        except _StillUpdating as still:
            return still.seen.size, True
        return seen.size, False

    def _scale_down(self, target: Target, eks: EksPort, cluster: Cluster, plan: ClusterPlan) -> None:
        if not plan.save and not plan.confirm:
            return
        # Saved first, in one call: a run killed after this finishes the job next time.
        eks.tag_cluster(cluster, {state_key(n): s.encode() for n, s in plan.save.items()})
        if plan.down:
            self.checkpoint("after-save")
        for group in plan.down:
            wanted = Size(0, group.size.max, 0)
            out = plan.changes[group.name]
            try:
                eks.update_scaling(target.cluster, group.name, wanted)
                seen, updating = self._read_back(eks, target.cluster, group.name, wanted)
            except DevopsError as exc:
                out.action, out.message = "failed", f"{exc}; saved size kept, the next run retries"
                continue
            out.after = seen
            if updating:
                # Saved size stays phase=saving, so the next run reads it again and confirms.
                out.message = f"EKS is still updating (shows {seen}); the next run confirms"
                continue
            if seen != wanted:
                out.action, out.message = "mismatch", f"asked for {wanted}, EKS shows {seen}; the next run checks again"
                continue
            plan.confirm[group.name] = plan.save[group.name].with_phase("down")
        eks.tag_cluster(cluster, {state_key(n): s.encode() for n, s in plan.confirm.items()})

    def _scale_up(self, target: Target, eks: EksPort, cluster: Cluster, plan: ClusterPlan) -> None:
        if not plan.up and not plan.clear:
            return
        marking = {
            state_key(g.name): s.with_phase("restoring").encode() for g, s, _ in plan.up if s.phase != "restoring"
        }
        eks.tag_cluster(cluster, marking)
        for group, _saved, size in plan.up:
            out = plan.changes[group.name]
            try:
                eks.update_scaling(target.cluster, group.name, size)
                seen, updating = self._read_back(eks, target.cluster, group.name, size)
            except DevopsError as exc:
                out.action, out.message = "failed", f"{exc}; saved size kept, the next run retries"
                continue
            out.after = seen
            if updating:
                out.message = f"EKS is still updating (shows {seen}); the next run clears the saved size"
                continue
            if seen != size:
                out.action, out.message = "mismatch", f"asked for {size}, EKS shows {seen}; saved size kept"
                continue
            plan.clear.append(group.name)
        if plan.up:
            self.checkpoint("after-scale-up")
        eks.untag_cluster(cluster, [state_key(n) for n in plan.clear])
