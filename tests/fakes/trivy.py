"""An in-memory Trivy (the `Scanner` port of devops/app/scan.py), honest to devops/adapters/trivy.py
by tests/contract/test_trivy.py: reports are Trivy's JSON (SchemaVersion 2) parsed by the same
parser, named after the image asked for, with the image's ID; a missing image, a broken run or
no DB are the adapter's errors."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.domain.gates.findings import parse_report
from devops.domain.gates.scan import CacheEntry, CacheKey, TrivyRun, TrivyVersion
from devops.errors import GateUnavailable, ToolFailed


@dataclass(frozen=True)
class Vuln:
    id: str
    pkg: str
    severity: str
    installed: str = "1.0"
    fixed: str = ""


def image_report(ref: str, image_id: str, vulns: Sequence[Vuln] = (), *, secrets: Sequence[str] = ()) -> str:
    """Trivy's `image --format json` output for `ref`, shaped as Trivy 0.76 writes it."""
    results: list[dict[str, Any]] = [{
        "Target": f"{ref} (debian 12.7)", "Class": "os-pkgs", "Type": "debian",
        "Vulnerabilities": [{"VulnerabilityID": v.id, "PkgName": v.pkg, "InstalledVersion": v.installed,
                             **({"FixedVersion": v.fixed, "Status": "fixed"} if v.fixed else {"Status": "affected"}),
                             "Severity": v.severity, "Title": f"{v.pkg}: {v.id}",
                             "PkgIdentifier": {"PURL": f"pkg:deb/debian/{v.pkg}@{v.installed}"}} for v in vulns],
    }]
    if secrets:
        results.append({"Target": "/opt/app/deploy.sh", "Class": "secret",
                        "Secrets": [{"RuleID": rule, "Severity": "CRITICAL", "Title": rule, "StartLine": 2,
                                     "EndLine": 2} for rule in secrets]})
    return json.dumps({"SchemaVersion": 2, "ArtifactName": ref, "ArtifactType": "container_image",
                       "Metadata": {"OS": {"Family": "debian", "Name": "12.7"}, "ImageID": image_id,
                                    "RepoDigests": []},
                       "Results": results, "Trivy": {"Version": "0.76.0"}})


def config_report(path: Path, checks: Sequence[tuple[str, str, str, str]]) -> str:
    """`trivy config --format json` of `path`: (file relative to it, id, AVD id, severity) failures."""
    results: dict[str, list[dict[str, Any]]] = {}
    for file, ident, avd, severity in checks:
        results.setdefault(file, []).append({"ID": ident, "AVDID": avd, "Severity": severity,
                                             "Title": f"check {ident}", "Status": "FAIL", "Resolution": "fix it",
                                             "CauseMetadata": {"StartLine": 1, "EndLine": 1}})
    return json.dumps({"SchemaVersion": 2, "ArtifactName": str(path), "ArtifactType": "filesystem",
                       "Results": [{"Target": file, "Class": "config", "Type": "dockerfile",
                                    "MisconfSummary": {"Successes": 20, "Failures": len(found)},
                                    "Misconfigurations": found} for file, found in results.items()]})


@dataclass
class FakeTrivy:
    """Scans what `images` ({ref: (image ID, vulnerabilities)}) and `configs` ({path: failures})
    say; `broken` makes every scan print `broken` instead of a report; `has_db` False is
    Trivy without a vulnerability DB."""

    images: dict[str, tuple[str, list[Vuln]]] = field(default_factory=dict)
    configs: dict[Path, list[tuple[str, str, str, str]]] = field(default_factory=dict)
    has_db: bool = True
    broken: str | None = None
    answer_for: str | None = None  # name every report after this ref instead (a foreign report)
    scans: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    seconds: float = 1.5

    def version(self) -> TrivyVersion:
        if not self.has_db:
            return TrivyVersion("0.76.0")
        return TrivyVersion("0.76.0", 2, "2026-05-01T00:00:00Z", "2026-05-01T01:00:00Z")

    def _report(self, raw: str, what: str) -> TrivyRun:
        if self.broken is not None:
            raw = self.broken
        try:
            report = parse_report(raw, origin=f"{what} output")
        except ValueError as exc:
            raise ToolFailed(str(exc), hint="the scanner broke; rerun with -v and check Trivy's log") from None
        return TrivyRun(report, raw, self.seconds)

    def scan_image(self, ref: str, scanners: Sequence[str]) -> TrivyRun:
        self.scans.append((ref, tuple(scanners)))
        if "vuln" in scanners and not self.has_db:
            raise GateUnavailable(f"trivy image {ref}: no Trivy vulnerability DB available (db error)")
        if ref not in self.images:
            raise ToolFailed(f"trivy image {ref}: trivy exited 1: unable to find the specified image {ref!r}")
        image_id, vulns = self.images[ref]
        shown = [v for v in vulns if "vuln" in scanners]
        return self._report(image_report(self.answer_for or ref, image_id, shown), f"trivy image {ref}")

    def scan_config(self, path: Path, *, skip_dirs: Sequence[str] = (),
                    helm_set: Mapping[str, str] | None = None) -> TrivyRun:
        self.scans.append((str(path), ("misconfig",)))
        return self._report(config_report(path, self.configs.get(path, [])), f"trivy config {path}")

    def convert_sbom(self, raw_report: str, output: Path) -> Path:
        report = json.loads(raw_report)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6",
                                      "metadata": {"component": {"name": report["ArtifactName"]}}}))
        return output


@dataclass
class MemoryCache:
    """The scan cache port (devops/adapters/scan_cache.py keeps it in files): entries by key."""

    entries: dict[str, CacheEntry] = field(default_factory=dict)
    puts: int = 0

    def get(self, key: CacheKey) -> CacheEntry | None:
        return self.entries.get(key.digest)

    def put(self, key: CacheKey, raw: str, trivy_seconds: float) -> None:
        self.puts += 1
        self.entries[key.digest] = CacheEntry(raw, trivy_seconds, 0.0)
