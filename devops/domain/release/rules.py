"""The pure rules of releases: the next release record, which repository a record may name,
what a promotion would change, which release `rollback --to` means, and how old a release is.

The use cases (devops/app/release.py, promote.py, rollback.py, status.py) read the GitOps
repository and the registry through ports and ask these functions what follows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from devops.domain.gitops.record import ReleaseRecord
from devops.domain.gitops.repository import HistoryEntry
from devops.domain.release.evidence import iso
from devops.errors import BadInput

RELATIVE = re.compile(r"^~(?P<n>[1-9]\d*)$")
SHA_PREFIX = re.compile(r"[0-9a-fA-F]{4,40}")


def record_services(record: ReleaseRecord) -> dict[str, dict[str, Any]]:
    """The `services` of a release record as plain data, as release.json holds them."""
    services: dict[str, dict[str, Any]] = record.to_dict()["services"]
    return services


def new_record(environment: str, order: Sequence[str], previous: ReleaseRecord,
               entries: Mapping[str, Mapping[str, Any]], *, source_commit: str | None, now: dt.datetime,
               released_by: Mapping[str, Any], promoted_from: Mapping[str, Any] | None = None,
               break_glass: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The next release record: previous entries, with `entries` replacing theirs, in config order;
    `break_glass` when the release went through a freeze (devops/domain/release/freeze.py)."""
    services = {**record_services(previous), **{k: dict(v) for k, v in entries.items()}}
    ordered = {name: services[name] for name in order if name in services}
    ordered.update({name: entry for name, entry in services.items() if name not in ordered})
    record = {
        "schema": 1,
        "environment": environment,
        "released_at": iso(now),
        "released_by": dict(released_by),
        "source_commit": source_commit,
        "promoted_from": dict(promoted_from) if promoted_from else None,
        "services": ordered,
    }
    if break_glass:
        record["break_glass"] = dict(break_glass)
    return record


def repository_refusal(service: str, recorded: object, configured: str | None, where: str) -> str:
    """Why a record entry's repository may not be deployed; empty when it is the configured one.

    A record is data anyone with push access to the GitOps repository can write: only the
    repository configured for the service (registry.host/namespace/image) is accepted, so a
    record cannot send the registry credentials (or prod) to another registry.
    """
    if configured is None:
        return f"{service}: {where} names a service that is not in the configuration"
    if recorded != configured:
        shown = repr(recorded)[:200] if recorded else "no repository"
        return (f"{service}: {where} names repository {shown}, not the configured {configured!r} "
                "(registry.host/namespace/image)")
    return ""


def promotion_preview(source_entries: Mapping[str, Mapping[str, Any]], target_digests: Mapping[str, str]
                      ) -> dict[str, tuple[str, str]]:
    """Per service, (target digest now, source digest) where a promotion would change it."""
    changes = {}
    for service, entry in source_entries.items():
        digest = str(entry.get("digest") or "")
        if digest and target_digests.get(service, "") != digest:
            changes[service] = (target_digests.get(service, ""), digest)
    return changes


def resolve_target(history: Sequence[HistoryEntry], to: str, environment: str) -> str:
    """The commit `to` names among the record's history (newest first).

    `previous` is the release before the current one, `~N` the Nth before it, anything else a
    commit (at least 4 hex digits) that changed the release record; BadInput otherwise.
    """
    commits = [entry.commit for entry in history]
    if not commits:
        raise BadInput(f"{environment} has no release history to roll back to")
    steps_back = 1 if to == "previous" else (int(m["n"]) if (m := RELATIVE.match(to)) else None)
    if steps_back is not None:
        if steps_back >= len(commits):
            raise BadInput(f"--to {to}: {environment} has only {len(commits) - 1} earlier release(s)",
                           hint=f"list them with `devops rollback --env {environment} --list`")
        return str(commits[steps_back])
    matches = [c for c in commits if c.startswith(to.lower())] if SHA_PREFIX.fullmatch(to) else []
    if len(matches) == 1:
        return str(matches[0])
    if len(matches) > 1:
        raise BadInput(f"--to {to}: ambiguous, matches {len(matches)} releases of {environment}; give more digits")
    raise BadInput(f"--to {to}: not a release of {environment} (a commit that changed its release record)",
                   hint=f"list them with `devops rollback --env {environment} --list`")


def age(moment: dt.datetime | None, now: dt.datetime) -> str:
    """Human age: 45s, 12m, 3h, 4d."""
    if moment is None:
        return ""
    seconds = max(0, int((now - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
