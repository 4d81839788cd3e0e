"""`devops cost schedule|down|up` as use cases: pick the targets, reconcile, push the metrics,
and decide how the run ends (docs/cost.md, "Exit codes").

A scheduled run exits 0 with refused or skipped node groups (warned about: other clusters must
not stay up because one is misconfigured) and 3 when a change failed or EKS showed another
size. A run by hand is also refused (1) when its cluster was skipped (production, opt-out) or a
node group refused, and warns when the next scheduled run will undo it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from time import sleep as _sleep
from typing import Protocol

from devops.app.cost_cluster import ClusterPorts
from devops.app.cost_reconcile import Checkpoint, EksPort, no_checkpoint, reconcile
from devops.config import Config
from devops.domain.cost.metrics import MetricSample, run_samples
from devops.domain.cost.outcome import WHOLE_TARGET, CostRun, Manual, Note, RunResult, ScheduleLine
from devops.domain.cost.target import Target
from devops.domain.environments import is_production
from devops.domain.schedule import State
from devops.domain.timespec import resolve_until
from devops.errors import DevopsError, ExternalError, GateFailed, HttpError, UnknownName


class CallCounts(Protocol):
    """API calls made through the EKS ports (one per operation) and HTTP attempts (retries
    included), for the run's `api_calls` and `http_attempts`."""

    @property
    def calls(self) -> Mapping[str, int]: ...

    @property
    def attempts(self) -> Mapping[str, int]: ...


class MetricsPort(Protocol):
    """Where a run pushes what the schedule wants (devops/domain/cost/metrics.py)."""

    @property
    def where(self) -> str:
        """The Pushgateway and job, for messages."""
        ...

    def push(self, samples: Sequence[MetricSample]) -> None:
        """Replace the job's group with `samples`; HttpError when the push fails."""
        ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CostPorts:
    """The outside world of the cost use cases (built by devops/wiring/cost.py)."""

    eks_for: Callable[[str], EksPort]
    counts: CallCounts | None = None
    metrics: MetricsPort | None = None
    checkpoint: Checkpoint = no_checkpoint
    clock: Callable[[], datetime] = _utc_now
    sleep: Callable[[float], None] = _sleep
    # The cluster side of targets that cooperate with an autoscaler or scale workloads.
    cluster: ClusterPorts | None = None


def production_clusters(config: Config) -> list[str]:
    """Clusters of the environments that are production (devops/domain/environments.py)."""
    return [env.cluster.name for name, env in config.environments.items() if is_production(name)]


def autoscalers(config: Config) -> dict[tuple[str, str], str]:
    """(cluster, region) -> the autoscaler of the environment that owns the cluster."""
    return {(env.cluster.name, env.cluster.region): env.cluster.autoscaler for env in config.environments.values()}


def select_targets(config: Config, names: Iterable[str] = ()) -> list[Target]:
    """The configured targets (or those named: UnknownName for one that is not)."""
    names = tuple(names)
    cost = config.cost
    for name in names:
        if name not in cost.targets:
            known = ", ".join(sorted(cost.targets)) or "none configured"
            raise UnknownName(f"{config.source}: unknown cost target {name!r}; known: {known}")
    return cost.resolve_targets(production_clusters(config), names or None, autoscalers(config))


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


def schedule(config: Config, ports: CostPorts, *, at: datetime | None = None, names: Iterable[str] = (),
             dry_run: bool = False) -> CostRun:
    """Scale every target node group up or down as its schedule says at `at` (default: now)."""
    at = at or ports.clock()
    title = "devops cost schedule"
    targets = select_targets(config, names)
    if not targets:
        return CostRun(title, RunResult(at, dry_run), schedules=[], configured=False,
                       notes=[Note("info", "no cost.targets configured; nothing to do")])
    cost = config.cost
    result = reconcile(targets, at, ports.eks_for, dry_run=dry_run, concurrency=cost.concurrency,
                       checkpoint=ports.checkpoint, readback=cost.readback_policy(), sleep=ports.sleep,
                       cluster=ports.cluster)
    run = CostRun(title, _counted(result, ports), [ScheduleLine.of(target, at) for target in targets])
    run.notes += _push_metrics(result, ports)
    run.failure = _broken(result)
    return run


def by_hand(config: Config, ports: CostPorts, state: State, cluster: str, *, nodegroup: str | None = None,
            until: time | datetime | None = None, at: datetime | None = None, dry_run: bool = False) -> CostRun:
    """`devops cost down|up`: scale one target's node groups now; `until` (a parsed `--until`:
    a time of day or a date-time, devops/domain/timespec.py) holds that state against the schedule."""
    at = at or ports.clock()
    target = find_target(select_targets(config), cluster)
    hold_until = resolve_until(until, at, target.schedule.zone) if until is not None else None
    cost = config.cost
    result = reconcile([target], at, ports.eks_for, dry_run=dry_run, manual=Manual(state, nodegroup, hold_until),
                       checkpoint=ports.checkpoint, readback=cost.readback_policy(), sleep=ports.sleep,
                       cluster=ports.cluster)
    run = CostRun(f"devops cost {state} {target.cluster}", _counted(result, ports))
    run.notes += _push_metrics(result, ports)
    run.failure = _broken(result) or _refused(target, result)
    scheduled = target.schedule.decide(at).state
    if run.failure is None and hold_until is None and not dry_run and state != scheduled:
        nxt = target.schedule.next_change(at)
        when = f" at {nxt:%Y-%m-%d %H:%M}Z" if nxt else ""
        run.notes.append(Note("warn", (
            f"the schedule says {scheduled} now: the next 'devops cost schedule' run puts it back "
            f"(next scheduled change{when}); pass --until HH:MM to hold it")))
    return run


def _counted(result: RunResult, ports: CostPorts) -> RunResult:
    if ports.counts is not None:
        result.calls, result.attempts = dict(ports.counts.calls), dict(ports.counts.attempts)
    return result


def _push_metrics(result: RunResult, ports: CostPorts) -> list[Note]:
    """Tell the Pushgateway what the schedule wants (cost.metrics); a failed push only warns.

    The run itself did its job; the `CostScheduleStale` alert notices pushes that stop arriving."""
    if ports.metrics is None or result.dry_run:
        return []
    samples = run_samples(result)
    if not samples:
        return []
    try:
        ports.metrics.push(samples)
    except HttpError as exc:
        return [Note("warn", f"metrics not pushed: {exc.message}")]
    return [Note("debug", f"pushed {len(samples)} samples to {ports.metrics.where}")]


def _broken(result: RunResult) -> DevopsError | None:
    """Exit 3 naming the first change that failed or that EKS did not show."""
    broken = result.having("failed", "mismatch")
    side = result.cluster_having("failed")
    if not broken and side:
        more = f" (and {len(side) - 1} more, see the table)" if len(side) > 1 else ""
        return ExternalError(f"{side[0].cluster}: {side[0].kind} {side[0].name}: failed: {side[0].message}{more}")
    if not broken:
        return None
    first = broken[0]
    more = f" (and {len(broken) - 1} more, see the table)" if len(broken) > 1 else ""
    return ExternalError(f"{first.where} ({first.region}): {first.action}: {first.message}{more}")


def _refused(target: Target, result: RunResult) -> DevopsError | None:
    """By hand, policy said no (exit 1): the cluster was skipped, or a node group refused."""
    skipped = [o for o in result.outcomes if o.action == "skipped" and o.nodegroup == WHOLE_TARGET]
    if skipped:
        return GateFailed(f"{target.cluster}: not changed: {skipped[0].message}")
    refused = result.having("refused")
    if refused:
        return GateFailed(f"{refused[0].cluster}/{refused[0].nodegroup}: refused: {refused[0].message}")
    return None
