"""`devops scan [SERVICE...] [--image REF] [--config]`: Trivy scan gate of images or configuration.

Exit 0 when every target passes the policy, 1 when a finding is over it, 3 when Trivy is
missing, fails, times out, prints no valid report or has no vulnerability DB.
"""

from __future__ import annotations

from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app
from devops.cli.results import json_result


@json_result("devops.report.scan_result:ScanResult")
@click.command("scan")
@click.argument("services", nargs=-1, type=params.NAME)
@click.option("--image", "images", multiple=True, type=params.IMAGE_REF, help="Scan this image reference (repeatable).")
@click.option("--config", "config_scan", is_flag=True,
              help="Scan configuration (Dockerfiles, charts/, gitops/, infra/) with `trivy config`.")
@click.option("--severity", help="Severities that fail, e.g. CRITICAL,HIGH [default: gates.scan.severities].")
@click.option("--ignore-unfixed/--no-ignore-unfixed", default=None,
              help="Do not fail on vulnerabilities without a fixed version.")
@click.option("--ignore-file", type=params.file_path(), help="Ignore file (.trivyignore or .trivyignore.yaml).")
@click.option("--scanners", help="Comma-separated: vuln,secret,misconfig,license [default: gates.scan.scanners].")
@click.option("--sarif", "sarif_path", type=params.file_path(), help="Write a SARIF file of the failing findings.")
@click.option("--sbom", "sbom_dir", type=params.dir_path(), help="Write a CycloneDX SBOM per image into DIR.")
@click.option("--no-cache", is_flag=True, help="Always run Trivy; do not read or write the scan cache.")
@click.option("--cache-dir", type=params.dir_path(), help="Scan cache folder [default: gates.cache_dir].")
@click.option("--trivy-cache-dir", type=params.dir_path(), help="Trivy's own cache (DB) folder.")
@click.option("--db-repository", "db_repositories", multiple=True, type=params.OCI_REPOSITORY,
              help="Vulnerability DB repository, tried in order.")
@click.option("--skip-db-update", is_flag=True, default=None, help="Use the DB already in the cache.")
@click.option("--offline", is_flag=True, default=None, help="No network at all: implies --skip-db-update.")
@click.option("--timeout", type=params.SECONDS,
              help="Seconds before Trivy is killed [default: gates.trivy.timeout_seconds].")
@click.option("--build-arg", "build_args", multiple=True, type=params.BUILD_ARG,
              help="Build argument, as given to `devops build`, to find the service's image.")
@json_option
@pass_app
def cli(app: AppContext, services: tuple[str, ...], images: tuple[str, ...], config_scan: bool, severity: str | None,
        ignore_unfixed: bool | None, ignore_file: str | None, scanners: str | None, sarif_path: str | None,
        sbom_dir: str | None, no_cache: bool, cache_dir: str | None, trivy_cache_dir: str | None,
        db_repositories: tuple[str, ...], skip_db_update: bool | None, offline: bool | None, timeout: float | None,
        build_args: tuple[str, ...]) -> int:
    """Scan service images (all by default) or --image REFs with Trivy, and apply the gate policy."""
    from devops.app.scan_run import ScanRequest, run_scan
    from devops.errors import BadInput, GateFailed
    from devops.report.scan_summary import gate_message, render
    from devops.wiring import scan as wiring
    from devops.wiring.images import build_args as parse_build_args

    config = app.config
    if timeout is not None and timeout <= 0:
        raise BadInput(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    arguments = {} if config_scan else parse_build_args(app, build_args)
    request = ScanRequest(services, images, config_scan, severity, ignore_unfixed, ignore_file, scanners, arguments,
                          Path(sbom_dir) if sbom_dir else None)
    ports = wiring.scan_ports(app, timeout=timeout, no_cache=no_cache, cache_dir=cache_dir,
                              trivy_cache_dir=trivy_cache_dir, db_repositories=db_repositories,
                              skip_db_update=bool(skip_db_update), offline=bool(offline))
    run = run_scan(config, request, ports, progress=app.reporter.debug)
    render(app.reporter, run, sarif_path)
    if run.exit_code == 1:
        # The gate said no: one error line naming what failed, as every other gate ends.
        raise GateFailed(gate_message(run), hint="fix them, or suppress each with a dated entry in the ignore file")
    return run.exit_code
