"""The scan steps: images (`devops scan`) and configuration (`devops scan --config`).

Pure orchestration: the Trivy adapter, the image-ID lookup and the cache come in as
arguments, results go out as dataclasses. Fail closed: anything that keeps a target from
being judged raises an exit-3 error; nothing here turns a broken scan into a pass.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from devops.adapters.scan_cache import CacheKey, ScanCache
from devops.domain.gates.findings import MalformedReport, ScanReport, parse_report
from devops.domain.gates.policy import Policy, Verdict, evaluate
from devops.errors import ExitCode, GateUnavailable, ToolFailed


class Scanner(Protocol):
    """What the steps need from `devops.adapters.trivy.Trivy`."""

    def version(self) -> Any: ...

    def scan_image(self, ref: str, scanners: Sequence[str]) -> Any: ...

    def scan_config(self, path: Path, *, skip_dirs: Sequence[str] = (),
                    helm_set: Mapping[str, str] | None = None) -> Any: ...

    def convert_sbom(self, raw_report: str, output: Path) -> Path: ...


@dataclass(frozen=True)
class ImageTarget:
    """An image to scan, the service it belongs to (if any) and its effective policy."""

    ref: str
    policy: Policy
    service: str | None = None
    # Repository file the image's findings are shown on in code scanning (its Dockerfile).
    location: str = ""


@dataclass(frozen=True)
class ImageScan:
    target: ImageTarget
    report: ScanReport
    verdict: Verdict
    image_id: str
    cached: bool
    trivy_seconds: float
    cache_note: str = ""
    sbom: Path | None = None
    raw: str = field(default="", repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.target.ref,
            "service": self.target.service,
            "image_id": self.image_id or None,
            "os": self.report.os or None,
            "cached": self.cached,
            "cache_note": self.cache_note or None,
            "trivy_seconds": round(self.trivy_seconds, 3),
            "sbom": str(self.sbom) if self.sbom else None,
            **self.verdict.to_dict(),
        }


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"target": self.name, "status": "SKIPPED", "reason": self.reason}


@dataclass(frozen=True)
class ScanRun:
    """Everything one `devops scan` judged."""

    scans: tuple[ImageScan, ...]
    skipped: tuple[Skipped, ...] = ()
    trivy_version: str = ""
    db: str = ""
    seconds: float = 0.0
    kind: str = "image"
    db_updated_at: str = ""  # when the vulnerability DB was built (release evidence)

    @property
    def passed(self) -> bool:
        return all(scan.verdict.passed for scan in self.scans)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.passed else ExitCode.GATE_FAILED)

    @property
    def trivy_seconds(self) -> float:
        return sum(scan.trivy_seconds for scan in self.scans if not scan.cached)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "verdict": "pass" if self.passed else "fail",
            "exit_code": self.exit_code,
            "trivy": {"version": self.trivy_version, "db": self.db},
            "seconds": round(self.seconds, 3),
            "trivy_seconds": round(self.trivy_seconds, 3),
            "targets": [scan.to_dict() for scan in self.scans],
            "skipped": [skip.to_dict() for skip in self.skipped],
        }


def check_identity(report: ScanReport, ref: str, image_id: str | None, origin: str) -> None:
    """A report about another image must never pass as this image's scan."""
    if report.artifact_name != ref:
        raise ToolFailed(
            f"{origin}: the report is for {report.artifact_name!r}, not {ref!r}",
            hint="the scanner printed a report for another image; check gates.trivy.binary",
        )
    if image_id and report.image_id and report.image_id != image_id:
        raise ToolFailed(
            f"{origin}: the report is for image ID {report.image_id[:19]}, but {ref} is {image_id[:19]}",
            hint="the image changed during the scan, or the scanner is not Trivy; rescan",
        )
    if report.artifact_type and report.artifact_type != "container_image":
        raise ToolFailed(f"{origin}: the report is a {report.artifact_type} scan, not an image scan")


def scan_images(
    targets: Sequence[ImageTarget],
    trivy: Scanner,
    cache: ScanCache,
    image_id_of: Callable[[str], str | None],
    *,
    sbom_dir: Path | None = None,
    today: dt.date | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> ScanRun:
    """Scan every target (or reuse a cached report) and judge it under its policy."""
    started = time.monotonic()
    version = trivy.version()
    fingerprint = f"trivy {version.version}, DB {version.db_fingerprint}"
    scans: list[ImageScan] = []
    for target in targets:
        image_id = image_id_of(target.ref) or ""
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
            sbom = trivy.convert_sbom(raw, sbom_dir / f"{_file_name(target)}.cdx.json")
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
        seconds=time.monotonic() - started,
        db_updated_at=version.db_updated_at,
    )


@dataclass(frozen=True)
class ConfigTarget:
    """A file or folder for `trivy config`, with its policy; `reason` set = skip it."""

    name: str  # as shown and as located in SARIF (relative to the project root)
    path: Path
    policy: Policy
    service: str | None = None
    # Values Trivy renders the Helm charts below `path` with (gates.helm_set.<path>).
    helm_set: Mapping[str, str] = field(default_factory=dict)


def config_targets_present(
    candidates: Sequence[ConfigTarget],
) -> tuple[list[ConfigTarget], list[Skipped]]:
    """Split candidates into those that exist and hold files, and skipped ones with why."""
    present: list[ConfigTarget] = []
    skipped: list[Skipped] = []
    for target in candidates:
        if not target.path.exists():
            skipped.append(Skipped(target.name, "not found"))
        elif target.path.is_dir() and not any(p.is_file() for p in target.path.rglob("*")):
            skipped.append(Skipped(target.name, "folder is empty"))
        else:
            present.append(target)
    return present, skipped


def scan_configs(
    candidates: Sequence[ConfigTarget],
    trivy: Scanner,
    *,
    today: dt.date | None = None,
    skip_dirs: Sequence[str] = ("node_modules", ".git", ".terraform"),
    progress: Callable[[str], None] = lambda _msg: None,
) -> ScanRun:
    """`trivy config` over each present target; absent or empty ones are SKIPPED with the reason."""
    started = time.monotonic()
    present, skipped = config_targets_present(candidates)
    version = trivy.version()
    scans: list[ImageScan] = []
    for target in present:
        progress(f"{target.name}: trivy config")
        run = trivy.scan_config(target.path, skip_dirs=skip_dirs, helm_set=target.helm_set)
        report = _relocate(run.report, target)
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
        seconds=time.monotonic() - started,
        kind="config",
    )


def _relocate(report: ScanReport, target: ConfigTarget) -> ScanReport:
    """Trivy reports paths relative to what it scanned; make them relative to the project root."""
    from dataclasses import replace

    base = target.name.rstrip("/")
    findings = []
    for finding in report.findings:
        inner = finding.path or finding.target
        if target.path.is_file():
            joined = target.name  # a single file: Trivy names it by its base name only
        else:
            joined = f"{base}/{inner}" if base not in {"", "."} else inner
        findings.append(replace(finding, path=joined, target=joined))
    return replace(report, artifact_name=target.name, findings=tuple(findings))


def _file_name(target: ImageTarget) -> str:
    name = target.service or target.ref
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
