"""`devops verify --env E`: is the released environment healthy?

Health and readiness endpoints plus the SLO queries of `observability.slos` over a window,
against the environment's Prometheus. Exit 0 healthy, 1 a service is not (each named with its
failing check; too little traffic to judge counts as failing), 2 bad input, 3 Prometheus
could not be asked. With --record (the default) the verdict goes into the release record,
where `devops release --env prod` requires it.
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.release_models:VerifyModel")
@click.command("verify")
@click.option("--env", "environment", required=True, type=params.NAME,
              help="Environment to verify (see environments:).")
@click.option("--service", "services", multiple=True, type=params.NAME, help="Only this service (repeatable).")
@click.option("--window", type=params.DURATION, help="Look-back of the SLO queries (default: verify.window).")
@click.option("--prometheus-url", type=params.HTTP_URL, help="Override environments.<env>.verify.prometheus.url.")
@click.option("--record/--no-record", default=True, show_default=True,
              help="Write the verdict into the environment's release record.")
@json_option
@pass_app
def cli(app: AppContext, environment: str, services: tuple[str, ...], window: str | None,
        prometheus_url: str | None, record: bool) -> int:
    """Check health endpoints and SLOs of --env; record the verdict as release evidence."""
    from devops.app.verify_run import verify_environment
    from devops.report.release import render_verification
    from devops.wiring.release import verify_ports

    ports = verify_ports(app.config, app.settings, app.reporter)
    outcome, error = verify_environment(app.config, environment, services, ports, record=record, window=window,
                                        prometheus_url=prometheus_url)
    render_verification(app.reporter, outcome)
    if error is not None:
        raise error
    return 0
