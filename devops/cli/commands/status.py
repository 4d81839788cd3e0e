"""`devops status [--env E]`: per environment and service, what runs and what a promotion would change."""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app


@click.command("status")
@click.option("--env", "environments", multiple=True, type=params.NAME, help="Environment (repeatable) [default: all].")
@json_option
@pass_app
def cli(app: AppContext, environments: tuple[str, ...]) -> int:
    """Tag, digest, source commit, age and gate verdicts per service, from the GitOps repository."""
    from devops.app.status import environment_status
    from devops.cli.wiring.release import CliSteps
    from devops.domain.release.evidence import utc_now
    from devops.report.release import short

    config = app.config
    names = list(environments) or list(config.environments)
    for name in names:
        config.environment(name)
    sources = {name: env.promote_from for name, env in config.environments.items()}
    statuses = environment_status(names, sources, list(config.services), CliSteps(app), now=utc_now())
    reporter = app.reporter
    for status in statuses:
        title = f"{status.environment} @ {status.gitops_commit[:12]}"
        if status.released_at:
            title += f", released {status.released_at} by {status.released_by or '?'}"
        rows = [[s.service, s.tag or "-", short(s.digest), s.source_commit[:7] or "-", s.age or "-",
                 s.scan or "-", s.sonar or "-", s.verification or "-", s.promotion or "-"] for s in status.services]
        headers = ["service", "tag", "digest", "commit", "age", "scan", "sonar", "verified",
                   f"promote from {status.promote_from}" if status.promote_from else "promotion"]
        reporter.table(title, headers, rows)
        if status.promote_from:
            reporter.info(f"{status.environment}: a promotion from {status.promote_from} would change "
                          f"{len(status.pending)} service(s)" if status.pending else
                          f"{status.environment}: up to date with {status.promote_from}")
    reporter.result({"environments": [s.to_dict() for s in statuses]})
    return 0
