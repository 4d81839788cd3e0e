"""Trivy's JSON report (`SchemaVersion: 2`) as typed, frozen results.

One parser for every way a report reaches us (a Trivy run, a cached scan, a file), so the
policy never looks at raw JSON. A report that is not one raises `MalformedReport`; the caller
decides whether that is bad input (a user's file, exit 2) or a broken scanner (exit 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from devops.domain.gates.severity import SEVERITY_ORDER

FindingKind = Literal["vulnerability", "secret", "misconfiguration", "license"]
# The scanner (`--scanners`) that produces each kind of finding.
KIND_SCANNER: dict[str, str] = {
    "vulnerability": "vuln",
    "secret": "secret",
    "misconfiguration": "misconfig",
    "license": "license",
}


# The severity of a finding whose `Severity` is not one of Trivy's five names even after
# trimming and upper-casing ("SEVERE", "", a number, missing). Such a finding fails the gate
# whatever the policy says (fail closed): data we cannot read never passes.
UNRECOGNISED = "UNRECOGNISED"


class MalformedReport(ValueError):
    """The text is not a Trivy JSON report this version of `devops` understands."""


@dataclass(frozen=True)
class Finding:
    """One thing Trivy found: a vulnerable package, a secret, a misconfiguration or a licence."""

    kind: FindingKind
    id: str
    severity: str
    target: str
    title: str = ""
    pkg_name: str = ""
    installed_version: str = ""
    fixed_version: str = ""
    # Trivy's status for vulnerabilities: fixed, affected, will_not_fix, fix_deferred, ...
    status: str = ""
    purl: str = ""
    # The file the finding is in (a secret's file, a package's manifest, a config file).
    path: str = ""
    start_line: int = 0
    end_line: int = 0
    primary_url: str = ""
    # Other ids the finding is known by (a misconfiguration's AVD id), for ignore rules.
    aliases: tuple[str, ...] = ()
    # How to fix a misconfiguration (vulnerabilities say it with `fixed_version`).
    resolution: str = ""
    # What the report said when `severity` is UNRECOGNISED (for the messages), else "".
    severity_given: str = ""

    @property
    def scanner(self) -> str:
        return KIND_SCANNER[self.kind]

    @property
    def has_fix(self) -> bool:
        return bool(self.fixed_version)

    @property
    def severity_rank(self) -> int:
        """Position in the listing: an unrecognised severity first (it fails), then CRITICAL..UNKNOWN."""
        try:
            return SEVERITY_ORDER.index(self.severity)
        except ValueError:
            return -1

    @property
    def severity_recognised(self) -> bool:
        return self.severity in SEVERITY_ORDER

    @property
    def key(self) -> str:
        """Stable identity within a report (the same CVE hits several packages)."""
        return "|".join(
            (
                self.kind,
                self.id,
                self.target,
                self.pkg_name,
                self.installed_version,
                self.path,
                str(self.start_line),
            )
        )


@dataclass(frozen=True)
class ScanReport:
    """A parsed report: what was scanned and everything found in it."""

    artifact_name: str
    artifact_type: str
    findings: tuple[Finding, ...]
    image_id: str = ""
    repo_digests: tuple[str, ...] = ()
    os: str = ""
    trivy_version: str = ""
    # Successful misconfiguration checks, counted for the summary.
    misconf_passed: int = 0
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def parse_report(text: str | bytes, origin: str = "trivy output") -> ScanReport:
    """Parse Trivy's JSON report; `MalformedReport` names `origin` and what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not text.strip():
        raise MalformedReport(f"{origin}: empty, expected a Trivy JSON report")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MalformedReport(
            f"{origin}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "the report is truncated or not JSON"
        ) from None
    return report_from_data(data, origin)


def report_from_data(data: Any, origin: str = "trivy output") -> ScanReport:
    """Build a `ScanReport` from already decoded JSON."""
    if isinstance(data, list):
        # Trivy before 0.20 printed a bare array of results, without the artifact it scanned.
        # Without the artifact name we cannot tell a report for the wrong image, so refuse it.
        raise MalformedReport(
            f"{origin}: legacy Trivy JSON (a top-level array, Trivy < 0.20) is not supported; "
            "rescan with Trivy >= 0.20 (`--format json` gives SchemaVersion 2)"
        )
    if not isinstance(data, dict):
        raise MalformedReport(f"{origin}: expected a JSON object, got {type(data).__name__}")
    version = data.get("SchemaVersion")
    if version != 2:
        raise MalformedReport(f"{origin}: unsupported SchemaVersion {version!r}; expected 2")
    for key in ("ArtifactName",):
        if not isinstance(data.get(key), str):
            raise MalformedReport(f"{origin}: missing {key}; not a complete Trivy report")
    results = data.get("Results")
    if results is None:
        results = []  # Trivy omits Results when nothing was found
    if not isinstance(results, list):
        raise MalformedReport(f"{origin}: Results is {type(results).__name__}, expected a list")
    metadata = data.get("Metadata") or {}
    if not isinstance(metadata, dict):
        raise MalformedReport(f"{origin}: Metadata is not an object")
    findings: list[Finding] = []
    passed = 0
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            raise MalformedReport(f"{origin}: Results[{index}] is not an object")
        try:
            findings.extend(_findings(result))
        except (TypeError, AttributeError, KeyError) as exc:
            raise MalformedReport(f"{origin}: Results[{index}] has an unexpected shape ({exc})") from None
        summary = result.get("MisconfSummary") or {}
        passed += int(summary.get("Successes") or 0) if isinstance(summary, dict) else 0
    os_info = metadata.get("OS") or {}
    os_name = (
        " ".join(str(os_info.get(k, "")) for k in ("Family", "Name")).strip()
        if isinstance(os_info, dict)
        else ""
    )
    trivy = data.get("Trivy") or {}
    findings.sort(key=lambda f: (f.severity_rank, f.kind, f.id, f.pkg_name, f.target))
    return ScanReport(
        artifact_name=data["ArtifactName"],
        artifact_type=str(data.get("ArtifactType", "")),
        findings=tuple(findings),
        image_id=str(metadata.get("ImageID") or ""),
        repo_digests=tuple(metadata.get("RepoDigests") or ()),
        os=os_name,
        trivy_version=str(trivy.get("Version", "")) if isinstance(trivy, dict) else "",
        misconf_passed=passed,
        raw=data,
    )


def _misconf_aliases(ident: str, avd: str) -> tuple[str, ...]:
    """Every spelling of a check id an ignore file may use: Trivy renamed `DS002` /
    `AVD-DS-0002` to `DS-0002` (0.6x), and users' ignore files carry all three."""
    names = {avd} if avd else set()
    match = re.fullmatch(r"(?:AVD-)?([A-Z]+)-?(\d+)", ident) or re.fullmatch(r"AVD-([A-Z]+)-(\d+)", avd)
    if match:
        prefix, number = match.group(1), int(match.group(2))
        names |= {f"{prefix}-{number:04d}", f"{prefix}{number:03d}", f"AVD-{prefix}-{number:04d}"}
    names.discard(ident)
    return tuple(sorted(names))


def _severity(item: Mapping[str, Any]) -> tuple[str, str]:
    """`severity` (and `severity_given`) of a finding: Trivy's names trimmed and upper-cased
    ("high " is HIGH); anything else, a missing one included (Trivy always fills it), is
    UNRECOGNISED, which the policy counts as over it. It used to become UNKNOWN and pass."""
    value = item.get("Severity")
    if isinstance(value, str) and value.strip().upper() in SEVERITY_ORDER:
        return value.strip().upper(), ""
    return UNRECOGNISED, "(missing)" if value is None else repr(value)[:40]


def _findings(result: Mapping[str, Any]) -> Iterable[Finding]:
    target = str(result.get("Target", ""))
    for vuln in result.get("Vulnerabilities") or ():
        severity, given = _severity(vuln)
        ident = vuln.get("PkgIdentifier") or {}
        yield Finding(
            kind="vulnerability",
            id=str(vuln["VulnerabilityID"]),
            severity=severity,
            severity_given=given,
            target=target,
            title=str(vuln.get("Title") or vuln.get("Description") or "")[:200],
            pkg_name=str(vuln.get("PkgName", "")),
            installed_version=str(vuln.get("InstalledVersion", "")),
            fixed_version=str(vuln.get("FixedVersion") or ""),
            status=str(vuln.get("Status") or ("fixed" if vuln.get("FixedVersion") else "affected")),
            purl=str(ident.get("PURL", "")) if isinstance(ident, dict) else "",
            path=str(vuln.get("PkgPath") or ""),
            primary_url=str(vuln.get("PrimaryURL", "")),
        )
    for secret in result.get("Secrets") or ():
        severity, given = _severity(secret)
        yield Finding(
            kind="secret",
            id=str(secret["RuleID"]),
            severity=severity,
            severity_given=given,
            target=target,
            title=str(secret.get("Title", "")),
            path=target,
            start_line=int(secret.get("StartLine") or 0),
            end_line=int(secret.get("EndLine") or 0),
        )
    for misconf in result.get("Misconfigurations") or ():
        if str(misconf.get("Status", "FAIL")).upper() != "FAIL":
            continue  # --include-non-failures lists passed checks too; they are not findings
        cause = misconf.get("CauseMetadata") or {}
        severity, given = _severity(misconf)
        ident = str(misconf["ID"])
        yield Finding(
            kind="misconfiguration",
            id=ident,
            severity=severity,
            severity_given=given,
            target=target,
            title=str(misconf.get("Title", "")),
            path=target,
            start_line=int(cause.get("StartLine") or 0),
            end_line=int(cause.get("EndLine") or 0),
            primary_url=str(misconf.get("PrimaryURL", "")),
            resolution=str(misconf.get("Resolution") or ""),
            aliases=_misconf_aliases(ident, str(misconf.get("AVDID") or "")),
        )
    for lic in result.get("Licenses") or ():
        severity, given = _severity(lic)
        yield Finding(
            kind="license",
            id=str(lic["Name"]),
            severity=severity,
            severity_given=given,
            target=target,
            title=f"{lic.get('Category', '')} licence {lic['Name']}".strip(),
            pkg_name=str(lic.get("PkgName", "")),
            path=str(lic.get("FilePath") or target),
        )
