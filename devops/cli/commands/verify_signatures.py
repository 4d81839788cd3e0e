"""`devops verify-signatures --env E`: does what E runs carry the signed evidence a policy requires?

For each digest E's values files name: every bundle referring to it, checked against the signer of
`environments.<P>.signatures` (P = --policy, default E), every required evidence kind present,
about that digest, passing and agreeing with E's release record. Exit 0 all passed, 1 evidence
missing or failing (each named), 2 bad input (no policy, bad key file), 3 the registry or the
GitOps repository could not be read.
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.signatures:VerifySignaturesModel")
@click.command("verify-signatures")
@click.option("--env", "environment", required=True, type=params.NAME, help="Environment whose digests are checked.")
@click.option("--policy", "policy_environment", type=params.NAME,
              help="Apply this environment's signatures policy (e.g. --env dev --policy prod) [default: --env].")
@click.option("--services", "services_csv", type=params.NAMES_CSV, help="Only these services (comma-separated).")
@json_option
@pass_app
def cli(app: AppContext, environment: str, policy_environment: str | None, services_csv: str | None) -> int:
    """Check the signatures and attestations of what --env runs."""
    from devops.app.signatures import refusal, verify_signatures
    from devops.errors import ConfigError
    from devops.report.signatures import render_signatures
    from devops.wiring.release import CliSteps
    from devops.wiring.signatures import signature_gate

    config = app.config
    config.environment(environment)
    owner = policy_environment or environment
    config.environment(owner)
    chosen = [s.strip() for s in (services_csv or "").split(",") if s.strip()]
    for name in chosen:
        config.service(name)
    gate = signature_gate(config, environment, app.settings, policy_environment=owner)
    if gate is None:
        raise ConfigError(f"{config.source}: environments.{owner}.signatures is not set",
                          hint="add it (docs/supply-chain.md) or name another environment's with --policy")
    steps = CliSteps(config, app.settings, app.reporter)
    report = verify_signatures(environment, chosen or list(config.services), steps, gate, policy_environment=owner)
    render_signatures(app.reporter, report)
    failed = refusal(report)
    if failed is not None:
        raise failed
    return 0
