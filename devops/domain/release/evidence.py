"""Gate evidence in release records: what a release writes, and what a promotion accepts.

A release record entry (docs/release.md, "The release record") carries, per service, the
digest and the verdicts that let it through. Promotion moves exactly that digest and trusts
exactly that evidence; anything missing, failed or unreadable is a refusal, never a pass.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from devops.domain.release.moments import iso, parse_iso
from devops.domain.release.soak import soak_refusal
from devops.errors import BadInput

__all__ = ["PASSED", "FAILED", "SKIPPED", "EvidencePolicy", "EvidenceSettings", "check_entry", "iso", "parse_iso",
           "scan_evidence", "sonar_evidence", "sonar_verdict", "utc_now"]

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
PASSED, FAILED, SKIPPED = "PASSED", "FAILED", "SKIPPED"
# How far in the future a `checked_at` may be before it is refused: clocks of CI runners and
# laptops disagree by seconds, not by minutes. Beyond this the evidence would never expire.
CLOCK_SKEW = dt.timedelta(minutes=5)


class EvidencePolicy(Protocol):
    """What a promotion accepts as evidence (`environments.<env>.evidence`, with
    `require_verification` resolved: devops/wiring/release.py)."""

    @property
    def scan_max_age_days(self) -> int | None: ...  # older scan verdicts are rescanned; None: never

    @property
    def require_sonar(self) -> bool: ...  # a SKIPPED Sonar verdict is refused

    @property
    def require_verification(self) -> bool | None: ...  # a PASSED `devops verify` is required

    @property
    def min_soak_seconds(self) -> int | None: ...  # how long it ran verified in the source (soak.py)


@dataclass(frozen=True)
class EvidenceSettings:
    """An `EvidencePolicy` as plain values."""

    scan_max_age_days: int | None = 7
    require_sonar: bool = False
    require_verification: bool | None = None
    min_soak_seconds: int | None = None


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def scan_evidence(verdict_passed: bool, counts: Mapping[str, int], checked_at: dt.datetime,
                  trivy_version: str, db: str | None) -> dict[str, Any]:
    """The `scan` block of a record entry, from one judged Trivy report."""
    return {
        "verdict": PASSED if verdict_passed else FAILED,
        "counts": dict(counts),
        "checked_at": iso(checked_at),
        "trivy_version": trivy_version,
        "db_updated_at": db,
    }


def sonar_verdict(outcome: str) -> str:
    """PASSED, SKIPPED or FAILED from the Sonar gate's outcome; anything unknown fails closed."""
    return {"pass": PASSED, "skipped": SKIPPED}.get(outcome, FAILED)


def sonar_evidence(status: str, outcome: str, reason: str, checked_at: dt.datetime,
                   dashboard_url: str = "") -> dict[str, Any]:
    """The `sonar` block, from the gate's outcome (pass -> PASSED, skipped -> SKIPPED, anything
    else -> FAILED) and the status Sonar gave (OK, WARN, ERROR, NONE), kept beside it."""
    block: dict[str, Any] = {"verdict": sonar_verdict(outcome), "reason": reason or None, "checked_at": iso(checked_at)}
    if status != "SKIPPED":
        block["status"] = status
    if dashboard_url:
        block["dashboard_url"] = dashboard_url
    return block


@dataclass(frozen=True)
class EvidenceCheck:
    """What a promotion concluded about one service's record entry."""

    service: str
    refusal: str = ""        # why it may not be promoted; empty when it may
    rescan: bool = False     # the scan evidence expired: rescan this digest before promoting

    @property
    def ok(self) -> bool:
        return not self.refusal


def check_entry(service: str, entry: Mapping[str, Any] | None, source: str, policy: EvidencePolicy,
                now: dt.datetime) -> EvidenceCheck:
    """Judge one service's entry of the source environment's record (fail closed)."""
    if entry is None:
        return EvidenceCheck(service, f"{source}'s release record has no entry for {service}; release it to "
                                      f"{source} first")
    digest = entry.get("digest")
    if not isinstance(digest, str) or not DIGEST.match(digest):
        # A malformed record, not a refusal (docs/release.md): `read_record` already refuses it
        # with the file and key path; entries that reach here without that check get the same.
        raise BadInput(f"{source}'s release record: services.{service}.digest: expected sha256:<64 hex>, "
                       f"got {str(digest)[:80]!r}", hint="fix the record by hand or restore it with devops rollback")
    scan = entry.get("scan")
    if not isinstance(scan, Mapping) or scan.get("verdict") is None:
        return EvidenceCheck(service, f"{service} has no scan evidence in {source}'s release record")
    if scan.get("verdict") != PASSED:
        return EvidenceCheck(service, f"{service} {digest[:19]}: scan verdict is {scan.get('verdict')} in "
                                      f"{source}'s release record")
    sonar = entry.get("sonar")
    sonar_verdict = sonar.get("verdict") if isinstance(sonar, Mapping) else None
    if sonar_verdict not in (PASSED, SKIPPED):
        return EvidenceCheck(service, f"{service} {digest[:19]}: Sonar verdict is {sonar_verdict or 'missing'} "
                                      f"in {source}'s release record")
    if sonar_verdict == SKIPPED and policy.require_sonar:
        return EvidenceCheck(service, f"{service} {digest[:19]}: Sonar was SKIPPED in {source} and "
                                      "evidence.require_sonar is true")
    if policy.require_verification:
        refusal = _verification_refusal(service, digest, entry.get("verification"), source)
        if refusal:
            return EvidenceCheck(service, refusal)
    if policy.min_soak_seconds:
        refusal = soak_refusal(service, entry, source, policy.min_soak_seconds, now)
        if refusal:
            return EvidenceCheck(service, refusal)
    checked = parse_iso(scan.get("checked_at"))
    if checked is None:
        return EvidenceCheck(service, f"{service}: the scan evidence in {source}'s release record has no "
                                      "valid checked_at")
    if checked - now > CLOCK_SKEW:
        # Evidence from the future would never expire (and no scan ran then): refuse it.
        return EvidenceCheck(service, f"{service} {digest[:19]}: the scan evidence in {source}'s release record "
                                      f"is dated in the future (checked_at {scan.get('checked_at')}, now {iso(now)}), "
                                      "so no scan vouches for it; check the clock of the machine that wrote it")
    expired = policy.scan_max_age_days is not None and now - checked > dt.timedelta(days=policy.scan_max_age_days)
    return EvidenceCheck(service, rescan=expired)


def _verification_refusal(service: str, digest: str, evidence: Any, source: str) -> str:
    """Why `devops verify` evidence does not let this digest through; empty when it does."""
    verdict = evidence.get("verdict") if isinstance(evidence, Mapping) else None
    if verdict is None:
        return (f"{service} {digest[:19]}: not verified in {source} (no verification in its release record); "
                f"run `devops verify --env {source}` once it is deployed")
    if verdict != PASSED:
        failing = evidence.get("failing") or []
        why = f" ({'; '.join(str(f) for f in failing[:3])})" if failing else ""
        return f"{service} {digest[:19]}: verification {verdict} in {source}{why}"
    verified = evidence.get("digest")
    if verified != digest:
        # Evidence that names no digest (or another one) is about nothing we promote.
        what = f"another digest ({str(verified)[:19]})" if verified else "no digest"
        return (f"{service} {digest[:19]}: the verification in {source}'s record is of {what}; "
                f"run `devops verify --env {source}`")
    return ""
