"""`devops scan --json`: the result as pydantic models (field names are a stable interface,
docs/schemas/scan.json). Built from the domain's scan run; nothing here decides a verdict."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from devops.domain.gates.findings import Finding
from devops.domain.gates.ignore import IgnoreEntry
from devops.domain.gates.policy import Judged, Policy, Verdict
from devops.domain.gates.scan import ImageScan, ScanRun, Skipped


def _absent(value: object) -> bool:
    return value is None


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class FindingResult(_Result):
    """One finding and what the policy made of it; optional keys are left out when empty."""

    kind: Literal["vulnerability", "secret", "misconfiguration", "license"]
    id: str
    severity: str = Field(description="CRITICAL..UNKNOWN, or UNRECOGNISED (fails whatever the policy)")
    target: str
    title: str
    pkg_name: str | None = Field(default=None, exclude_if=_absent)
    installed_version: str | None = Field(default=None, exclude_if=_absent)
    fixed_version: str | None = Field(default=None, exclude_if=_absent)
    purl: str | None = Field(default=None, exclude_if=_absent)
    path: str | None = Field(default=None, exclude_if=_absent)
    primary_url: str | None = Field(default=None, exclude_if=_absent)
    resolution: str | None = Field(default=None, exclude_if=_absent)
    start_line: int | None = Field(default=None, exclude_if=_absent)
    end_line: int | None = Field(default=None, exclude_if=_absent)
    severity_given: str | None = Field(default=None, exclude_if=_absent,
                                       description="what the report said when severity is UNRECOGNISED")
    status: Literal["fail", "pass", "suppressed"] = Field(description="the policy's judgement")
    reason: str
    expired_ignore: str | None = Field(default=None, exclude_if=_absent,
                                       description="file:line of an expired ignore entry that matched")


class IgnoreEntryResult(_Result):
    id: str
    source: str = Field(description="file:line")
    kind: str | None
    paths: list[str]
    purls: list[str]
    expired_at: str | None
    statement: str


class PolicyResult(_Result):
    severities: list[str]
    ignore_unfixed: bool
    scanners: list[str]
    ignore_file: str | None
    hash: str


class Counts(_Result):
    failing: int
    suppressed: int
    below_threshold: int
    by_severity: dict[str, int]


class TargetResult(_Result):
    """One scanned image or configuration file/folder and its verdict."""

    image: str
    service: str | None
    image_id: str | None
    os: str | None
    cached: bool
    cache_note: str | None
    trivy_seconds: float
    sbom: str | None
    target: str
    verdict: Literal["pass", "fail"]
    policy: PolicyResult
    counts: Counts
    findings: list[FindingResult]
    expired_ignores: list[IgnoreEntryResult]


class SkippedResult(_Result):
    target: str
    status: Literal["SKIPPED"] = "SKIPPED"
    reason: str


class TrivyInfo(_Result):
    version: str
    db: str


class ScanResult(_Result):
    """`devops scan --json`."""

    kind: Literal["image", "config"]
    verdict: Literal["pass", "fail"]
    exit_code: int
    trivy: TrivyInfo
    seconds: float
    trivy_seconds: float
    targets: list[TargetResult]
    skipped: list[SkippedResult]
    sarif: str | None = Field(description="the SARIF file written, when --sarif was given")


def finding_result(judged: Judged) -> FindingResult:
    f: Finding = judged.finding
    return FindingResult(
        kind=f.kind, id=f.id, severity=f.severity, target=f.target, title=f.title,
        pkg_name=f.pkg_name or None, installed_version=f.installed_version or None,
        fixed_version=f.fixed_version or None, purl=f.purl or None, path=f.path or None,
        primary_url=f.primary_url or None, resolution=f.resolution or None,
        start_line=f.start_line or None, end_line=(f.end_line or f.start_line) if f.start_line else None,
        severity_given=f.severity_given or None, status=judged.status, reason=judged.reason,
        expired_ignore=judged.expired_rule.source if judged.expired_rule is not None else None,
    )


def ignore_entry_result(entry: IgnoreEntry) -> IgnoreEntryResult:
    return IgnoreEntryResult(id=entry.id, source=entry.source, kind=entry.kind, paths=list(entry.paths),
                             purls=list(entry.purls),
                             expired_at=entry.expired_at.isoformat() if entry.expired_at else None,
                             statement=entry.statement)


def policy_result(policy: Policy) -> PolicyResult:
    return PolicyResult(severities=list(policy.severities), ignore_unfixed=policy.ignore_unfixed,
                        scanners=list(policy.scanners), ignore_file=policy.ignore.path or None, hash=policy.hash)


def _target(scan: ImageScan) -> TargetResult:
    verdict: Verdict = scan.verdict
    return TargetResult(
        image=scan.target.ref, service=scan.target.service, image_id=scan.image_id or None,
        os=scan.report.os or None, cached=scan.cached, cache_note=scan.cache_note or None,
        trivy_seconds=round(scan.trivy_seconds, 3), sbom=str(scan.sbom) if scan.sbom else None,
        target=verdict.target, verdict="pass" if verdict.passed else "fail", policy=policy_result(verdict.policy),
        counts=Counts(failing=len(verdict.failing), suppressed=len(verdict.suppressed),
                      below_threshold=len(verdict.below), by_severity=verdict.counts()),
        findings=[finding_result(j) for j in verdict.judged],
        expired_ignores=[ignore_entry_result(entry) for entry in verdict.expired],
    )


def _skipped(skip: Skipped) -> SkippedResult:
    return SkippedResult(target=skip.name, reason=skip.reason)


def scan_result(run: ScanRun, sarif: str | None) -> ScanResult:
    return ScanResult(
        kind="config" if run.kind == "config" else "image", verdict="pass" if run.passed else "fail",
        exit_code=run.exit_code, trivy=TrivyInfo(version=run.trivy_version, db=run.db),
        seconds=round(run.seconds, 3), trivy_seconds=round(run.trivy_seconds, 3),
        targets=[_target(scan) for scan in run.scans], skipped=[_skipped(skip) for skip in run.skipped],
        sarif=sarif,
    )
