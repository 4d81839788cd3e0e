"""What a scan looks like to people: table rows grouped by severity, annotations, the job
summary, step outputs, the SARIF file and the `--json` result (devops/report/scan_result.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devops.domain.gates.policy import Judged
from devops.domain.gates.scan import ImageScan, ScanRun
from devops.domain.gates.severity import SEVERITY_ORDER
from devops.report.console import Reporter

HEADERS = ("Severity", "ID", "Package / file", "Installed", "Fixed / title", "Verdict", "Why")
STATUS_WORD = {"fail": "FAIL", "pass": "pass", "suppressed": "suppressed"}


def finding_rows(judged: Sequence[Judged]) -> list[tuple[str, ...]]:
    """One row per finding, most severe first (the report's order), failing ones first within."""
    order = {"fail": 0, "pass": 1, "suppressed": 2}
    rows: list[tuple[str, ...]] = []
    for item in sorted(judged, key=lambda j: (j.finding.severity_rank, order[j.status])):
        f = item.finding
        where = f.pkg_name or f.path or f.target
        if f.start_line:
            where += f":{f.start_line}"
        # Vulnerabilities: the fixed version. Other findings: their title (the check, the rule).
        fixed = f.fixed_version if f.kind == "vulnerability" else f.title[:80]
        if f.kind == "vulnerability" and not fixed:
            fixed = f"(none: {f.status or 'unfixed'})"
        rows.append(
            (f.severity, f.id, where, f.installed_version, fixed, STATUS_WORD[item.status], item.reason)
        )
    return rows


def headline(scan: ImageScan) -> str:
    verdict = scan.verdict
    word = "PASS" if verdict.passed else "FAIL"
    cached = " (cached)" if scan.cached else ""
    return (
        f"{scan.target.ref}: {word}{cached}: {len(verdict.failing)} over the policy, "
        f"{len(verdict.suppressed)} suppressed, {len(verdict.below)} below the threshold "
        f"[{verdict.policy.describe()}]"
    )


def markdown(run: ScanRun, *, limit: int = 50) -> str:
    """The job summary: one verdict table, then the failing findings of each target."""
    from devops.report.github import markdown_table

    title = "Configuration scan" if run.kind == "config" else "Image scan"
    rows = []
    for scan in run.scans:
        counts = scan.verdict.counts("fail")
        rows.append(
            (
                scan.target.ref,
                "✅ pass" if scan.verdict.passed else "❌ fail",
                *(counts[s] for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW")),
                len(scan.verdict.suppressed),
                "yes" if scan.cached else "no",
            )
        )
    for skip in run.skipped:
        rows.append((skip.name, f"SKIPPED ({skip.reason})", "", "", "", "", "", ""))
    text = f"### {title}: {'passed' if run.passed else 'failed'}\n\n"
    text += markdown_table(
        ("Target", "Verdict", "Critical", "High", "Medium", "Low", "Suppressed", "Cached"), rows
    )
    for scan in run.scans:
        failing = scan.verdict.failing
        if not failing:
            continue
        shown = finding_rows(failing)[:limit]
        text += f"\n#### {scan.target.ref}\n\n" + markdown_table(HEADERS, shown)
        if len(failing) > limit:
            text += f"\n… and {len(failing) - limit} more (see the SARIF / JSON output)\n"
    return text


def render(reporter: Reporter, run: ScanRun, sarif_path: str | None) -> None:
    """Everything `devops scan` shows: per target its headline, tables, expired ignore entries and
    annotations; then the SARIF file, the summary, the step outputs and the JSON result."""
    from devops.report.sarif import SarifTarget, write_sarif
    from devops.report.scan_result import scan_result

    github = reporter.github
    sarif_file = None
    if sarif_path:
        targets = [
            SarifTarget(
                name=scan.target.ref,
                findings=[j.finding for j in scan.verdict.failing],
                uri=scan.target.location or scan.target.ref,
                trivy_version=run.trivy_version,
            )
            for scan in run.scans
        ]
        sarif_file = write_sarif(Path(sarif_path), targets)
    for scan in run.scans:
        reporter.info(headline(scan))
        tables(reporter, scan)
        for entry in scan.verdict.expired:
            reporter.warn(
                f"{entry.source}: ignore entry {entry.id} expired on {entry.expired_at}; "
                "it no longer suppresses anything"
            )
            where, _, line = entry.source.rpartition(":")
            github.annotate(
                "warning",
                f"ignore entry {entry.id} expired on {entry.expired_at}; it no longer suppresses anything",
                file=where,
                line=int(line) if line.isdigit() else None,
            )
        for judged in scan.verdict.failing:
            f = judged.finding
            # Config findings sit in a repository file; an image's on its service's Dockerfile;
            # an --image REF has no file in the repository.
            if run.kind == "config":
                file, line_no = f.path or None, f.start_line or None
            else:
                file, line_no = (scan.target.location or None) if scan.target.service else None, None
            github.annotate(
                "error",
                f"{f.id} {f.severity} {f.pkg_name or f.path}: {f.title}"[:300],
                file=file,
                line=line_no,
                title=f"{scan.target.ref}: {f.id}",
            )
        if scan.sbom:
            reporter.info(f"{scan.target.ref}: SBOM written to {scan.sbom}")
    for skip in run.skipped:
        reporter.info(f"{skip.name}: SKIPPED ({skip.reason})")
    if sarif_file:
        reporter.info(
            f"SARIF ({sum(len(s.verdict.failing) for s in run.scans)} results) written to {sarif_file}"
        )
    word = "passed" if run.passed else "failed"
    reporter.info(
        f"scan {word}: {len(run.scans)} target(s), {len(run.skipped)} skipped, "
        f"{run.seconds:.1f} s ({run.trivy_seconds:.1f} s in Trivy)"
    )
    github.summary(markdown(run))
    github.output("scan-verdict", "pass" if run.passed else "fail")
    if sarif_file:
        github.output("sarif", str(sarif_file))
    reporter.result(scan_result(run, str(sarif_file) if sarif_file else None))


def tables(reporter: Reporter, scan: ImageScan) -> None:
    """One table per severity, most severe first; why a finding is suppressed is listed below."""
    from rich.table import Table

    rows = finding_rows(scan.verdict.judged)
    for severity in SEVERITY_ORDER:
        group = [row for row in rows if row[0] == severity]
        if not group:
            continue
        table = Table(title=f"{severity} ({len(group)})", title_justify="left", box=None, pad_edge=False)
        packages = any(row[3] for row in group)  # vulnerabilities have an installed version
        table.add_column("ID", no_wrap=True)
        table.add_column("Package / file", overflow="fold")
        if packages:
            table.add_column("Installed", overflow="fold")
        table.add_column("Fixed" if packages else "Title", overflow="fold")
        table.add_column("Verdict", no_wrap=True)
        for _sev, ident, where, installed, fixed, verdict, _why in group:
            table.add_row(
                *((ident, where, installed, fixed, verdict) if packages else (ident, where, fixed, verdict))
            )
        reporter.console.print(table)
    for _sev, ident, where, _installed, _fixed, verdict, why in rows:
        if verdict == "suppressed":
            reporter.info(f"  suppressed {ident} ({where}): {why}")


def gate_message(run: ScanRun) -> str:
    """The one error line of a failed scan, naming what failed (at most five ids per target)."""
    failing = run.failing_ids()
    named = "; ".join(f"{ref}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}" for ref, ids in failing)
    total = sum(len(ids) for _, ids in failing)
    return f"scan failed: {total} finding(s) over the policy ({named})"
