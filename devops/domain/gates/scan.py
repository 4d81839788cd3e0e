"""What one `devops scan` looked at and what it found: targets, scans, the run, and the rules
that keep a report about another image from passing as this one's.

Pure values; the steps that produce them are `devops.app.scan` (Trivy, the image lookup and the
cache come in as ports).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from devops.domain.gates.findings import ScanReport
from devops.domain.gates.policy import Policy, Verdict
from devops.errors import ExitCode, ToolFailed


@dataclass(frozen=True)
class TrivyVersion:
    """What `trivy version` says: the binary and the vulnerability DB it would use."""

    version: str
    db_version: int | None = None
    db_updated_at: str = ""
    db_downloaded_at: str = ""

    @property
    def has_db(self) -> bool:
        return self.db_version is not None

    @property
    def db_fingerprint(self) -> str:
        """Identity of the DB contents, part of the scan cache key."""
        if not self.has_db:
            return "no-db"
        return f"v{self.db_version}@{self.db_updated_at}/{self.db_downloaded_at}"


@dataclass(frozen=True)
class TrivyRun:
    """A parsed report and how long Trivy took to produce it."""

    report: ScanReport
    raw: str
    seconds: float
    log: str = ""  # Trivy's stderr: its warnings are not in the report


@dataclass(frozen=True)
class CacheKey:
    """A scan result is reused only for the same image ID, Trivy + DB version and policy."""

    image_id: str
    db: str  # Trivy version + DB fingerprint
    policy: str
    kind: str = "image"

    @property
    def digest(self) -> str:
        text = json.dumps([self.kind, self.image_id, self.db, self.policy])
        return hashlib.sha256(text.encode()).hexdigest()

    def fields(self) -> dict[str, str]:
        """What a cache entry stores of its key, to check on read that it is the entry asked for."""
        return {"kind": self.kind, "image_id": self.image_id, "db": self.db, "policy": self.policy}


@dataclass(frozen=True)
class CacheEntry:
    raw: str
    trivy_seconds: float
    saved_at: float


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


@dataclass(frozen=True)
class Skipped:
    name: str
    reason: str


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

    def failing_ids(self) -> list[tuple[str, list[str]]]:
        """(target, ids of its failing findings) for every target that has some."""
        found = [(scan.target.ref, [j.finding.id for j in scan.verdict.failing]) for scan in self.scans]
        return [(ref, ids) for ref, ids in found if ids]


@dataclass(frozen=True)
class ConfigTarget:
    """A file or folder for `trivy config`, with its policy."""

    name: str  # as shown and as located in SARIF (relative to the project root)
    path: Path
    policy: Policy
    service: str | None = None
    # Values Trivy renders the Helm charts below `path` with (gates.helm_set.<path>).
    helm_set: Mapping[str, str] = field(default_factory=dict)


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


def relocate(report: ScanReport, name: str, *, single_file: bool) -> ScanReport:
    """Trivy reports paths relative to what it scanned; make them relative to the project root
    (`name` is the target as the project names it; a single file Trivy names by its base name)."""
    base = name.rstrip("/")
    findings = []
    for finding in report.findings:
        inner = finding.path or finding.target
        if single_file:
            joined = name
        else:
            joined = f"{base}/{inner}" if base not in {"", "."} else inner
        findings.append(replace(finding, path=joined, target=joined))
    return replace(report, artifact_name=name, findings=tuple(findings))


def sbom_file_name(target: ImageTarget) -> str:
    """A file name for the target's SBOM: its service, else its reference, made file-safe."""
    name = target.service or target.ref
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) + ".cdx.json"
