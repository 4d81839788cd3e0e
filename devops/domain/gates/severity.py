"""The words of the scan and quality gates: Trivy's severities and scanners, and what a
quality-gate status can turn into. The config validates against them; the policy judges with them."""

from __future__ import annotations

from typing import Literal

Severity = Literal["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
ScannerName = Literal["vuln", "secret", "misconfig", "license"]
SEVERITY_ORDER: tuple[str, ...] = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")
VALID_SCANNERS: tuple[str, ...] = ("vuln", "secret", "misconfig", "license")
# What a WARN or NONE quality-gate status turns into: pass (exit 0), fail (exit 1) or
# error (exit 3, "the gate could not be evaluated").
GateOutcome = Literal["pass", "fail", "error"]
