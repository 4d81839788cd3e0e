"""How `devops release` and `devops rollback` show what they did: console, job summary, outputs, JSON."""

from __future__ import annotations

from devops.app.release import ReleaseReport
from devops.cli.context import AppContext


def short(digest: str) -> str:
    return digest[7:19] if digest.startswith("sha256:") else (digest or "-")


def render_report(app: AppContext, report: ReleaseReport) -> None:
    from devops.report.github import markdown_table

    reporter = app.reporter
    headers = ["service", "status", "tag", "digest", "was", "scan", "sonar", "note"]
    rows = [
        [s.service, s.status, s.tag or "-", short(s.digest), short(s.previous_digest),
         (s.scan or {}).get("verdict", "-"), (s.sonar or {}).get("verdict", "-"), s.note]
        for s in report.services
    ]
    verb = {"release": "Release", "promote": f"Promotion {report.source} ->", "rollback": "Rollback"}[report.action]
    title = f"{verb} {report.environment}" + (" (dry run)" if report.dry_run else "")
    reporter.table(title, headers, rows)
    line = outcome_line(report)
    reporter.info(line)
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
    reporter.result(report.to_dict())


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
