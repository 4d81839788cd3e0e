"""What a scan looks like to people: table rows grouped by severity, and the job summary."""

from __future__ import annotations

from collections.abc import Sequence

from devops.app.scan import ImageScan, ScanRun
from devops.domain.gates.policy import Judged

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
