"""`devops cost schedule|down|up|report`: scale EKS node groups off-hours, by hand, and report savings."""

from __future__ import annotations

import os
import sys
import time as clock
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.errors import BadInput, ExternalError, GateFailed, UnknownName

if TYPE_CHECKING:
    from collections.abc import Callable

    from devops.adapters.aws.eks import CallCounter, EksAdapter
    from devops.app.cost_reconcile import RunResult, Target

# Test hook (documented in docs/cost.md): pause at a named step so a test can kill the run there.
PAUSE_ENV = "DEVOPS_COST_PAUSE_AT"
PAUSE_SECONDS_ENV = "DEVOPS_COST_PAUSE_SECONDS"
PRODUCTION_ENVIRONMENTS = {"prod", "production", "prd"}


@click.group("cost")
def cli() -> None:
    """Scale EKS node groups to zero off-hours and back (schedules in pipelines/devops.yaml)."""


def _now_or(at: datetime | None) -> datetime:
    # `--at` arrives parsed and range-checked (devops.cli.params.INSTANT): an aware UTC instant.
    return at if at is not None else datetime.now(UTC)


def _resolve_until(value: time | datetime | None, at: datetime, target: Target) -> datetime | None:
    """`--until` (parsed by devops.cli.params.UNTIL): a time of day is the next such local time
    of the schedule's zone; a naive date-time is local to that zone."""
    if value is None:
        return None
    zone = target.schedule.zone
    if isinstance(value, time):
        local = at.astimezone(zone)
        candidate = local.replace(hour=value.hour, minute=value.minute, second=0, microsecond=0)
        if candidate <= local:
            candidate = (local + timedelta(days=1)).replace(hour=value.hour, minute=value.minute, second=0,
                                                             microsecond=0)
        return candidate.replace(tzinfo=zone).astimezone(UTC)
    until = (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if until <= at:
        raise BadInput(f"--until: {value.isoformat()} is not after now ({at:%Y-%m-%d %H:%M}Z)")
    return until


def _targets(app: AppContext, names: tuple[str, ...] = ()) -> list[Target]:
    from devops.app.cost_reconcile import resolve_targets

    config = app.config
    cost = config.cost
    for name in names:
        if name not in cost.targets:
            known = ", ".join(sorted(cost.targets)) or "none configured"
            raise UnknownName(f"{config.source}: unknown cost target {name!r}; known: {known}")
    prod = [env.cluster.name for name, env in config.environments.items() if name in PRODUCTION_ENVIRONMENTS]
    return resolve_targets(cost, prod, names or None)


def _checkpoint(name: str) -> None:
    if os.environ.get(PAUSE_ENV) == name:
        print(f"devops: paused at {name}", file=sys.stderr, flush=True)
        clock.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))


def _eks_factory() -> tuple[CallCounter, Callable[[str], EksAdapter]]:
    from devops.adapters.aws.eks import CallCounter, EksAdapter

    counter = CallCounter()
    return counter, (lambda region: EksAdapter(region, counter))


def _schedule_lines(targets: list[Target], at: datetime) -> list[dict[str, str | None]]:
    """What each target's schedule says at `at`, and when that changes next."""
    lines: list[dict[str, str | None]] = []
    for target in targets:
        decision = target.schedule.decide(at)
        nxt = target.schedule.next_change(at)
        zone = target.schedule.zone
        when = f"{nxt.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}" if nxt else "not within 15 days"
        lines.append(
            {
                "target": target.name,
                "schedule": target.schedule.name,
                "state": decision.state,
                "reason": decision.reason,
                "next_change": nxt.astimezone(UTC).isoformat().replace("+00:00", "Z") if nxt else None,
                "text": f"{target.name} ({target.cluster}): schedule {target.schedule.name} says {decision.state} "
                f"({decision.reason}); next change {when}",
            }
        )
    return lines


def _render(
    app: AppContext, result: RunResult, title: str, schedules: list[dict[str, str | None]] | None = None
) -> None:
    from devops.report.github import markdown_table

    reporter = app.reporter
    headers = ["cluster", "node group", "want", "action", "before", "after", "saved", "why"]

    def rows() -> list[list[str]]:
        out = []
        for o in result.outcomes:
            why = "; ".join(p for p in (o.reason, o.message) if p)
            out.append(
                [
                    o.cluster,
                    o.nodegroup,
                    o.want or "-",
                    o.action.upper() if o.action in ("failed", "mismatch", "refused", "skipped") else o.action,
                    str(o.before or "-"),
                    str(o.after or "-"),
                    str(o.saved or "-"),
                    why,
                ]
            )
        return out

    def console_rows() -> list[list[str]]:
        # Narrower than the summary: CI logs are 80 columns wide.
        out = []
        for row in rows():
            before, after = row[4], row[5]
            size = before if after in ("-", before) else f"{before} -> {after}"
            out.append([row[0], row[1], row[2], row[3], size, row[7]])
        return out

    suffix = " (dry run: nothing changed)" if result.dry_run else ""
    when = result.at.astimezone(UTC)
    reporter.table(
        f"{title} at {when:%Y-%m-%d %H:%M}Z{suffix} (sizes are min/desired/max)",
        ["cluster", "node group", "want", "action", "size", "why"],
        console_rows(),
    )
    for line in schedules or []:
        reporter.info(str(line["text"]))
    reads = sum(n for op, n in result.calls.items() if op.startswith(("Describe", "List")))
    writes = sum(result.calls.values()) - reads
    reporter.info(
        f"{len(result.changed)} change(s), {result.nodegroups} node group(s); "
        f"AWS calls: {reads} read(s), {writes} write(s)"
    )
    github = reporter.github
    github.summary(f"### {title}{suffix}\n\n" + markdown_table(headers, rows()))
    github.output("changed", str(len(result.changed)))
    for o in result.outcomes:
        if o.action in ("failed", "mismatch"):
            github.annotate("error", f"{o.cluster}/{o.nodegroup}: {o.message}", title="devops cost")
        elif o.action == "refused":
            github.annotate("warning", f"{o.cluster}/{o.nodegroup}: refused: {o.message}", title="devops cost")
        elif o.action == "skipped" and o.nodegroup == "*":
            # On purpose (opt-out, exclude_until, production) or gone: worth a notice, not a warning.
            github.annotate("notice", f"{o.cluster}: skipped: {o.message}", title="devops cost")
    for o in result.having("refused"):
        reporter.warn(f"{o.cluster}/{o.nodegroup}: refused: {o.message}")
    data = result.to_dict()
    if schedules is not None:
        data["schedules"] = [{k: v for k, v in line.items() if k != "text"} for line in schedules]
    reporter.result(data)


def _push_metrics(app: AppContext, result: RunResult) -> None:
    """Tell the Pushgateway what the schedule wants (cost.metrics); a failed push only warns.

    The run itself did its job; the `CostScheduleStale` alert notices pushes that stop arriving.
    """
    settings = app.config.cost.metrics
    if settings.pushgateway_url is None or result.dry_run:
        return
    from devops.adapters.pushgateway import push
    from devops.domain.cost.metrics import HELP, run_samples
    from devops.errors import HttpError

    samples = run_samples(result)
    if not samples:
        return
    try:
        push(settings.pushgateway_url, settings.job, samples, HELP, timeout=settings.timeout_seconds,
             username_env=settings.username_env, password_env=settings.password_env)
    except HttpError as exc:
        app.reporter.warn(f"metrics not pushed: {exc.message}")
        return
    app.reporter.debug(f"pushed {len(samples)} samples to {settings.pushgateway_url} (job {settings.job})")


def _fail_if_broken(result: RunResult) -> None:
    broken = result.having("failed", "mismatch")
    if broken:
        first = broken[0]
        where = first.cluster if first.nodegroup == "*" else f"{first.cluster}/{first.nodegroup}"
        more = f" (and {len(broken) - 1} more, see the table)" if len(broken) > 1 else ""
        raise ExternalError(f"{where} ({first.region}): {first.action}: {first.message}{more}")


@cli.command("schedule")
@click.option("--at", "at_text", type=params.INSTANT, help="Decide as if it were this instant [default: now].")
@click.option("--target", "names", multiple=True, type=params.NAME,
              help="Only this target of cost.targets (repeatable).")
@dry_run_option
@json_option
@pass_app
def schedule(app: AppContext, at_text: datetime | None, names: tuple[str, ...], dry_run: bool) -> None:
    """Scale every target node group up or down as its schedule says now (run it from cron)."""
    from devops.app.cost_reconcile import reconcile

    at = _now_or(at_text)
    targets = _targets(app, names)
    if not targets:
        app.reporter.info("no cost.targets configured; nothing to do")
        app.reporter.result({"at": at.isoformat(), "nodegroups": [], "changed": 0})
        return
    counter, factory = _eks_factory()
    cost = app.config.cost
    result = reconcile(
        targets,
        at,
        factory,
        dry_run=dry_run,
        concurrency=cost.concurrency,
        checkpoint=_checkpoint,
        readback_attempts=cost.readback_attempts,
        readback_interval=cost.readback_interval_seconds,
    )
    result.calls, result.attempts = dict(counter.calls), dict(counter.attempts)
    _render(app, result, "devops cost schedule", _schedule_lines(targets, at))
    _push_metrics(app, result)
    _fail_if_broken(result)


def _by_hand(
    app: AppContext,
    state: str,
    cluster: str,
    nodegroup: str | None,
    dry_run: bool,
    until_text: time | datetime | None,
    at_text: datetime | None,
) -> None:
    from devops.app.cost_reconcile import Manual, find_target, reconcile

    at = _now_or(at_text)
    target = find_target(_targets(app), cluster)
    until = _resolve_until(until_text, at, target)
    counter, factory = _eks_factory()
    manual = Manual(state, nodegroup, until)  # type: ignore[arg-type]
    cost = app.config.cost
    result = reconcile(
        [target],
        at,
        factory,
        dry_run=dry_run,
        manual=manual,
        checkpoint=_checkpoint,
        readback_attempts=cost.readback_attempts,
        readback_interval=cost.readback_interval_seconds,
    )
    result.calls, result.attempts = dict(counter.calls), dict(counter.attempts)
    _render(app, result, f"devops cost {state} {target.cluster}")
    _push_metrics(app, result)
    _fail_if_broken(result)
    skipped = [o for o in result.outcomes if o.action == "skipped" and o.nodegroup == "*"]
    if skipped:
        raise GateFailed(f"{target.cluster}: not changed: {skipped[0].message}")
    refused = result.having("refused")
    if refused:
        raise GateFailed(f"{refused[0].cluster}/{refused[0].nodegroup}: refused: {refused[0].message}")
    if until is None and not dry_run and state != target.schedule.decide(at).state:
        nxt = target.schedule.next_change(at)
        when = f" at {nxt:%Y-%m-%d %H:%M}Z" if nxt else ""
        app.reporter.warn(
            f"the schedule says {target.schedule.decide(at).state} now: the next 'devops cost schedule' run "
            f"puts it back (next scheduled change{when}); pass --until HH:MM to hold it"
        )


@cli.command("down")
@click.option("--cluster", required=True, type=params.NAME, help="Cluster (or target name) from cost.targets.")
@click.option("--nodegroup", type=params.NAME, help="Only this node group [default: every selected one].")
@click.option("--until", "until_text", type=params.UNTIL,
              help="Keep it down until then (HH:MM or ISO-8601, schedule zone).")
@click.option("--at", "at_text", type=params.INSTANT, hidden=True)
@dry_run_option
@json_option
@pass_app
def down(
    app: AppContext,
    cluster: str,
    nodegroup: str | None,
    until_text: time | datetime | None,
    at_text: datetime | None,
    dry_run: bool,
) -> None:
    """Scale node groups to zero now, saving their size (for incidents and demos)."""
    _by_hand(app, "down", cluster, nodegroup, dry_run, until_text, at_text)


@cli.command("up")
@click.option("--cluster", required=True, type=params.NAME, help="Cluster (or target name) from cost.targets.")
@click.option("--nodegroup", type=params.NAME, help="Only this node group [default: every selected one].")
@click.option("--until", "until_text", type=params.UNTIL,
              help="Keep it up until then (HH:MM or ISO-8601, schedule zone).")
@click.option("--at", "at_text", type=params.INSTANT, hidden=True)
@dry_run_option
@json_option
@pass_app
def up(
    app: AppContext,
    cluster: str,
    nodegroup: str | None,
    until_text: time | datetime | None,
    at_text: datetime | None,
    dry_run: bool,
) -> None:
    """Restore saved sizes now (refuses node groups with no saved size)."""
    _by_hand(app, "up", cluster, nodegroup, dry_run, until_text, at_text)


@cli.command("report")
@click.option("--schedule", "schedule_name", type=params.NAME, help="Only targets using this schedule.")
@click.option("--month", type=params.MONTH, help="Calendar month in the schedule's zone [default: this month].")
@click.option("--target", "names", multiple=True, type=params.NAME, help="Only this target (repeatable).")
@json_option
@pass_app
def report(app: AppContext, schedule_name: str | None, month: tuple[int, int] | None,
           names: tuple[str, ...]) -> None:
    """Monthly cost with and without the schedules (730 h/month), and the saving."""
    from devops.domain.cost.estimate import Capacity, capacity_from_aws, compute_report, markdown
    from devops.domain.cost.pricing import price_table

    cost = app.config.cost
    if schedule_name and schedule_name not in cost.schedules:
        known = ", ".join(sorted(cost.schedules)) or "none configured"
        raise UnknownName(f"{app.config.source}: unknown schedule {schedule_name!r}; known: {known}")
    targets = [t for t in _targets(app, names) if not schedule_name or t.schedule.name == schedule_name]
    if not targets:
        raise UnknownName(
            f"{app.config.source}: no cost.targets use schedule {schedule_name!r}"
            if schedule_name
            else f"{app.config.source}: no cost.targets configured"
        )
    today = datetime.now(UTC).date()
    year, mon = month or (today.year, today.month)
    adapters: dict[str, object] = {}

    def capacity(target: Target) -> list[Capacity]:
        if target.config.capacity:
            return [
                Capacity(name, c.instance_type, c.count, "config") for name, c in sorted(target.config.capacity.items())
            ]
        from devops.adapters.aws.eks import EksAdapter

        eks = adapters.setdefault(target.region, EksAdapter(target.region))
        return capacity_from_aws(target, eks)  # type: ignore[arg-type]

    result = compute_report(targets, year, mon, lambda region: price_table(region, cost.prices), capacity)
    reporter = app.reporter
    reporter.table(
        f"Schedules, {result.month}",
        ["target", "schedule", "zone", "month h", "up h", "up %", "note"],
        [
            (
                n,
                m.schedule,
                m.timezone,
                f"{m.month_hours:g}",
                f"{m.up_hours:g}",
                f"{100 * m.fraction:.1f}",
                m.note,
            )
            for n, m in result.targets.items()
        ],
    )
    reporter.table(
        f"Node groups, USD per month (730 h), {result.month}",
        [
            "target",
            "node group",
            "instances",
            "node-h always",
            "node-h scheduled",
            "always on",
            "scheduled",
            "saving",
        ],
        [
            (
                n.target,
                n.nodegroup,
                f"{n.count} x {n.instance_type}",
                f"{n.node_hours_always:g}",
                f"{n.node_hours_scheduled:g}",
                f"{n.monthly_always:.2f}",
                f"{n.monthly_scheduled:.2f}",
                f"{n.saving:.2f}",
            )
            for n in result.nodegroups
        ],
    )
    reporter.table(
        "Always running",
        ["target", "item", "count", "USD/h", "USD/month"],
        [(f.target, f.item, f.count, f"{f.hourly:g}", f"{f.monthly:.2f}") for f in result.fixed],
    )
    reporter.info(
        f"Total {result.total_always:.2f} USD/month always on, "
        f"{result.total_scheduled:.2f} with the schedules: "
        f"saving {result.saving:.2f} USD/month ({result.saving_percent}%; compute "
        f"{result.compute_saving_percent}%)"
    )
    for warning in result.warnings:  # prices standing in for a region's own (devops/domain/cost/pricing.py)
        reporter.warn(warning)
    reporter.github.summary(markdown(result))
    reporter.github.output("saving", f"{result.saving:.2f}")
    reporter.result(result.to_dict())
