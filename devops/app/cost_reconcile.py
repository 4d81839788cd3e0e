"""Reconcile EKS node groups with their schedules: the scheduler, and `down|up` by hand.

Nothing here remembers anything between runs: every run decides, for every target node
group, what it should be *now* and makes it so. A missed or late cron run corrects itself,
and a run killed half way is finished by the next one (see `devops.domain.cost.state` for the
phases that make that safe). A second run at the same instant changes nothing.

Down:  save min/max/desired on the cluster (phase=saving), set min 0 / desired 0 (max kept,
       EKS needs max >= 1), read back, mark phase=down. A node group already at zero with
       nothing saved is left alone: a 0/0 size is never saved as the running size.
Up:    only node groups with a saved size and still at zero are restored (phase=restoring,
       update, read back, clear the saved size). A node group resized by hand meanwhile keeps
       its size; the saved size is cleared. With nothing saved, nothing is scaled up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

from devops.adapters.aws.eks import CallCounter, Cluster, Nodegroup, Size
from devops.domain.cost.state import ClusterState, Hold, SavedSize, hold_key, state_key
from devops.domain.schedule import Decision, Schedule, State, to_instant
from devops.errors import BadInput, DevopsError, UnknownName

if TYPE_CHECKING:
    from devops.config.cost import CostConfig, TargetConfig

Action = Literal[
    "scale-down",
    "restore",
    "confirm",
    "clear-state",
    "hold",
    "none",
    "skipped",
    "refused",
    "failed",
    "mismatch",
]
TRUE_WORDS = {"true", "yes", "1", "on"}
CHANGES = ("scale-down", "restore", "confirm", "clear-state", "hold")


class EksPort(Protocol):
    """What the optimizer needs from EKS (implemented by `devops.adapters.aws.eks.EksAdapter`)."""

    counter: CallCounter

    def describe_cluster(self, name: str) -> Cluster: ...
    def list_nodegroups(self, cluster: str) -> list[str]: ...
    def describe_nodegroup(self, cluster: str, name: str) -> Nodegroup: ...
    def update_scaling(self, cluster: str, name: str, size: Size) -> str: ...
    def tag_cluster(self, cluster: Cluster, tags: Mapping[str, str]) -> None: ...
    def untag_cluster(self, cluster: Cluster, keys: list[str]) -> None: ...


@dataclass(frozen=True)
class Target:
    """A configured target with its schedule resolved and its production status known."""

    name: str
    config: TargetConfig
    schedule: Schedule
    production: bool
    opt_out_tag: str

    @property
    def cluster(self) -> str:
        return self.config.cluster

    @property
    def region(self) -> str:
        return self.config.region


@dataclass
class Outcome:
    """What happened (or would happen) to one node group; `nodegroup` is `*` for a whole target."""

    target: str
    cluster: str
    region: str
    nodegroup: str
    want: State | None
    reason: str
    action: Action
    before: Size | None = None
    after: Size | None = None
    saved: Size | None = None
    message: str = ""

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        for key in ("before", "after", "saved"):
            size = getattr(self, key)
            data[key] = None if size is None else {"min": size.min, "max": size.max, "desired": size.desired}
        return data


@dataclass
class RunResult:
    at: datetime
    dry_run: bool
    outcomes: list[Outcome] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)

    def having(self, *actions: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.action in actions]

    @property
    def changed(self) -> list[Outcome]:
        return self.having(*CHANGES)

    @property
    def nodegroups(self) -> int:
        return len([o for o in self.outcomes if o.nodegroup != "*"])

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "dry_run": self.dry_run,
            "nodegroups": [o.to_dict() for o in self.outcomes],
            "changed": len(self.changed),
            "failed": len(self.having("failed", "mismatch")),
            "refused": len(self.having("refused")),
            "api_calls": dict(sorted(self.calls.items())),
            "http_attempts": dict(sorted(self.attempts.items())),
        }


@dataclass(frozen=True)
class Manual:
    """`devops cost down|up` by hand: the state wanted, optionally one node group and a hold."""

    state: State
    nodegroup: str | None = None
    hold_until: datetime | None = None


def resolve_targets(
    cost: CostConfig, production_clusters: Iterable[str] = (), names: Iterable[str] | None = None
) -> list[Target]:
    """Targets of the config with schedules parsed; production = label, name, or an env's cluster."""
    prod = set(production_clusters)
    wanted = set(names) if names is not None else None
    schedules = {name: Schedule.from_config(name, cfg) for name, cfg in cost.schedules.items()}
    return [
        Target(name, cfg, schedules[cfg.schedule], cfg.production or cfg.cluster in prod, cost.opt_out_tag)
        for name, cfg in sorted(cost.targets.items())
        if wanted is None or name in wanted
    ]


def find_target(targets: Iterable[Target], cluster: str) -> Target:
    """The target for `cluster` (by cluster name or target name); UnknownName (2) otherwise."""
    targets = list(targets)
    for target in targets:
        if cluster in (target.cluster, target.name):
            return target
    known = ", ".join(sorted(t.cluster for t in targets)) or "none configured"
    raise UnknownName(
        f"cluster {cluster!r} is not a target in cost.targets (known: {known}); "
        "devops cost never touches clusters outside its targets"
    )


def reconcile(
    targets: Iterable[Target],
    at: datetime,
    eks_for: Callable[[str], EksPort],
    *,
    dry_run: bool = False,
    manual: Manual | None = None,
    concurrency: int = 8,
    checkpoint: Callable[[str], None] = lambda _name: None,
    sleep: Callable[[float], None] | None = None,
    readback_attempts: int = 3,
    readback_interval: float = 2.0,
) -> RunResult:
    """Decide and reconcile every target node group at instant `at`; see the module doc.

    `eks_for(region)` gives the EKS adapter; `checkpoint(name)` is called between the two
    steps of each change ("after-save", "after-scale-up") so tests can kill the run there."""
    import time

    targets = list(targets)
    result = RunResult(at=at, dry_run=dry_run)
    pause = sleep or time.sleep
    worker = _TargetRun(at, dry_run, manual, checkpoint, pause, readback_attempts, readback_interval)
    lock = threading.Lock()
    adapters: dict[str, EksPort] = {}

    def adapter(region: str) -> EksPort:
        # One client per region, shared by the threads (boto3 clients are thread-safe).
        with lock:
            if region not in adapters:
                adapters[region] = eks_for(region)
            return adapters[region]

    if manual is not None or len(targets) <= 1 or concurrency <= 1:
        # By hand, errors in the request itself (unknown node group) must reach the user.
        chunks = [worker.run(target, adapter(target.region)) for target in targets]
    else:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="cost") as pool:
            chunks = list(pool.map(lambda t: worker.run(t, adapter(t.region)), targets))
    for chunk in chunks:
        result.outcomes.extend(chunk)
    return result


@dataclass
class _TargetRun:
    at: datetime
    dry_run: bool
    manual: Manual | None
    checkpoint: Callable[[str], None]
    sleep: Callable[[float], None]
    readback_attempts: int
    readback_interval: float

    def run(self, target: Target, eks: EksPort) -> list[Outcome]:
        rows: list[Outcome] = []
        try:
            self._run(target, eks, rows)
        except DevopsError as exc:
            if self.manual is not None and isinstance(exc, BadInput):
                raise  # a wrong request by hand: exit 2 naming it
            # Whatever was planned and not confirmed is reported as failed: state stays
            # consistent (saved sizes are only cleared after a confirmed restore).
            for row in rows:
                if row.action in CHANGES:
                    row.action, row.message = "failed", f"{exc}; the next run finishes it"
            rows.append(self._row(target, "*", None, "", "failed", message=str(exc)))
        return rows

    def _row(
        self, target: Target, nodegroup: str, want: State | None, reason: str, action: Action, **extra: object
    ) -> Outcome:
        return Outcome(target.name, target.cluster, target.region, nodegroup, want, reason, action, **extra)  # type: ignore[arg-type]

    def _decide(self, target: Target, state: ClusterState, nodegroup: str) -> Decision:
        if self.manual is not None:
            return Decision(self.manual.state, "by hand")
        hold = state.hold_for(nodegroup, self.at)
        if hold is not None:
            return Decision(hold.state, f"hold until {hold.until:%Y-%m-%d %H:%M}Z")
        if target.config.force_up:
            return Decision("up", "force_up in config")
        return target.schedule.decide(self.at)

    def _run(self, target: Target, eks: EksPort, rows: list[Outcome]) -> None:
        cfg = target.config
        if target.production and not cfg.allow_production:
            rows.append(
                self._row(
                    target,
                    "*",
                    None,
                    "production",
                    "skipped",
                    message=(
                        "production cluster: set allow_production: true in "
                        f"cost.targets.{target.name} to let devops cost scale it"
                    ),
                )
            )
            return
        if self.manual is None and cfg.exclude_until:
            until = to_instant(cfg.exclude_until, target.schedule.zone)
            if self.at < until:
                note = f"excluded until {cfg.exclude_until} ({target.schedule.zone.key})"
                rows.append(self._row(target, "*", None, "exclude_until", "skipped", message=note))
                return
        try:
            cluster = eks.describe_cluster(target.cluster)
        except UnknownName as exc:
            if self.manual is not None:
                raise
            rows.append(self._row(target, "*", None, "", "skipped", message=f"{exc}; nothing to scale"))
            return
        if _truthy(cluster.tags.get(target.opt_out_tag)):
            note = f"cluster tagged {target.opt_out_tag}={cluster.tags[target.opt_out_tag]}"
            rows.append(self._row(target, "*", None, "opt-out", "skipped", message=note))
            return
        state = ClusterState.from_tags(cluster.tags)
        names = eks.list_nodegroups(target.cluster)
        if self.manual is not None and self.manual.nodegroup is not None:
            chosen = self.manual.nodegroup
            if chosen not in names:
                raise UnknownName(
                    f"node group {chosen!r} not found in cluster {target.cluster} ({target.region}); "
                    f"node groups: {', '.join(names) or 'none'}"
                )
            if not cfg.nodegroups.selects(chosen):
                raise BadInput(
                    f"node group {chosen!r} is not selected by cost.targets.{target.name}.nodegroups "
                    "(include/exclude); devops cost never touches node groups outside its targets"
                )
            candidates = [chosen]
        else:
            candidates = [n for n in names if cfg.nodegroups.selects(n)]
            # Restore what we scaled down even if the patterns changed since (never strand it at
            # 0), and forget sizes saved for node groups deleted since.
            candidates += sorted(n for n in state.saved if n not in candidates)

        plan = _Plan()
        for name in candidates:
            decision = self._decide(target, state, name)
            if name not in names:
                if decision.state == "up":
                    plan.clear.append(name)
                    plan.rows[name] = self._row(
                        target,
                        name,
                        "up",
                        decision.reason,
                        "clear-state",
                        message="node group is gone; clearing its saved size",
                    )
                    rows.append(plan.rows[name])
                continue
            if name in state.saved and not cfg.nodegroups.selects(name) and decision.state == "down":
                rows.append(
                    self._row(
                        target,
                        name,
                        "down",
                        decision.reason,
                        "skipped",
                        message="no longer selected by the include/exclude patterns: only restored, never scaled",
                    )
                )
                continue
            try:
                self._plan_one(target, eks, state, name, decision, plan, rows)
            except UnknownName as exc:
                if self.manual is not None:
                    raise
                rows.append(
                    self._row(
                        target,
                        name,
                        decision.state,
                        decision.reason,
                        "skipped",
                        message=f"{exc} (deleted while this run looked at it)",
                    )
                )

        if self.manual is None:
            expired = state.expired_holds(self.at)
            if expired and not self.dry_run:
                eks.untag_cluster(cluster, expired)
        if self.dry_run:
            return
        self._scale_down(target, eks, cluster, plan, rows)
        self._scale_up(target, eks, cluster, plan, rows)
        if self.manual is not None:
            self._replace_holds(target, eks, cluster, state, rows)

    def _replace_holds(
        self, target: Target, eks: EksPort, cluster: Cluster, state: ClusterState, rows: list[Outcome]
    ) -> None:
        """A change by hand supersedes the holds it covers; `--until` sets a new one."""
        assert self.manual is not None
        scope = self.manual.nodegroup
        stale = [name for name in state.holds if scope is None or name == scope]
        if self.manual.hold_until is not None:
            stale = [name for name in stale if name != (scope or "*")]  # overwritten below
        if stale:
            eks.untag_cluster(cluster, [hold_key(name) for name in stale])
            rows.append(
                self._row(
                    target,
                    scope or "*",
                    self.manual.state,
                    "by hand",
                    "hold",
                    message=f"removed hold(s) {', '.join(sorted(stale))}",
                )
            )
        if self.manual.hold_until is not None:
            hold = Hold(self.manual.state, self.manual.hold_until)
            eks.tag_cluster(cluster, {hold_key(self.manual.nodegroup): hold.encode()})
            rows.append(
                self._row(
                    target,
                    self.manual.nodegroup or "*",
                    self.manual.state,
                    "by hand",
                    "hold",
                    message=f"schedule held {hold.state} until {hold.until:%Y-%m-%d %H:%M}Z",
                )
            )

    def _plan_one(
        self,
        target: Target,
        eks: EksPort,
        state: ClusterState,
        name: str,
        decision: Decision,
        plan: _Plan,
        rows: list[Outcome],
    ) -> None:
        saved = state.saved.get(name)
        broken = state.broken.get(name)

        def row(action: Action, **extra: object) -> Outcome:
            out = self._row(target, name, decision.state, decision.reason, action, **extra)
            rows.append(out)
            return out

        if broken:
            row("refused", message=f"{broken}; fix or delete cluster tag {state_key(name)}")
            return
        if decision.state == "down":
            if saved is not None and saved.phase == "down" and self.manual is None:
                # Scaled down and read back earlier: trusted, no read (one read per cluster).
                row("none", saved=saved.size, message=f"down since {saved.at:%Y-%m-%d %H:%M}Z")
                return
            group = eks.describe_nodegroup(target.cluster, name)
            if _truthy(group.tags.get(target.opt_out_tag)):
                row("skipped", before=group.size, message=f"node group tagged {target.opt_out_tag}")
                return
            if not group.size.consistent:
                row(
                    "refused",
                    before=group.size,
                    message=f"size {group.size} (min/desired/max) is inconsistent; fix it by hand",
                )
                return
            if group.size.at_zero:
                if saved is not None and saved.phase != "down":
                    plan.confirm[name] = saved.with_phase("down")
                    row(
                        "confirm",
                        before=group.size,
                        saved=saved.size,
                        message="already at zero; marking the saved size as down",
                    )
                elif saved is not None:
                    row("none", before=group.size, saved=saved.size, message="already at zero")
                else:
                    row(
                        "none",
                        before=group.size,
                        message="already at zero with no saved size: nothing to save, the schedule will not "
                        "scale it up",
                    )
                return
            # Never overwrite a saved size while down: it is the size of the last uptime.
            keep = (
                saved.with_phase("saving")
                if saved is not None
                else SavedSize(group.size, self.at, target.schedule.name, target.schedule.digest, "saving")
            )
            plan.save[name] = keep
            plan.down.append(group)
            plan.rows[name] = row(
                "scale-down",
                before=group.size,
                saved=keep.size,
                after=Size(0, group.size.max, 0),
                message="(dry run)" if self.dry_run else "",
            )
            return
        # Up.
        if saved is None:
            if self.manual is None:
                row("none", message="nothing saved; nothing to restore")
                return
            group = eks.describe_nodegroup(target.cluster, name)
            if group.size.at_zero:
                row(
                    "refused",
                    before=group.size,
                    message=(
                        f"no saved size for {target.cluster}/{name}; set its size with "
                        f"'aws eks update-nodegroup-config --cluster-name {target.cluster} "
                        f"--nodegroup-name {name} "
                        "--scaling-config minSize=..,maxSize=..,desiredSize=..'"
                    ),
                )
            else:
                row("none", before=group.size, message="already up")
            return
        try:
            group = eks.describe_nodegroup(target.cluster, name)
        except UnknownName:
            plan.clear.append(name)
            plan.rows[name] = row(
                "clear-state", saved=saved.size, message="node group is gone; clearing its saved size"
            )
            return
        if _truthy(group.tags.get(target.opt_out_tag)):
            row(
                "skipped",
                before=group.size,
                saved=saved.size,
                message=f"node group tagged {target.opt_out_tag}",
            )
            return
        if group.size.at_zero:
            size = saved.size
            # A max raised or lowered by hand while down is respected when the saved size fits.
            if group.size.max != size.max and size.min <= size.desired <= group.size.max:
                size = Size(size.min, group.size.max, size.desired)
            plan.up.append((group, saved, size))
            plan.rows[name] = row(
                "restore",
                before=group.size,
                saved=saved.size,
                after=size,
                message="(dry run)" if self.dry_run else "",
            )
            return
        plan.clear.append(name)
        note = (
            "restored earlier; clearing the saved size"
            if saved.phase == "restoring"
            else f"resized by hand to {group.size} since; keeping it and clearing the saved size"
        )
        plan.rows[name] = row("clear-state", before=group.size, saved=saved.size, message=note)

    def _read_back(self, eks: EksPort, cluster: str, name: str, wanted: Size) -> tuple[Size, bool]:
        """Read the node group until it shows `wanted` or attempts run out.

        Returns what it shows and whether EKS is still applying an update (status UPDATING):
        that is not a mismatch yet, the next run confirms it."""
        seen = eks.describe_nodegroup(cluster, name)
        for _ in range(self.readback_attempts - 1):
            if seen.size == wanted or seen.status != "UPDATING":
                break
            self.sleep(self.readback_interval)
            seen = eks.describe_nodegroup(cluster, name)
        return seen.size, seen.size != wanted and seen.status == "UPDATING"

    def _scale_down(self, target: Target, eks: EksPort, cluster: Cluster, plan: _Plan, rows: list[Outcome]) -> None:
        if not plan.save and not plan.confirm:
            return
        # Saved first, in one call: a run killed after this finishes the job next time.
        eks.tag_cluster(cluster, {state_key(n): s.encode() for n, s in plan.save.items()})
        if plan.down:
            self.checkpoint("after-save")
        for group in plan.down:
            wanted = Size(0, group.size.max, 0)
            out = plan.rows[group.name]
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
                out.action, out.message = (
                    "mismatch",
                    f"asked for {wanted}, EKS shows {seen}; the next run checks again",
                )
                continue
            plan.confirm[group.name] = plan.save[group.name].with_phase("down")
        eks.tag_cluster(cluster, {state_key(n): s.encode() for n, s in plan.confirm.items()})

    def _scale_up(self, target: Target, eks: EksPort, cluster: Cluster, plan: _Plan, rows: list[Outcome]) -> None:
        if not plan.up and not plan.clear:
            return
        marking = {
            state_key(g.name): s.with_phase("restoring").encode() for g, s, _ in plan.up if s.phase != "restoring"
        }
        eks.tag_cluster(cluster, marking)
        for group, _saved, size in plan.up:
            out = plan.rows[group.name]
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


@dataclass
class _Plan:
    save: dict[str, SavedSize] = field(default_factory=dict)
    confirm: dict[str, SavedSize] = field(default_factory=dict)
    down: list[Nodegroup] = field(default_factory=list)
    up: list[tuple[Nodegroup, SavedSize, Size]] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    rows: dict[str, Outcome] = field(default_factory=dict)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in TRUE_WORDS
