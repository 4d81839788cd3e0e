"""`devops scan [SERVICE...] [--image REF] [--config]`: Trivy scan gate of images or configuration.

Exit 0 when every target passes the policy, 1 when a finding is over it, 3 when Trivy is
missing, fails, times out, prints no valid report or has no vulnerability DB.
"""

from __future__ import annotations

from pathlib import Path

import click

from devops.cli import params
from devops.cli.context import AppContext, json_option, pass_app


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
    from devops.adapters.scan_cache import ScanCache
    from devops.adapters.trivy import Trivy
    from devops.app.scan import scan_configs, scan_images
    from devops.app.scan_targets import config_targets, image_targets
    from devops.domain.gates.policy import PolicyOverride, parse_scanners, parse_severities
    from devops.errors import BadInput

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
    settings = config.gates.trivy
    updates: dict[str, object] = {}
    if trivy_cache_dir:
        updates["cache_dir"] = str(Path(trivy_cache_dir).resolve())
    if db_repositories:
        updates["db_repositories"] = tuple(db_repositories)
    if skip_db_update:
        updates["skip_db_update"] = True
    if offline:
        updates["offline"] = True
    if updates:
        settings = settings.model_copy(update=updates)
    trivy = Trivy(settings, config.root, timeout=timeout)
    reporter = app.reporter

    if config_scan:
        run = scan_configs(config_targets(config, override, services), trivy, progress=reporter.debug)
    else:
        from devops.adapters.docker import DockerEngine
        from devops.app.plan import parse_build_args

        targets = image_targets(config, services, images, override, build_args=parse_build_args(build_args))
        engine = DockerEngine()
        folder = (
            None if no_cache else (Path(cache_dir) if cache_dir else config.root / config.gates.cache_dir)
        )
        run = scan_images(
            targets,
            trivy,
            ScanCache(folder),
            engine.image_id,
            sbom_dir=Path(sbom_dir) if sbom_dir else None,
            progress=reporter.debug,
        )
    _render(app, run, sarif_path)
    if run.exit_code == 1:
        # The gate said no: one error line naming what failed, as every other gate ends.
        from devops.errors import GateFailed

        failing = [(scan.target.ref, [j.finding.id for j in scan.verdict.failing]) for scan in run.scans]
        named = "; ".join(f"{ref}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}" for ref, ids in failing if ids)
        total = sum(len(ids) for _, ids in failing)
        raise GateFailed(f"scan failed: {total} finding(s) over the policy ({named})",
                         hint="fix them, or suppress each with a dated entry in the ignore file")
    return run.exit_code


def _render(app: AppContext, run, sarif_path: str | None) -> None:  # type: ignore[no-untyped-def]
    from devops.report.sarif import SarifTarget, write_sarif
    from devops.report.scan_summary import headline, markdown

    reporter = app.reporter
    github = reporter.github
    sarif_file = None
    if sarif_path:
        targets = [
            SarifTarget(
                name=scan.target.ref,
                findings=[j.finding for j in scan.verdict.failing],
                uri=scan.target.location or scan.target.ref,
                trivy_version=run.trivy_version,
            )
            for scan in run.scans
        ]
        sarif_file = write_sarif(Path(sarif_path), targets)
    for scan in run.scans:
        reporter.info(headline(scan))
        _tables(reporter, scan)
        for entry in scan.verdict.expired:
            reporter.warn(
                f"{entry.source}: ignore entry {entry.id} expired on {entry.expired_at}; "
                "it no longer suppresses anything"
            )
            where, _, line = entry.source.rpartition(":")
            github.annotate(
                "warning",
                f"ignore entry {entry.id} expired on {entry.expired_at}; it no longer suppresses anything",
                file=where,
                line=int(line) if line.isdigit() else None,
            )
        for judged in scan.verdict.failing:
            f = judged.finding
            # Config findings sit in a repository file; an image's on its service's Dockerfile;
            # an --image REF has no file in the repository.
            if run.kind == "config":
                file, line_no = f.path or None, f.start_line or None
            else:
                file, line_no = (scan.target.location or None) if scan.target.service else None, None
            github.annotate(
                "error",
                f"{f.id} {f.severity} {f.pkg_name or f.path}: {f.title}"[:300],
                file=file,
                line=line_no,
                title=f"{scan.target.ref}: {f.id}",
            )
        if scan.sbom:
            reporter.info(f"{scan.target.ref}: SBOM written to {scan.sbom}")
    for skip in run.skipped:
        reporter.info(f"{skip.name}: SKIPPED ({skip.reason})")
    if sarif_file:
        reporter.info(
            f"SARIF ({sum(len(s.verdict.failing) for s in run.scans)} results) written to {sarif_file}"
        )
    word = "passed" if run.passed else "failed"
    reporter.info(
        f"scan {word}: {len(run.scans)} target(s), {len(run.skipped)} skipped, "
        f"{run.seconds:.1f} s ({run.trivy_seconds:.1f} s in Trivy)"
    )
    github.summary(markdown(run))
    github.output("scan-verdict", "pass" if run.passed else "fail")
    if sarif_file:
        github.output("sarif", str(sarif_file))
    reporter.result({**run.to_dict(), "sarif": str(sarif_file) if sarif_file else None})


def _tables(reporter, scan) -> None:  # type: ignore[no-untyped-def]
    """One table per severity, most severe first; why a finding is suppressed is listed below."""
    from rich.table import Table

    from devops.report.scan_summary import finding_rows

    rows = finding_rows(scan.verdict.judged)
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"):
        group = [row for row in rows if row[0] == severity]
        if not group:
            continue
        table = Table(title=f"{severity} ({len(group)})", title_justify="left", box=None, pad_edge=False)
        packages = any(row[3] for row in group)  # vulnerabilities have an installed version
        table.add_column("ID", no_wrap=True)
        table.add_column("Package / file", overflow="fold")
        if packages:
            table.add_column("Installed", overflow="fold")
        table.add_column("Fixed" if packages else "Title", overflow="fold")
        table.add_column("Verdict", no_wrap=True)
        for _sev, ident, where, installed, fixed, verdict, _why in group:
            table.add_row(
                *((ident, where, installed, fixed, verdict) if packages else (ident, where, fixed, verdict))
            )
        reporter.console.print(table)
    for _sev, ident, where, _installed, _fixed, verdict, why in rows:
        if verdict == "suppressed":
            reporter.info(f"  suppressed {ident} ({where}): {why}")
