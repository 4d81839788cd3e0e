"""How `devops report dora` shows the four keys: a console table, a Markdown table for the
GitHub job summary, step outputs, the `--json` result (`DoraModel`) and, with `--chart`, a PNG
or SVG drawn with matplotlib (imported only then: `pip install 'devops[report]'`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.release.dora import Deployment, DoraReport, Incident
from devops.domain.release.evidence import iso
from devops.errors import ToolMissing
from devops.report.console import Reporter
from devops.report.github import markdown_table


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class FrequencyModel(_Model):
    deployments: int = Field(description="deployments in the window, rollbacks included")
    rollbacks: int
    per_day: float
    per_week: float


class LeadTimeModel(_Model):
    median_seconds: float | None = Field(description="null without samples")
    samples: int = Field(description="one per source commit of each change")
    changes_without_source_time: int = Field(description="changes whose entries do not say when the source "
                                                          "commit was made (records older than source_committed_at)")


class FailureRateModel(_Model):
    rate: float | None = Field(description="failed changes / changes, 0..1; null without changes")
    failed: int
    changes: int = Field(description="deployments that are not rollbacks")


class RestoreModel(_Model):
    median_seconds: float | None = Field(description="over the incidents restored in the window")
    restored: int
    open: int = Field(description="incidents not restored yet")


class DeploymentModel(_Model):
    commit: str
    at: str
    kind: str = Field(description="release (any change of digests) or rollback")
    services: dict[str, str] = Field(description="service -> digest deployed")
    failed: bool
    failed_by: str | None = Field(description="why it counts as failed; null when it did not fail")
    lead_time_seconds: list[float]


class IncidentModel(_Model):
    start: str
    commits: list[str] = Field(description="the failed deployments")
    restored_by: str | None = Field(description="the deployment that restored service; null while open")
    seconds: float = Field(description="time to restore (or open so far)")


class SkippedModel(_Model):
    commit: str
    reason: str


class DoraModel(_Model):
    """`devops report dora --json`."""

    environment: str
    since: str
    until: str
    days: float
    deployment_frequency: FrequencyModel
    lead_time: LeadTimeModel
    change_failure_rate: FailureRateModel
    time_to_restore: RestoreModel
    deployments: list[DeploymentModel]
    incidents: list[IncidentModel]
    skipped: list[SkippedModel] = Field(description="commits whose release record could not be read")
    chart: str | None = Field(description="the chart written; null without --chart")

    @classmethod
    def of(cls, report: DoraReport, chart: Path | None) -> DoraModel:
        lead, restore = report.lead_time, report.time_to_restore
        return cls(
            environment=report.environment, since=iso(report.since), until=iso(report.until), days=report.days,
            deployment_frequency=FrequencyModel(deployments=len(report.deployments),
                                                rollbacks=sum(1 for d in report.deployments if d.rollback),
                                                per_day=report.per_day, per_week=report.per_day * 7),
            lead_time=LeadTimeModel(median_seconds=lead.seconds, samples=lead.samples,
                                    changes_without_source_time=report.without_lead_time),
            change_failure_rate=FailureRateModel(rate=report.change_failure_rate, failed=len(report.failed),
                                                 changes=len(report.changes)),
            time_to_restore=RestoreModel(median_seconds=restore.seconds, restored=restore.samples,
                                         open=len(report.open_incidents)),
            deployments=[_deployment(d) for d in report.deployments],
            incidents=[_incident(i) for i in report.incidents],
            skipped=[SkippedModel(commit=c, reason=r) for c, r in report.skipped],
            chart=str(chart) if chart else None)


def _deployment(d: Deployment) -> DeploymentModel:
    return DeploymentModel(commit=d.commit, at=iso(d.at), kind="rollback" if d.rollback else "release",
                           services=dict(d.changed), failed=d.failed, failed_by=d.failed_by or None,
                           lead_time_seconds=list(d.lead_times))


def _incident(i: Incident) -> IncidentModel:
    return IncidentModel(start=iso(i.start), commits=list(i.commits), restored_by=i.restored_by, seconds=i.seconds)


def duration(seconds: float | None) -> str:
    """`3d 4h`, `2h 5m`, `12m`, `40s`; `-` for none."""
    if seconds is None:
        return "-"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def metric_rows(report: DoraReport) -> list[tuple[str, str, str]]:
    lead, restore = report.lead_time, report.time_to_restore
    rate = report.change_failure_rate
    rollbacks = sum(1 for d in report.deployments if d.rollback)
    return [
        ("Deployment frequency", f"{report.per_day * 7:.2f} / week",
         f"{len(report.deployments)} deployments in {report.days:g} days ({rollbacks} rollbacks)"),
        ("Lead time for changes", duration(lead.seconds),
         f"median of {lead.samples} source commits"
         + (f"; {report.without_lead_time} changes without a source commit time" if report.without_lead_time else "")),
        ("Change failure rate", "-" if rate is None else f"{rate:.1%}",
         f"{len(report.failed)} of {len(report.changes)} changes rolled back or failed verification"),
        ("Time to restore", duration(restore.seconds),
         f"median of {restore.samples} incidents" + (f"; {len(report.open_incidents)} still open"
                                                     if report.open_incidents else "")),
    ]


def markdown(report: DoraReport) -> str:
    """The job summary: the four keys, then the failed deployments."""
    title = f"### DORA metrics of {report.environment} ({report.since:%Y-%m-%d} .. {report.until:%Y-%m-%d})\n\n"
    text = title + markdown_table(("Metric", "Value", "Detail"), metric_rows(report))
    failed = [d for d in report.deployments if d.failed]
    if failed:
        text += "\n#### Failed deployments\n\n" + markdown_table(
            ("Commit", "Deployed", "Services", "Why"),
            [(d.commit[:12], iso(d.at), ", ".join(d.changed), d.failed_by) for d in failed])
    return text


def render_dora(reporter: Reporter, report: DoraReport, chart: Path | None) -> None:
    """Console table, skipped commits, chart, job summary, step outputs and the JSON result."""
    reporter.table(f"DORA metrics of {report.environment}", ("metric", "value", "detail"), metric_rows(report))
    for commit, reason in report.skipped:
        reporter.warn(f"{commit[:12]}: release record not read, skipped: {reason}")
    written = write_chart(report, chart) if chart is not None else None
    if written is not None:
        reporter.info(f"chart written to {written}")
    github = reporter.github
    github.summary(markdown(report))
    github.output("deployments", str(len(report.deployments)))
    rate = report.change_failure_rate
    github.output("change-failure-rate", "" if rate is None else f"{rate:.4f}")
    reporter.result(DoraModel.of(report, written))


def weekly(report: DoraReport) -> list[tuple[dt.date, int, int, int]]:
    """(Monday, successful changes, failed changes, rollbacks) per week of the window."""
    counts: Counter[tuple[dt.date, str]] = Counter()
    for d in report.deployments:
        monday = (d.at - dt.timedelta(days=d.at.weekday())).date()
        counts[(monday, "rollback" if d.rollback else ("failed" if d.failed else "ok"))] += 1
    first = (report.since - dt.timedelta(days=report.since.weekday())).date()
    weeks = []
    week = first
    while week <= report.until.date():
        weeks.append((week, counts[(week, "ok")], counts[(week, "failed")], counts[(week, "rollback")]))
        week += dt.timedelta(days=7)
    return weeks


def write_chart(report: DoraReport, path: Path) -> Path:
    """Deployments per week (stacked: ok, failed, rollback) above lead time per change, as PNG or
    SVG by the file's suffix. ToolMissing (exit 3) without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        raise ToolMissing("--chart needs matplotlib", hint="pip install 'devops[report]'") from None
    matplotlib.use("Agg")  # no display: CI runners and laptops over SSH
    import matplotlib.pyplot as plt

    weeks = weekly(report)
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), constrained_layout=True)
    try:
        labels = [w[0] for w in weeks]
        ok, failed, rolled = [w[1] for w in weeks], [w[2] for w in weeks], [w[3] for w in weeks]
        top.bar(labels, ok, width=5, label="change", color="#2b8a3e")
        top.bar(labels, failed, width=5, bottom=ok, label="failed change", color="#c92a2a")
        top.bar(labels, rolled, width=5, bottom=[a + b for a, b in zip(ok, failed, strict=True)], label="rollback",
                color="#e67700")
        top.set_title(f"{report.environment}: deployments per week")
        top.legend(loc="upper left")
        changes = [d for d in report.changes if d.lead_times]
        bottom.scatter([d.at for d in changes], [max(d.lead_times) / 3600 for d in changes],
                       c=["#c92a2a" if d.failed else "#1864ab" for d in changes], s=18)
        bottom.set_title("lead time for changes (hours, source commit to deployment)")
        bottom.set_xlim(report.since, report.until)
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format=path.suffix.lower().lstrip("."), metadata={"Date": None}
                       if path.suffix.lower() == ".svg" else None)
    finally:
        plt.close(figure)
    return path
