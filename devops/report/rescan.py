"""How `devops rescan` shows what it found: a table per environment, the failing findings, the
SARIF file, the job summary, step outputs and the `--json` result (`RescanModel`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.release.evidence import iso
from devops.domain.release.rescan import RescanReport, ServiceRescan
from devops.report.console import Reporter
from devops.report.github import markdown_table
from devops.report.release_models import PublishModel

HEADERS = ("service", "digest", "was", "now", "critical", "high", "over the policy")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServiceRescanModel(_Model):
    service: str
    repository: str
    digest: str = Field(description="the digest rescanned (the one the release record names)")
    previous_verdict: str | None = Field(description="the scan verdict the record held before; null when none")
    verdict: str = Field(description="PASSED, FAILED (a finding over the policy) or UNAVAILABLE (not rescanned)")
    newly_failed: bool = Field(description="FAILED now and not before: what is notified")
    counts: dict[str, int] = Field(description="all findings per severity (empty when UNAVAILABLE)")
    failing: list[str] = Field(description="ids of the findings over the policy")
    error: str | None = Field(description="why it could not be rescanned; null unless UNAVAILABLE")

    @classmethod
    def of(cls, item: ServiceRescan) -> ServiceRescanModel:
        target = item.target
        return cls(service=target.service, repository=target.repository, digest=target.digest,
                   previous_verdict=target.previous or None, verdict=item.verdict, newly_failed=item.newly_failed,
                   counts=dict(item.counts), failing=list(item.failing), error=item.error or None)


class RescanModel(_Model):
    """`devops rescan --json`."""

    environment: str
    verdict: str = Field(description="FAILED when a digest fails, else UNAVAILABLE when one could not be "
                                     "rescanned, else PASSED (also when the record lists no service)")
    dry_run: bool
    checked_at: str = Field(description="the time written as checked_at of the new evidence")
    trivy_version: str | None
    db_updated_at: str | None = Field(description="when the Trivy DB used was built")
    services: list[ServiceRescanModel]
    warnings: list[str]
    gitops: PublishModel | None = Field(description="what was written to the GitOps repository; null when nothing")
    record_error: str | None = Field(description="why the evidence could not be written; null when it was")
    sarif: str | None = Field(description="the SARIF file written; null without --sarif")

    @classmethod
    def of(cls, report: RescanReport, sarif: Path | None) -> RescanModel:
        return cls(environment=report.environment, verdict=report.verdict, dry_run=report.dry_run,
                   checked_at=iso(report.checked_at), trivy_version=report.trivy_version or None,
                   db_updated_at=report.db_updated_at, services=[ServiceRescanModel.of(s) for s in report.services],
                   warnings=list(report.warnings),
                   gitops=PublishModel.of(report.publish) if report.publish is not None else None,
                   record_error=report.record_error, sarif=str(sarif) if sarif else None)


def _short(digest: str) -> str:
    return digest[7:19] if digest.startswith("sha256:") else digest


def rows(report: RescanReport) -> list[tuple[str, ...]]:
    table: list[tuple[str, ...]] = []
    for item in report.services:
        counts = item.counts
        over = ", ".join(item.failing[:5]) + (" ..." if len(item.failing) > 5 else "")
        table.append((item.target.service, _short(item.target.digest), item.target.previous or "-", item.verdict,
                      str(counts.get("CRITICAL", "")), str(counts.get("HIGH", "")), over or item.error[:120]))
    return table


def outcome_line(report: RescanReport) -> str:
    publish = report.publish
    if not report.services:
        return f"{report.environment}: the release record lists no service; nothing to rescan"
    if report.record_error is not None:
        return f"{report.environment}: {report.verdict}; the evidence was NOT written: {report.record_error}"
    if report.dry_run or publish is None:
        return f"{report.environment}: {report.verdict}; nothing written" + (" (dry run)" if report.dry_run else "")
    if publish.outcome == "noop":
        return f"{report.environment}: {report.verdict}; the release record already held this evidence"
    where = publish.pull_request_url or (publish.commit or "")[:12]
    return f"{report.environment}: {report.verdict}; scan evidence written ({publish.outcome} {where})"


def render_rescan(reporter: Reporter, report: RescanReport, sarif_path: Path | None) -> None:
    """Everything `devops rescan` shows, then the JSON result."""
    from devops.report.sarif import SarifTarget, write_sarif
    from devops.report.scan_summary import tables

    sarif_file = None
    if sarif_path is not None:
        targets = [SarifTarget(name=item.target.reference, findings=[j.finding for j in item.scan.verdict.failing],
                               uri=item.scan.target.location or item.target.reference,
                               trivy_version=report.trivy_version)
                   for item in report.services if item.scan is not None]
        sarif_file = write_sarif(sarif_path, targets)
    title = f"Rescan of {report.environment}" + (" (dry run)" if report.dry_run else "")
    reporter.table(title, HEADERS, rows(report))
    for item in report.services:
        if item.scan is not None and item.scan.verdict.failing:
            reporter.info(f"{item.target.service} {_short(item.target.digest)}: findings over the policy")
            tables(reporter, item.scan)
    for warning in report.warnings:
        reporter.warn(warning)
    github = reporter.github
    for item in report.services:
        if item.verdict == "FAILED":
            github.annotate("error", f"{item.target.reference[:120]}: {', '.join(item.failing[:10])} over the "
                                     "policy; promotion of this digest is refused",
                            file=item.scan.target.location if item.scan else None,
                            title=f"rescan {report.environment}: {item.target.service}")
    line = outcome_line(report)
    reporter.info(line)
    if sarif_file is not None:
        reporter.info(f"SARIF ({sum(len(s.failing) for s in report.services)} results) written to {sarif_file}")
        github.output("sarif", str(sarif_file))
    github.summary(f"### {title}\n\n" + markdown_table(HEADERS, rows(report)) + f"\n{line}\n")
    github.output("rescan-verdict", report.verdict)
    reporter.result(RescanModel.of(report, sarif_file))
