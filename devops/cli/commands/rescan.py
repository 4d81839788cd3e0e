"""`devops rescan --env E`: scan the digests an environment's release record names, again.

With the current Trivy DB and ignore files; the verdict becomes each entry's scan evidence (as
of the rescan), so a digest that turned vulnerable can no longer be promoted. Exit 0 every
digest passes, 1 a finding over the policy (the evidence is now FAILED), 2 bad input, 3 a digest
could not be pulled or scanned, or the evidence could not be written (the record moved).
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.rescan:RescanModel")
@click.command("rescan")
@click.option("--env", "environment", required=True, type=params.NAME,
              help="Environment whose release record is rescanned (see environments:).")
@click.option("--sarif", "sarif_path", type=params.file_path(),
              help="Write a SARIF file of the findings over the policy (inside the repository).")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, sarif_path: str | None, dry_run: bool) -> int:
    """Rescan the digests in --env's release record; write the verdict as their scan evidence."""
    from devops.app.rescan import rescan
    from devops.config.outputs import output_file
    from devops.domain.release.evidence import utc_now
    from devops.domain.release.rescan import rescan_error
    from devops.report.rescan import render_rescan
    from devops.wiring.rescan import CliRescanSteps, notifier

    config = app.config
    config.environment(environment)
    sarif = output_file(config.root, sarif_path, "--sarif") if sarif_path else None
    report = rescan(environment, list(config.services), CliRescanSteps(config, app.settings, app.reporter),
                    now=utc_now(), dry_run=dry_run, notifier=notifier(config, app.settings, app.reporter))
    render_rescan(app.reporter, report, sarif)
    error = rescan_error(report)
    if error is not None:
        raise error
    return 0
