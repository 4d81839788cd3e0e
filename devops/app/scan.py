"""The scan steps: images (`devops scan`) and configuration (`devops scan --config`).

Pure orchestration: Trivy, the image-ID lookup, the cache and what is on disk come in as ports,
results go out as domain values (devops/domain/gates/scan.py). Fail closed: anything that keeps
a target from being judged raises an exit-3 error; nothing here turns a broken scan into a pass.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Literal, Protocol

from devops.domain.gates.findings import MalformedReport, ScanReport, parse_report
from devops.domain.gates.policy import evaluate
from devops.domain.gates.scan import (
    CacheEntry,
    CacheKey,
    ConfigTarget,
    ImageScan,
    ImageTarget,
    ScanRun,
    Skipped,
    TrivyRun,
    TrivyVersion,
    check_identity,
    relocate,
    sbom_file_name,
)
from devops.errors import GateUnavailable, ToolFailed

__all__ = ["ConfigTarget", "ImageScan", "ImageTarget", "PathKind", "ScanCache", "ScanRun", "Scanner", "Skipped",
           "config_targets_present", "scan_configs", "scan_images"]

# What a configuration target is on disk (devops/adapters/trivy.py::path_kind looks).
PathKind = Literal["missing", "empty", "file", "folder"]


class Scanner(Protocol):
    """What the steps need from Trivy (devops/adapters/trivy.py)."""

    def version(self) -> TrivyVersion: ...

    def scan_image(self, ref: str, scanners: Sequence[str]) -> TrivyRun: ...

    def scan_config(self, path: Path, *, skip_dirs: Sequence[str] = (),
                    helm_set: Mapping[str, str] | None = None) -> TrivyRun: ...

    def convert_sbom(self, raw_report: str, output: Path) -> Path: ...


class ScanCache(Protocol):
    """Earlier raw reports by key (devops/adapters/scan_cache.py); an unreadable entry is a miss."""

    def get(self, key: CacheKey) -> CacheEntry | None: ...

    def put(self, key: CacheKey, raw: str, trivy_seconds: float) -> None: ...


def scan_images(
    targets: Sequence[ImageTarget],
    trivy: Scanner,
    cache: ScanCache,
    image_ids_of: Callable[[Sequence[str]], Mapping[str, str]],
    *,
    sbom_dir: Path | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
    clock: Callable[[], float] = time.monotonic,
) -> ScanRun:
    """Scan every target (or reuse a cached report) and judge it under its policy.

    The engine is asked once for every target's image ID (`image_ids_of`, references it does not
    have left out)."""
    started = clock()
    version = trivy.version()
    fingerprint = f"trivy {version.version}, DB {version.db_fingerprint}"
    scans: list[ImageScan] = []
    ids = image_ids_of([t.ref for t in targets]) if targets else {}
    for target in targets:
        image_id = ids.get(target.ref) or ""
        if target.service and not image_id:
            raise GateUnavailable(
                f"{target.ref}: the image of service {target.service} is not in the local Docker engine",
                hint=f"run `devops build {target.service}` first with the same --build-arg / $DEVOPS_BUILD_ARGS, "
                "or scan a pushed image with --image REF",
            )
        key = None
        note = ""
        if not image_id:
            note = "not cached: the image is not in the local Docker engine"
        elif "vuln" in target.policy.scanners and not version.has_db:
            note = "not cached: Trivy has no vulnerability DB yet"
        else:
            key = CacheKey(image_id=image_id, db=fingerprint, policy=target.policy.hash)
        entry = cache.get(key) if key else None
        report: ScanReport | None = None
        raw = ""
        seconds = 0.0
        if entry is not None:
            try:
                report = parse_report(entry.raw, origin=f"scan cache entry {key.digest[:12] if key else ''}")
                check_identity(report, target.ref, image_id, "scan cache entry")
                raw, seconds = entry.raw, entry.trivy_seconds
                note = "cache hit: same image ID, Trivy DB and policy"
                progress(f"{target.ref}: {note}")
            except (MalformedReport, ToolFailed):
                report = None  # an unreadable entry is a miss; the fresh scan overwrites it
        cached = report is not None
        if report is None:
            progress(f"{target.ref}: trivy image ({', '.join(target.policy.scanners)})")
            run = trivy.scan_image(target.ref, target.policy.scanners)
            check_identity(run.report, target.ref, image_id, f"trivy image {target.ref}")
            report, raw, seconds = run.report, run.raw, run.seconds
            if key is not None:
                cache.put(key, raw, seconds)
                note = note or "scanned; cached for the next run"
        verdict = evaluate(report, target.policy, today=today)
        sbom = None
        if sbom_dir is not None:
            sbom = trivy.convert_sbom(raw, sbom_dir / sbom_file_name(target))
        scans.append(
            ImageScan(
                target=target,
                report=report,
                verdict=verdict,
                image_id=image_id or report.image_id,
                cached=cached,
                trivy_seconds=seconds,
                cache_note=note,
                sbom=sbom,
                raw=raw,
            )
        )
    return ScanRun(
        scans=tuple(scans),
        trivy_version=version.version,
        db=version.db_fingerprint,
        seconds=clock() - started,
        db_updated_at=version.db_updated_at,
    )


def config_targets_present(
    candidates: Sequence[ConfigTarget], kind_of: Callable[[Path], PathKind],
) -> tuple[list[tuple[ConfigTarget, bool]], list[Skipped]]:
    """Split candidates into those that exist and hold files (with whether each is a single
    file), and skipped ones with why."""
    present: list[tuple[ConfigTarget, bool]] = []
    skipped: list[Skipped] = []
    for target in candidates:
        kind = kind_of(target.path)
        if kind == "missing":
            skipped.append(Skipped(target.name, "not found"))
        elif kind == "empty":
            skipped.append(Skipped(target.name, "folder is empty"))
        else:
            present.append((target, kind == "file"))
    return present, skipped


def scan_configs(
    candidates: Sequence[ConfigTarget],
    trivy: Scanner,
    kind_of: Callable[[Path], PathKind],
    *,
    today: dt.date | None = None,
    skip_dirs: Sequence[str] = ("node_modules", ".git", ".terraform"),
    progress: Callable[[str], None] = lambda _msg: None,
    clock: Callable[[], float] = time.monotonic,
) -> ScanRun:
    """`trivy config` over each present target; absent or empty ones are SKIPPED with the reason."""
    started = clock()
    present, skipped = config_targets_present(candidates, kind_of)
    version = trivy.version()
    scans: list[ImageScan] = []
    for target, single_file in present:
        progress(f"{target.name}: trivy config")
        run = trivy.scan_config(target.path, skip_dirs=skip_dirs, helm_set=target.helm_set)
        report = relocate(run.report, target.name, single_file=single_file)
        verdict = evaluate(report, target.policy, today=today)
        image_target = ImageTarget(
            ref=target.name, policy=target.policy, service=target.service, location=target.name
        )
        scans.append(
            ImageScan(
                target=image_target,
                report=report,
                verdict=verdict,
                image_id="",
                cached=False,
                trivy_seconds=run.seconds,
                raw=run.raw,
            )
        )
    if not present and not skipped:
        raise GateUnavailable("devops scan --config: nothing to scan", hint="check gates.config_paths")
    return ScanRun(
        scans=tuple(scans),
        skipped=tuple(skipped),
        trivy_version=version.version,
        db="embedded checks",
        seconds=clock() - started,
        kind="config",
    )
