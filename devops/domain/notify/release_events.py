"""The notifications of releases, promotions, rollbacks, failed verifications, freezes and
break-glass releases, built from what the use cases report (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from devops.domain.notify.event import Event
from devops.domain.release.evidence import iso
from devops.domain.release.results import ReleaseReport
from devops.domain.release.verification import Verification

KINDS = {"release": "release", "promote": "promotion", "rollback": "rollback"}
VERBS = {"release": "Released to", "promote": "Promoted to", "rollback": "Rolled back"}


def _short(digest: str) -> str:
    return digest.removeprefix("sha256:")[:12] or "(none)"


def release_event(report: ReleaseReport, at: dt.datetime) -> Event | None:
    """The `release`, `promotion` or `rollback` event of a report that wrote something (a commit
    or a pull request); None when nothing was written."""
    publish = report.publish
    if publish is None or publish.outcome not in ("committed", "pull-request"):
        return None
    changed = [s for s in report.services if s.status == "released"]
    where = f"{report.environment}" + (f" from {report.source}" if report.source else "")
    how = "pull request" if publish.outcome == "pull-request" else f"commit {(publish.commit or '')[:12]}"
    summary = f"{VERBS[report.action]} {where}: {', '.join(s.service for s in changed) or 'release record'} ({how})"
    details = [f"{s.service}: {_short(s.previous_digest)} -> {s.tag or ''} {_short(s.digest)}".replace("  ", " ")
               for s in changed]
    auto = report.auto_rollback
    data: dict[str, Any] = {
        "action": report.action, "source": report.source,
        "services": [{"service": s.service, "tag": s.tag, "digest": s.digest, "previous_digest": s.previous_digest}
                     for s in changed],
        "gitops": {"outcome": publish.outcome, "commit": publish.commit, "branch": publish.branch,
                   "pull_request_url": publish.pull_request_url},
    }
    severity = "info"
    if report.break_glass:
        details.append(f"break-glass: {report.break_glass.get('reason')} (by {_actor(report.break_glass)})")
        data["break_glass"] = dict(report.break_glass)
        severity = "warning"
    if report.action == "rollback":
        severity = "warning"
    if auto is not None:
        data["automatic"] = True
    return Event(KINDS[report.action], summary, at, report.environment, tuple(details), data, severity,
                 publish.pull_request_url)


def _actor(block: Mapping[str, Any]) -> str:
    by = block.get("by")
    return str(by.get("actor") or "?") if isinstance(by, Mapping) else "?"


def break_glass_event(report: ReleaseReport, at: dt.datetime) -> Event | None:
    """A release that went through a freeze on purpose: who, why, which freezes."""
    block = report.break_glass
    if not block or report.publish is None or report.publish.outcome not in ("committed", "pull-request"):
        return None
    freezes = [str(f) for f in block.get("freezes") or []]
    summary = f"Break-glass {report.action} to {report.environment} by {_actor(block)}: {block.get('reason')}"
    return Event("break-glass", summary, at, report.environment, tuple(f"through freeze: {f}" for f in freezes),
                 {"break_glass": dict(block), "action": report.action,
                  "commit": report.publish.commit, "pull_request_url": report.publish.pull_request_url},
                 "warning", report.publish.pull_request_url)


def verification_failed_event(verification: Verification, at: dt.datetime) -> Event:
    failing = [f"{s.service}: " + "; ".join(f"{c.name} {c.detail}" for c in s.failing)
               for s in verification.services if s.failing]
    summary = f"Verification of {verification.environment} FAILED: " + \
        ", ".join(s.service for s in verification.services if s.failing)
    data = {"verdict": verification.verdict, "window": verification.window,
            "verified_at": iso(verification.verified_at),
            "services": [{"service": s.service, "verdict": s.verdict, "digest": verification.digests.get(s.service),
                          "failing": [f"{c.name}: {c.detail}" for c in s.failing]} for s in verification.services]}
    return Event("verification-failed", summary, at, verification.environment, tuple(failing), data, "error")


def auto_rollback_event(report: ReleaseReport, at: dt.datetime) -> Event | None:
    """What the automatic rollback did when it wrote nothing (what it wrote is a `rollback` event)."""
    auto = report.auto_rollback
    if auto is None or auto.outcome in ("rolled-back", "pull-request"):
        return None
    return Event("rollback", f"Automatic rollback of {report.environment}: {auto.outcome}", at, report.environment,
                 (auto.detail,), {"automatic": True, "outcome": auto.outcome, "restored": auto.restored},
                 "error" if auto.outcome == "failed" else "warning")


def freeze_event(environment: str, document: Mapping[str, Any], commit: str | None, at: dt.datetime) -> Event:
    """`devops freeze` / `devops unfreeze` wrote the freeze file."""
    by = document.get("by") or {}
    actor = by.get("actor", "?") if isinstance(by, Mapping) else "?"
    if document.get("frozen"):
        summary = f"{environment} frozen until {document.get('until')} by {actor}: {document.get('reason')}"
    else:
        summary = f"{environment} unfrozen by {actor}"
    return Event("freeze", summary, at, environment, (), {"freeze": dict(document), "commit": commit},
                 "warning" if document.get("frozen") else "info")
