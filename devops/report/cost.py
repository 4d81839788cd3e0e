"""What `devops cost` shows: the run table (console, job summary, annotations, step output
`changed`) and the cost report (console tables, a job summary with a Mermaid week, step output
`saving`). The `--json` models are in devops/report/cost_results.py."""

from __future__ import annotations

from devops.domain.cost.estimate import CostReport, Week
from devops.domain.cost.outcome import CostRun, Outcome, ScheduleLine
from devops.report.console import Reporter
from devops.report.github import markdown_table

RUN_HEADERS = ["cluster", "node group", "want", "action", "before", "after", "saved", "why"]
# Actions shown in capitals: something to look at.
LOUD = ("failed", "mismatch", "refused", "skipped")


def _run_row(o: Outcome) -> list[str]:
    why = "; ".join(p for p in (o.reason, o.message) if p)
    action = o.action.upper() if o.action in LOUD else o.action
    return [o.cluster, o.nodegroup, o.want or "-", action, str(o.before or "-"), str(o.after or "-"),
            str(o.saved or "-"), why]


def schedule_text(line: ScheduleLine) -> str:
    """`dev (techitfactory-dev): schedule office-hours says down (...); next change Thu ... Asia/Kolkata`."""
    nxt, zone = line.next_change, line.zone
    when = f"{nxt.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}" if nxt else "not within 15 days"
    return (f"{line.target} ({line.cluster}): schedule {line.schedule} says {line.state} ({line.reason}); "
            f"next change {when}")


def render_run(reporter: Reporter, run: CostRun) -> None:
    """The table of a `cost schedule|down|up` run, what the schedules say, the AWS calls, the
    job summary and annotations in GitHub Actions, then the run's notes."""
    if run.configured:
        _run_table(reporter, run)
    for note in run.notes:
        {"info": reporter.info, "warn": reporter.warn, "debug": reporter.debug}[note.level](note.text)


def _run_table(reporter: Reporter, run: CostRun) -> None:
    result = run.result
    rows = [_run_row(o) for o in result.outcomes]
    # Narrower than the summary: CI logs are 80 columns wide.
    console_rows = []
    for row in rows:
        before, after = row[4], row[5]
        size = before if after in ("-", before) else f"{before} -> {after}"
        console_rows.append([row[0], row[1], row[2], row[3], size, row[7]])
    suffix = " (dry run: nothing changed)" if result.dry_run else ""
    github = reporter.github
    reporter.table(
        f"{run.title} at {run.at_utc:%Y-%m-%d %H:%M}Z{suffix} (sizes are min/desired/max)",
        ["cluster", "node group", "want", "action", "size", "why"],
        console_rows,
    )
    for line in run.schedules or []:
        reporter.info(schedule_text(line))
    reporter.info(
        f"{len(result.changed)} change(s), {result.nodegroups} node group(s); "
        f"AWS calls: {result.reads} read(s), {result.writes} write(s)"
    )
    github.summary(f"### {run.title}{suffix}\n\n" + markdown_table(RUN_HEADERS, rows))
    github.output("changed", str(len(result.changed)))
    _cluster_table(reporter, run, suffix)
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


CLUSTER_HEADERS = ["cluster", "kind", "name", "want", "action", "value", "why"]


def _cluster_table(reporter: Reporter, run: CostRun, suffix: str) -> None:
    """The cluster side's rows: sync windows, autoscaler tags, workloads, NodePools."""
    result = run.result
    if not result.cluster:
        return
    rows = [[c.cluster, c.kind, c.name, c.want, c.action.upper() if c.action in LOUD else c.action,
             c.before if c.after in ("", c.before) else f"{c.before} -> {c.after}", c.message] for c in result.cluster]
    reporter.table(f"{run.title}: the cluster side (autoscaler, Argo CD, workloads){suffix}", CLUSTER_HEADERS, rows)
    reporter.github.summary("#### the cluster side\n\n" + markdown_table(CLUSTER_HEADERS, rows))
    for c in result.cluster_having("failed"):
        reporter.github.annotate("error", f"{c.cluster}: {c.kind} {c.name}: {c.message}", title="devops cost")


MONTH_HEADERS = ["target", "schedule", "zone", "month h", "up h", "up %", "note"]
NODEGROUP_HEADERS = ["target", "node group", "instances", "node-h always", "node-h scheduled", "always on",
                     "scheduled", "saving"]


def _month_rows(report: CostReport) -> list[tuple[str, ...]]:
    return [(name, m.schedule, m.timezone, f"{m.month_hours:g}", f"{m.up_hours:g}", f"{100 * m.fraction:.1f}", m.note)
            for name, m in report.targets.items()]


def _nodegroup_rows(report: CostReport) -> list[tuple[str, ...]]:
    return [(n.target, n.nodegroup, f"{n.count} x {n.instance_type}", f"{n.node_hours_always:g}",
             f"{n.node_hours_scheduled:g}", f"{n.monthly_always:.2f}", f"{n.monthly_scheduled:.2f}", f"{n.saving:.2f}")
            for n in report.nodegroups]


def _fixed_rows(report: CostReport) -> list[tuple[object, ...]]:
    return [(f.target, f.item, f.count, f"{f.hourly:g}", f"{f.monthly:.2f}") for f in report.fixed]


def render_report(reporter: Reporter, report: CostReport) -> None:
    """The report's tables and totals, its warnings, the job summary and the step output `saving`."""
    reporter.table(f"Schedules, {report.month}", MONTH_HEADERS, _month_rows(report))
    reporter.table(f"Node groups, USD per month (730 h), {report.month}", NODEGROUP_HEADERS, _nodegroup_rows(report))
    reporter.table("Always running", ["target", "item", "count", "USD/h", "USD/month"], _fixed_rows(report))
    reporter.info(
        f"Total {report.total_always:.2f} USD/month always on, "
        f"{report.total_scheduled:.2f} with the schedules: "
        f"saving {report.saving:.2f} USD/month ({report.saving_percent}%; compute "
        f"{report.compute_saving_percent}%)"
    )
    for warning in report.warnings:  # prices standing in for a region's own (devops/domain/cost/pricing.py)
        reporter.warn(warning)
    reporter.github.summary(markdown(report))
    reporter.github.output("saving", f"{report.saving:.2f}")


def mermaid_week(week: Week) -> str:
    """A Mermaid gantt chart of the week's up/down hours (GitHub renders it in the summary)."""
    lines = [
        "```mermaid",
        "gantt",
        f"    title {week.schedule} ({week.timezone}), week of {week.start.isoformat()}, "
        f"up {week.up_hours:g} h of the week",
        "    dateFormat HH:mm",
        "    axisFormat %H:%M",
    ]
    for day in week.days:
        lines.append(f"    section {day.label}")
        for state, start, end in day.runs:
            tag = "active" if state == "up" else "done"
            lines.append(f"    {state} :{tag}, {start}, {'23:59' if end == '24:00' else end}")
    lines.append("```")
    return "\n".join(lines)


def markdown(report: CostReport) -> str:
    """The job summary: totals, node groups, fixed costs and a picture of each schedule's week."""
    parts = [
        f"## Cost report {report.month} (730 h/month)",
        "",
        *(f"> **Warning:** {warning}\n" for warning in report.warnings),
        f"**{report.total_always:.2f} USD/month always on, {report.total_scheduled:.2f} USD/month with the "
        f"schedules: saving {report.saving:.2f} USD ({report.saving_percent}% of the total, "
        f"{report.compute_saving_percent}% of compute).**",
        "",
        markdown_table(["target", "schedule", "zone", "month hours", "up hours", "up %", "note"], _month_rows(report)),
        markdown_table(["target", "node group", "instances", "node-hours always", "node-hours scheduled",
                        "USD/month always", "USD/month scheduled", "saving"], _nodegroup_rows(report)),
        markdown_table(["target", "always running", "count", "USD/hour", "USD/month"], _fixed_rows(report)),
    ]
    for week in report.weeks:
        parts += [mermaid_week(week), ""]
    return "\n".join(parts)

