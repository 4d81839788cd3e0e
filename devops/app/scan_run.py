"""`devops scan` as one use case: the targets the request names, scanned on the ports, judged."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devops.app.plan import Bases, InputReader
from devops.app.scan import PathKind, ScanCache, Scanner, scan_configs, scan_images
from devops.app.scan_targets import config_targets, image_targets
from devops.config import Config
from devops.domain.gates.policy import IgnoreLoader, PolicyOverride, parse_scanners, parse_severities
from devops.domain.gates.scan import ScanRun
from devops.errors import BadInput


@dataclass(frozen=True)
class ScanRequest:
    services: Sequence[str] = ()
    images: Sequence[str] = ()
    config_scan: bool = False  # `trivy config` of Dockerfiles and gates.config_paths
    severity: str | None = None  # the command line's layer of the policy, as typed
    ignore_unfixed: bool | None = None
    ignore_file: str | None = None
    scanners: str | None = None
    build_args: Mapping[str, str] = field(default_factory=dict)
    sbom_dir: Path | None = None


@dataclass(frozen=True)
class ScanPorts:
    trivy: Scanner
    load_ignore: IgnoreLoader
    reader: InputReader  # which image a service is: its build identity
    cache: Callable[[], ScanCache]
    image_ids: Callable[[], Callable[[Sequence[str]], Mapping[str, str]]]  # the local engine's, asked once
    path_kind: Callable[[Path], PathKind]
    bases: Callable[[], Bases]  # the FROM images' digests, part of the identity


def run_scan(config: Config, request: ScanRequest, ports: ScanPorts, *,
             progress: Callable[[str], None] = lambda _msg: None) -> ScanRun:
    """Scan what the request names under its policy; bad options are exit 2 before any scan."""
    if request.config_scan and request.images:
        raise BadInput("--config scans configuration files; it cannot be combined with --image")
    override = PolicyOverride(
        severities=parse_severities(request.severity) if request.severity else None,
        ignore_unfixed=request.ignore_unfixed,
        ignore_file=request.ignore_file,
        scanners=parse_scanners(request.scanners) if request.scanners else None,
    )
    if request.config_scan:
        targets = config_targets(config, override, request.services, load_ignore=ports.load_ignore)
        return scan_configs(targets, ports.trivy, ports.path_kind, progress=progress)
    images = image_targets(config, request.services, request.images, override, reader=ports.reader,
                           bases=ports.bases, load_ignore=ports.load_ignore, build_args=request.build_args)
    return scan_images(images, ports.trivy, ports.cache(), ports.image_ids(), sbom_dir=request.sbom_dir,
                       progress=progress)
