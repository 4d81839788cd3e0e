"""`devops attest --env E`: sign the evidence of E's released digests with Sigstore.

One bundle per evidence kind (image signature, SLSA provenance, CycloneDX SBOM, Trivy
vulnerabilities, Sonar verdict, post-release verification) per digest in E's release record,
attached as OCI 1.1 referrers. Keyless in GitHub Actions (the job's OIDC token), or with the key
of `signing.key`. Exit 0 signed (or nothing to sign; kinds without evidence yet are SKIPPED),
1 the record names another repository, 2 bad input (key, token, trust config), 3 the registry,
Trivy, Fulcio or Rekor failed.
"""

from __future__ import annotations

import click

from devops.cli import params
from devops.cli.context import AppContext, dry_run_option, json_option, pass_app
from devops.cli.results import json_result
from devops.domain.attestation.predicates import EvidenceKind


@json_result("devops.report.signatures:AttestModel")
@click.command("attest")
@click.option("--env", "environment", required=True, type=params.NAME,
              help="Environment whose release record is signed (the one that builds, e.g. dev).")
@click.option("--services", "services_csv", type=params.NAMES_CSV, help="Only these services (comma-separated).")
@click.option("--kind", "kinds", multiple=True, type=click.Choice([k.value for k in EvidenceKind]),
              help="Only this evidence kind (repeatable) [default: all].")
@click.option("--classic-tags/--no-classic-tags", default=None,
              help="Also write cosign's classic sha256-<hex>.sig/.att tags [default: signing.classic_tags].")
@click.option("--force", is_flag=True, help="Sign again what this signer already attested.")
@dry_run_option
@json_option
@pass_app
def cli(app: AppContext, environment: str, services_csv: str | None, kinds: tuple[str, ...],
        classic_tags: bool | None, force: bool, dry_run: bool) -> int:
    """Sign and attach the evidence of --env's recorded digests (docs/supply-chain.md)."""
    from devops.app.attest import AttestOptions, attest
    from devops.report.signatures import render_attest
    from devops.wiring.adapters import parallelism
    from devops.wiring.signatures import CliAttestSteps, signing_run, sonar_project

    config = app.config
    config.environment(environment)
    chosen = [s.strip() for s in (services_csv or "").split(",") if s.strip()]
    for name in chosen:
        config.service(name)
    signing = config.signing
    options = AttestOptions(
        environment, chosen, list(config.services), signing_run(config, app.settings), sonar_project(config),
        signing.method, kinds=tuple(k for k in EvidenceKind if k.value in kinds) if kinds else tuple(EvidenceKind),
        classic_tags=signing.classic_tags if classic_tags is None else classic_tags, force=force, dry_run=dry_run,
        parallelism=parallelism(config))
    render_attest(app.reporter, attest(options, CliAttestSteps(config, app.settings, app.reporter)))
    return 0
