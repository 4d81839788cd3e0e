"""Automatic rollback: which earlier release to restore when the verification after a release
fails, and how the rollback marks itself so it never loops.

The target is the newest earlier record in which every service whose digest differs from now
carries a PASSED verification of exactly that digest in this environment: never an unverified
release. A record that is itself an automatic rollback is never rolled back again, and the
entries it restores remember the digest they replaced (`rolled_back_from`), which a release to
this environment then holds back until the service changes, so the next run does not release
the same broken digest again (and roll it back again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from devops.domain.gitops.record import ReleaseRecord
from devops.domain.release.evidence import PASSED, iso
from devops.domain.release.rules import record_services

# Earlier releases looked at, newest first: a last verified release further back than this is
# a case for a person (`devops rollback --to`).
MAX_LOOKBACK = 50


@dataclass(frozen=True)
class Target:
    commit: str
    services: tuple[str, ...]  # the services whose digest it changes


def verified(entry: Mapping[str, Any], environment: str) -> bool:
    """The entry's digest passed `devops verify` in `environment`."""
    evidence = entry.get("verification")
    return (isinstance(evidence, Mapping) and evidence.get("verdict") == PASSED
            and evidence.get("digest") == entry.get("digest") and evidence.get("environment") in (None, environment))


def is_automatic_rollback(record: ReleaseRecord) -> bool:
    return record.rollback is not None and record.rollback.automatic


def candidate(current: ReleaseRecord, record: ReleaseRecord, environment: str) -> tuple[str, ...] | None:
    """The services `record` would change if restored now, when every one of them is verified
    there; None when it changes nothing or restores an unverified digest."""
    now = {name: entry.get("digest") for name, entry in record_services(current).items()}
    entries = record_services(record)
    changed = tuple(name for name, entry in entries.items() if entry.get("digest") != now.get(name))
    if changed and all(verified(entries[name], environment) for name in changed):
        return changed
    return None


def marked(record: dict[str, Any], target: Target, *, reason: str, failed_commit: str | None,
           replaced: Mapping[str, str], now: dt.datetime) -> dict[str, Any]:
    """The rollback's record (as `rollback` builds it) with the marks: `rollback` (automatic, why,
    what) and `rolled_back_from` on each restored entry (the digest it replaced)."""
    record["rollback"] = {"automatic": True, "reason": reason[:500], "failed_commit": failed_commit,
                          "restored": target.commit}
    for service, digest in replaced.items():
        entry = record["services"].get(service)
        if entry is not None and digest and digest != entry.get("digest"):
            entry["rolled_back_from"] = {"digest": digest, "at": iso(now), "reason": reason[:500]}
    return record


def held(record: ReleaseRecord) -> dict[str, str]:
    """Per service, the digest an automatic rollback replaced and that stays held back."""
    return {name: str(entry["rolled_back_from"]["digest"]) for name, entry in record_services(record).items()
            if isinstance(entry.get("rolled_back_from"), Mapping) and entry["rolled_back_from"].get("digest")}
