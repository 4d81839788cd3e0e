"""SARIF 2.1.0 for GitHub code scanning, holding exactly the findings the policy reports.

Trivy's own SARIF output ignores the severity filter (every finding is in it); here the
caller passes the findings its verdict failed on, so the SARIF, the exit code and the
annotations always agree. Image findings are attached to the service's Dockerfile when known,
because code scanning only shows results located in a file of the repository.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops import __version__
from devops.domain.gates.findings import Finding

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub's `security-severity` (0.0-10.0) decides how code scanning ranks a result.
SECURITY_SEVERITY = {"CRITICAL": "9.5", "HIGH": "8.0", "MEDIUM": "5.5", "LOW": "2.0", "UNKNOWN": "0.0",
                     "UNRECOGNISED": "8.0"}
# UNRECOGNISED (a severity Trivy never writes) fails the gate whatever the policy: an error here too.
LEVEL = {"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "LOW": "note", "UNKNOWN": "note",
         "UNRECOGNISED": "error"}


@dataclass(frozen=True)
class SarifTarget:
    """The findings of one scanned target, and the repository file they are shown on."""

    name: str
    findings: Sequence[Finding]
    uri: str  # a path relative to the repository root, or the target's name
    trivy_version: str = ""


def message(finding: Finding, target: str) -> str:
    """One sentence a reviewer can act on."""
    if finding.kind == "vulnerability":
        fix = f", fixed in {finding.fixed_version}" if finding.fixed_version else ", no fix available yet"
        return (
            f"{finding.id} ({finding.severity}) in package {finding.pkg_name} "
            f"{finding.installed_version}{fix}; image {target}. {finding.title}"
        ).strip()
    if finding.kind == "misconfiguration":
        return f"{finding.id} ({finding.severity}): {finding.title}. {finding.resolution}".strip()
    if finding.kind == "secret":
        return f"{finding.title} ({finding.severity}) in {finding.path} of {target}"
    return f"licence {finding.id} ({finding.severity}) of {finding.pkg_name or finding.path} in {target}"


def sarif_document(targets: Sequence[SarifTarget]) -> dict[str, Any]:
    """One SARIF log with one run: rules are deduplicated, results keep the policy's order."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    version = next((t.trivy_version for t in targets if t.trivy_version), "")
    for target in targets:
        for finding in target.findings:
            rule_id = finding.id
            if rule_id not in rules:
                rules[rule_id] = _rule(finding)
            line = finding.start_line or 1
            results.append(
                {
                    "ruleId": rule_id,
                    "ruleIndex": list(rules).index(rule_id),
                    "level": LEVEL.get(finding.severity, "note"),
                    "message": {"text": message(finding, target.name)},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": _location(finding, target),
                                    "uriBaseId": "ROOTPATH",
                                },
                                "region": {
                                    "startLine": line,
                                    "endLine": finding.end_line or line,
                                    "startColumn": 1,
                                    "endColumn": 1,
                                },
                            },
                            "message": {
                                "text": f"{target.name}: {finding.pkg_name or finding.path or finding.target}"
                            },
                        }
                    ],
                    "partialFingerprints": {"devops/finding": finding.key},
                }
            )
    driver: dict[str, Any] = {
        "name": "Trivy",
        "fullName": f"Trivy {version} via devops {__version__}".replace("  ", " "),
        "informationUri": "https://github.com/aquasecurity/trivy",
        "rules": list(rules.values()),
    }
    if version:
        driver["version"] = version
    return {
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [
            {
                "tool": {"driver": driver},
                "results": results,
                "columnKind": "utf16CodeUnits",
                "originalUriBaseIds": {"ROOTPATH": {"uri": "file:///"}},
            }
        ],
    }


def write_sarif(path: Path, targets: Sequence[SarifTarget]) -> Path:
    """Write the SARIF file (parents created); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(sarif_document(targets), indent=2) + "\n", encoding="utf-8")
    return path


def _location(finding: Finding, target: SarifTarget) -> str:
    # Config findings and secrets are in a file of their own; image packages are shown on the
    # Dockerfile that built the image.
    if finding.kind in {"misconfiguration"} or (finding.kind == "secret" and target.uri == target.name):
        return (finding.path or target.uri).lstrip("/")
    return target.uri.lstrip("/")


def _rule(finding: Finding) -> dict[str, Any]:
    short = finding.title or finding.id
    help_text = short
    if finding.kind == "vulnerability":
        help_text = (
            f"Vulnerability {finding.id}\nSeverity: {finding.severity}\nPackage: {finding.pkg_name}\n"
            f"Fixed version: {finding.fixed_version or 'none yet'}\nLink: {finding.primary_url}"
        )
    return {
        "id": finding.id,
        "name": _camel(finding.kind),
        "shortDescription": {"text": short[:1000]},
        "fullDescription": {"text": short[:1000]},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "note")},
        "helpUri": finding.primary_url or "https://aquasecurity.github.io/trivy",
        "help": {"text": help_text, "markdown": help_text.replace("\n", "  \n")},
        "properties": {
            "precision": "very-high",
            "security-severity": SECURITY_SEVERITY.get(finding.severity, "0.0"),
            "tags": [finding.kind, "security", finding.severity],
        },
    }


def _camel(kind: str) -> str:
    return {
        "vulnerability": "OsPackageVulnerability",
        "misconfiguration": "Misconfiguration",
        "secret": "Secret",
        "license": "License",
    }.get(kind, kind.title())
