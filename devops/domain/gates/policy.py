"""The scan policy and the verdict: one filter decides the exit code, the SARIF and the table.

Layers, later ones winning: `gates.scan`, `gates.services.<name>.scan`, the command line.
Every finding is judged exactly once into `fail` (over the policy: fails the gate, goes into
SARIF and annotations), `pass` (under the threshold, listed) or `suppressed` (ignore file or
`ignore_unfixed`, listed with the reason).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from devops.domain.gates.findings import UNRECOGNISED, Finding, ScanReport
from devops.domain.gates.ignore import IgnoreEntry, IgnoreRules
from devops.domain.gates.severity import SEVERITY_ORDER, VALID_SCANNERS
from devops.errors import BadInput, ConfigError

Status = Literal["fail", "pass", "suppressed"]
# Reads and parses an ignore file: (path, name shown in messages) -> rules. An adapter's job
# (devops/adapters/ignore_files.py): the policy only decides which file.
IgnoreLoader = Callable[[Path, str], IgnoreRules]


@dataclass(frozen=True)
class PolicyOverride:
    """Command-line overrides; None means "keep what the configuration says"."""

    severities: tuple[str, ...] | None = None
    ignore_unfixed: bool | None = None
    ignore_file: str | None = None
    scanners: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PolicySettings:
    """`gates.scan`: the policy of every image, before a service's or the command line's layer."""

    severities: tuple[str, ...] = ("CRITICAL", "HIGH")
    ignore_unfixed: bool = False
    ignore_file: str | None = None  # relative to the project root
    scanners: tuple[str, ...] = ("vuln", "secret")


@dataclass(frozen=True)
class PolicyLayers:
    """The configured layers: `gates.scan` and `gates.services.<name>.scan` (only the keys a
    service sets). Built by the config (`GatesConfig.policy_layers()`)."""

    defaults: PolicySettings = PolicySettings()
    services: Mapping[str, PolicyOverride] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """The effective policy for one target."""

    severities: tuple[str, ...]
    ignore_unfixed: bool
    scanners: tuple[str, ...]
    ignore: IgnoreRules = IgnoreRules()

    @property
    def hash(self) -> str:
        """Changes whenever anything that could change a verdict changes (ignore file content too)."""
        data = {
            "severities": sorted(self.severities),
            "ignore_unfixed": self.ignore_unfixed,
            "scanners": sorted(self.scanners),
            "ignore": self.ignore.digest,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def describe(self) -> str:
        text = f"fail on {', '.join(self.severities)}"
        if self.ignore_unfixed:
            text += ", unfixed ignored"
        if self.ignore.path:
            text += f", ignore file {self.ignore.path}"
        return text


def parse_severities(text: str, where: str = "--severity") -> tuple[str, ...]:
    """`CRITICAL,HIGH` -> ("CRITICAL", "HIGH"); an unknown name is bad input."""
    values = tuple(dict.fromkeys(part.strip().upper() for part in text.split(",") if part.strip()))
    bad = [value for value in values if value not in SEVERITY_ORDER]
    if bad or not values:
        raise BadInput(
            f"{where}: unknown severity {bad[0] if bad else text!r}; "
            f"expected a comma-separated list of {', '.join(SEVERITY_ORDER)}"
        )
    return values


def parse_scanners(text: str, where: str = "--scanners") -> tuple[str, ...]:
    values = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    values = tuple("license" if v == "licence" else v for v in values)
    bad = [value for value in values if value not in VALID_SCANNERS]
    if bad or not values:
        raise BadInput(
            f"{where}: unknown scanner {bad[0] if bad else text!r}; "
            f"expected a comma-separated list of {', '.join(VALID_SCANNERS)}"
        )
    return values


def resolve_policy(
    layers: PolicyLayers,
    root: Path,
    *,
    load_ignore: IgnoreLoader,
    service: str | None = None,
    known_services: tuple[str, ...] = (),
    override: PolicyOverride = PolicyOverride(),
) -> Policy:
    """Merge the three layers and read the ignore file they name through `load_ignore` (a
    missing or malformed one is exit 2). The command line's file is taken as given, the
    configured one relative to `root`."""
    unknown = sorted(set(layers.services) - set(known_services)) if known_services else []
    if unknown:
        raise ConfigError(f"gates.services.{unknown[0]}: unknown service; known: {', '.join(known_services)}")
    base = layers.defaults
    severities: tuple[str, ...] = base.severities
    ignore_unfixed = base.ignore_unfixed
    ignore_file = base.ignore_file
    scanners: tuple[str, ...] = base.scanners
    per = layers.services.get(service) if service else None
    if per is not None:
        severities = per.severities or severities
        ignore_unfixed = per.ignore_unfixed if per.ignore_unfixed is not None else ignore_unfixed
        ignore_file = per.ignore_file or ignore_file
        scanners = per.scanners or scanners
    severities = override.severities or severities
    ignore_unfixed = override.ignore_unfixed if override.ignore_unfixed is not None else ignore_unfixed
    scanners = override.scanners or scanners
    rules = IgnoreRules()
    if override.ignore_file:
        rules = load_ignore(Path(override.ignore_file), override.ignore_file)
    elif ignore_file:
        rules = load_ignore(root / ignore_file, ignore_file)
    return Policy(
        severities=tuple(severities), ignore_unfixed=ignore_unfixed, scanners=tuple(scanners), ignore=rules
    )


@dataclass(frozen=True)
class Judged:
    """A finding and what the policy made of it."""

    finding: Finding
    status: Status
    reason: str
    # An expired ignore entry that matched (it no longer suppresses; said in the report).
    expired_rule: IgnoreEntry | None = None


@dataclass(frozen=True)
class Verdict:
    """The policy's answer for one report."""

    target: str
    policy: Policy
    judged: tuple[Judged, ...]
    expired: tuple[IgnoreEntry, ...] = ()
    scanned_kinds: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failing

    @property
    def failing(self) -> tuple[Judged, ...]:
        return tuple(j for j in self.judged if j.status == "fail")

    @property
    def suppressed(self) -> tuple[Judged, ...]:
        return tuple(j for j in self.judged if j.status == "suppressed")

    @property
    def below(self) -> tuple[Judged, ...]:
        return tuple(j for j in self.judged if j.status == "pass")

    def counts(self, status: Status | None = None) -> dict[str, int]:
        """Findings per severity (all of Trivy's severities, in order; UNRECOGNISED first when any)."""
        counter = Counter(j.finding.severity for j in self.judged if status is None or j.status == status)
        counts = {severity: counter.get(severity, 0) for severity in SEVERITY_ORDER}
        if counter.get(UNRECOGNISED):
            counts = {UNRECOGNISED: counter[UNRECOGNISED], **counts}
        return counts


def evaluate(report: ScanReport, policy: Policy, *, today: dt.date | None = None) -> Verdict:
    """Judge every finding of `report` under `policy`. Pure: same inputs, same verdict."""
    today = today or dt.datetime.now(dt.UTC).date()
    judged: list[Judged] = []
    for finding in report.findings:
        judged.append(_judge(finding, policy, today))
    return Verdict(
        target=report.artifact_name,
        policy=policy,
        judged=tuple(judged),
        expired=policy.ignore.expired_entries(today),
    )


def _judge(finding: Finding, policy: Policy, today: dt.date) -> Judged:
    active, expired = policy.ignore.match(finding, today)
    if active is not None:
        return Judged(finding, "suppressed", active.reason())
    if finding.scanner not in policy.scanners:
        return Judged(finding, "pass", f"scanner {finding.scanner} is not enabled", expired)
    if policy.ignore_unfixed and finding.kind == "vulnerability" and not finding.has_fix:
        return Judged(
            finding,
            "suppressed",
            f"no fixed version ({finding.status or 'unfixed'}); ignore_unfixed is on",
            expired,
        )
    note = f"; ignore entry {expired.source} expired on {expired.expired_at}" if expired else ""
    if not finding.severity_recognised:
        # Fail closed: a severity we cannot read could be anything, CRITICAL included.
        return Judged(
            finding,
            "fail",
            f"severity {finding.severity_given} is not one of Trivy's ({', '.join(SEVERITY_ORDER)}): "
            "counted as over the policy" + note,
            expired,
        )
    if finding.severity in policy.severities:
        return Judged(
            finding,
            "fail",
            f"{finding.severity} is in the policy ({', '.join(policy.severities)})" + note,
            expired,
        )
    return Judged(finding, "pass", f"{finding.severity} is below the policy" + note, expired)
