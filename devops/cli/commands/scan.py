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
@click.option(
    "--image", "images", multiple=True, type=params.IMAGE_REF, help="Scan this image reference (repeatable)."
)
@click.option(
    "--config",
    "config_scan",
    is_flag=True,
    help="Scan configuration (Dockerfiles, charts/, gitops/, infra/) with `trivy config`.",
)
@click.option("--severity", help="Severities that fail, e.g. CRITICAL,HIGH [default: gates.scan.severities].")
@click.option(
    "--ignore-unfixed/--no-ignore-unfixed",
    default=None,
    help="Do not fail on vulnerabilities without a fixed version.",
)
@click.option(
    "--ignore-file", type=params.file_path(), help="Ignore file (.trivyignore or .trivyignore.yaml)."
)
@click.option(
    "--scanners", help="Comma-separated: vuln,secret,misconfig,license [default: gates.scan.scanners]."
)
@click.option(
    "--sarif",
    "sarif_path",
    type=params.file_path(),
    help="Write a SARIF file of the failing findings.",
)
@click.option(
    "--sbom", "sbom_dir", type=params.dir_path(), help="Write a CycloneDX SBOM per image into DIR."
)
@click.option("--no-cache", is_flag=True, help="Always run Trivy; do not read or write the scan cache.")
@click.option(
    "--cache-dir", type=params.dir_path(), help="Scan cache folder [default: gates.cache_dir]."
)
@click.option("--trivy-cache-dir", type=params.dir_path(), help="Trivy's own cache (DB) folder.")
@click.option(
    "--db-repository", "db_repositories", multiple=True, type=params.OCI_REPOSITORY,
    help="Vulnerability DB repository, tried in order."
)
@click.option("--skip-db-update", is_flag=True, default=None, help="Use the DB already in the cache.")
@click.option("--offline", is_flag=True, default=None, help="No network at all: implies --skip-db-update.")
@click.option(
    "--timeout", type=params.SECONDS, help="Seconds before Trivy is killed [default: gates.trivy.timeout_seconds]."
)
@click.option(
    "--build-arg",
    "build_args",
    multiple=True,
    type=params.BUILD_ARG,
    help="Build argument, as given to `devops build`, to find the service's image.",
)
@json_option
@pass_app
def cli(
    app: AppContext,
    services: tuple[str, ...],
    images: tuple[str, ...],
    config_scan: bool,
    severity: str | None,
    ignore_unfixed: bool | None,
    ignore_file: str | None,
    scanners: str | None,
    sarif_path: str | None,
    sbom_dir: str | None,
    no_cache: bool,
    cache_dir: str | None,
    trivy_cache_dir: str | None,
    db_repositories: tuple[str, ...],
    skip_db_update: bool | None,
    offline: bool | None,
    timeout: float | None,
    build_args: tuple[str, ...],
) -> int:
    """Scan service images (all by default) or --image REFs with Trivy, and apply the gate policy."""
    from devops.app.scan import scan_configs, scan_images
    from devops.app.scan_targets import config_targets, image_targets
    from devops.cli.wiring import images as images_wiring
    from devops.cli.wiring import scan as wiring
    from devops.domain.gates.policy import PolicyOverride, parse_scanners, parse_severities
    from devops.errors import BadInput, GateFailed
    from devops.report.scan_summary import gate_message, render

    config = app.config
    if config_scan and images:
        raise BadInput("--config scans configuration files; it cannot be combined with --image")
    if timeout is not None and timeout <= 0:
        raise BadInput(f"--timeout: expected a positive number of seconds, got {timeout:g}")
    override = PolicyOverride(
        severities=parse_severities(severity) if severity else None,
        ignore_unfixed=ignore_unfixed,
        ignore_file=ignore_file,
        scanners=parse_scanners(scanners) if scanners else None,
    )
    trivy = wiring.trivy(config, timeout=timeout, cache_dir=trivy_cache_dir, db_repositories=db_repositories,
                         skip_db_update=bool(skip_db_update), offline=bool(offline))
    reporter = app.reporter
    if config_scan:
        targets = config_targets(config, override, services, load_ignore=wiring.load_ignore)
        run = scan_configs(targets, trivy, wiring.path_kind, progress=reporter.debug)
    else:
        image_list = image_targets(config, services, images, override, reader=images_wiring.input_reader(app),
                                   load_ignore=wiring.load_ignore, build_args=images_wiring.build_args(app, build_args))
        run = scan_images(image_list, trivy, wiring.scan_cache(config, disabled=no_cache, folder=cache_dir),
                          wiring.image_ids(), sbom_dir=Path(sbom_dir) if sbom_dir else None, progress=reporter.debug)
    render(reporter, run, sarif_path)
    if run.exit_code == 1:
        # The gate said no: one error line naming what failed, as every other gate ends.
        raise GateFailed(gate_message(run), hint="fix them, or suppress each with a dated entry in the ignore file")
    return run.exit_code
