"""How `devops release`, `rollback`, `status` and `verify` show what they did: console, job
summary, step outputs and the `--json` result (devops/report/release_models.py)."""

from __future__ import annotations

from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.results import EnvironmentStatus, ReleaseReport
from devops.domain.release.verification import Verification, VerifyOutcome
from devops.report.console import Reporter
from devops.report.github import markdown_table
from devops.report.release_models import (
    ReleaseListModel,
    ReleaseModel,
    RollbackModel,
    StatusModel,
    VerifyModel,
)


def short(digest: str) -> str:
    return digest[7:19] if digest.startswith("sha256:") else (digest or "-")


def render_report(reporter: Reporter, report: ReleaseReport, *, rollback: bool = False) -> None:
    """Table, outcome line, dry-run diff, job summary, step outputs and the JSON result."""
    headers = ["service", "status", "tag", "digest", "was", "scan", "sonar", "note"]
    rows = [
        [s.service, s.status, s.tag or "-", short(s.digest), short(s.previous_digest),
         (s.scan or {}).get("verdict", "-"), (s.sonar or {}).get("verdict", "-"), s.note]
        for s in report.services
    ]
    if report.action == "promote":  # the signature step's verdict (docs/supply-chain.md)
        headers.insert(-1, "signed")
        for row, s in zip(rows, report.services, strict=True):
            row.insert(-1, (s.signatures or {}).get("verdict", "-"))
    verb = {"release": "Release", "promote": f"Promotion {report.source} ->", "rollback": "Rollback"}[report.action]
    title = f"{verb} {report.environment}" + (" (dry run)" if report.dry_run else "")
    reporter.table(title, headers, rows)
    line = outcome_line(report)
    reporter.info(line)
    if report.break_glass:
        reporter.warn(f"{report.environment}: released through a freeze (break-glass by "
                      f"{(report.break_glass.get('by') or {}).get('actor', '?')}: {report.break_glass.get('reason')})")
    if report.auto_rollback is not None:
        reporter.warn(f"{report.environment}: automatic rollback {report.auto_rollback.outcome}: "
                      f"{report.auto_rollback.detail}")
        line += f"\n\nAutomatic rollback: {report.auto_rollback.outcome}: {report.auto_rollback.detail}"
    publish = report.publish
    if report.dry_run and publish is not None and publish.diff:
        reporter.console.print(publish.diff, markup=False, highlight=False)
    github = reporter.github
    github.summary(f"### {title}\n\n" + markdown_table(headers, rows) + f"\n{line}\n")
    if publish is not None:
        github.output("gitops-outcome", publish.outcome)
        if publish.commit:
            github.output("gitops-commit", publish.commit)
        if publish.pull_request_url:
            github.output("pull-request", publish.pull_request_url)
    else:
        github.output("gitops-outcome", "noop")
    model = ReleaseModel.of(report)
    reporter.result(RollbackModel(model) if rollback else model)


def outcome_line(report: ReleaseReport) -> str:
    publish = report.publish
    if publish is None or publish.outcome == "noop":
        return f"{report.environment}: nothing to change (no commit)"
    if publish.outcome == "dry-run":
        return f"{report.environment}: dry run, nothing written; the change is shown below"
    if publish.outcome == "pull-request":
        state = publish.pull_request_state or ""
        where = publish.pull_request_url or f"branch {publish.branch}"
        return f"{report.environment}: pull request {state} {where} ({publish.attempts} push attempt(s))"
    return (f"{report.environment}: committed {(publish.commit or '')[:12]} to {publish.branch} "
            f"({publish.attempts} push attempt(s))")


def render_releases(reporter: Reporter, environment: str, history: list[HistoryEntry]) -> None:
    """`devops rollback --list`: the releases `--to` can name, newest first."""
    rows = [[f"~{i}", h.commit[:12], h.date, h.subject] for i, h in enumerate(history)]
    reporter.table(f"Releases of {environment} (newest first)", ["--to", "commit", "date", "subject"], rows)
    reporter.result(RollbackModel(ReleaseListModel.of(environment, history)))


def render_status(reporter: Reporter, statuses: list[EnvironmentStatus]) -> None:
    """`devops status`: one table per environment, and what a promotion would change.

    With `--json` the tables are left out (one line per environment on stderr instead): the JSON
    holds every row, and laying out 20 tables of 100 rows was half the time of a status over 20
    environments (issue 18, benchmarks/results/profile-after.md)."""
    for status in statuses:
        title = f"{status.environment} @ {status.gitops_commit[:12]}"
        if status.released_at:
            title += f", released {status.released_at} by {status.released_by or '?'}"
        if reporter.json_mode:
            reporter.info(f"{title}: {len(status.services)} service(s)"
                          + (f", {len(status.pending)} to promote from {status.promote_from}"
                             if status.promote_from and status.pending else ""))
            continue
        rows = [[s.service, s.tag or "-", short(s.digest), s.source_commit[:7] or "-", s.age or "-",
                 s.scan or "-", s.sonar or "-", s.verification or "-", s.promotion or "-"] for s in status.services]
        headers = ["service", "tag", "digest", "commit", "age", "scan", "sonar", "verified",
                   f"promote from {status.promote_from}" if status.promote_from else "promotion"]
        reporter.table(title, headers, rows)
        for freeze in status.freezes:
            reporter.warn(f"{status.environment} is frozen: {freeze.describe()}")
        if status.promote_from:
            reporter.info(f"{status.environment}: a promotion from {status.promote_from} would change "
                          f"{len(status.pending)} service(s)" if status.pending else
                          f"{status.environment}: up to date with {status.promote_from}")
    reporter.result(StatusModel.of(statuses))


def render_verification(reporter: Reporter, outcome: VerifyOutcome, *, result: bool = True) -> None:
    """Table per check, job summary and step output; then what was recorded (or why not).

    `result`: also print the `--json` result (`devops verify`; a release prints its own, which
    holds this one).
    """
    verification: Verification = outcome.verification
    headers = ["service", "check", "verdict", "detail"]
    rows = [[s.service, c.name, c.verdict, c.detail] for s in verification.services for c in s.checks]
    title = f"Verification of {verification.environment} ({verification.window})"
    reporter.table(title, headers, rows)
    line = f"{verification.environment}: {verification.verdict}"
    reporter.info(line)
    reporter.github.summary(f"### {title}\n\n" + markdown_table(headers, rows) + f"\n{line}\n")
    reporter.github.output("verification", verification.verdict)
    if outcome.record_error is not None:
        reporter.warn(f"{verification.environment}: the verdict was not recorded in the release record: "
                      f"{outcome.record_error}")
    elif outcome.recorded is not None:
        reporter.info(outcome.recorded)
    if result:
        reporter.result(VerifyModel.of(outcome))
