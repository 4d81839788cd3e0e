"""The commit message of a GitOps change: a subject people scan, a body listing old -> new per
service, and git trailers machines parse (`git log --format=%(trailers)`, `status`, `rollback`)."""

from __future__ import annotations

from devops.domain.gitops.change import ChangeSet, ServiceChange

SUBJECT_LIMIT = 100


def _label(update_tag: str, digest: str) -> str:
    return update_tag or digest.removeprefix("sha256:")[:12]


def subject(change: ChangeSet, changes: tuple[ServiceChange, ...]) -> str:
    """`release(dev): product sha-abc1234, cart sha-def5678` (the services that changed)."""
    if change.values and not change.updates:
        files = len({c.service.partition(": ")[0] for c in changes})
        return f"{change.action}({change.environment}): {len(changes)} value(s) in {files} file(s)"
    changed = {c.service for c in changes}
    parts = [f"{u.service} {_label(u.tag, u.digest)}" for u in change.updates if u.service in changed]
    if not parts:  # only the record changed (evidence refreshed)
        parts = ["release record"]
    line = f"{change.action}({change.environment}): {', '.join(parts)}"
    if len(line) > SUBJECT_LIMIT:
        line = f"{change.action}({change.environment}): {len(parts)} services"
    return line


def trailers(change: ChangeSet, changes: tuple[ServiceChange, ...]) -> list[tuple[str, str]]:
    """Machine-readable trailers, one `Devops-Image` per changed service."""
    items = [("Devops-Environment", change.environment), ("Devops-Action", change.action)]
    if change.source_commit:
        items.append(("Devops-Source-Commit", change.source_commit))
    changed = {c.service for c in changes}
    for update in change.updates:
        if update.service in changed:
            items.append(("Devops-Image", f"{update.service}={update.repository}@{update.digest}"))
    return items


def commit_message(change: ChangeSet, changes: tuple[ServiceChange, ...], *, record_changed: bool = False) -> str:
    """The whole message: subject, blank line, body, blank line, trailers."""
    sources = {edit.name: edit.source for edit in change.values}
    body = [f"{c.service}: {c.old or '(none)'} -> {c.new}" + (f" ({sources[c.service]})" if sources.get(c.service)
                                                             else "") for c in changes]
    if record_changed:
        body.append(f"release record of {change.environment} updated")
    lines = [subject(change, changes), "", *body, ""]
    lines += [f"{key}: {value}" for key, value in trailers(change, changes)]
    return "\n".join(lines) + "\n"


def parse_trailers(message: str) -> dict[str, list[str]]:
    """The trailers of a message written by `commit_message` (last paragraph, `Key: value`)."""
    paragraphs = message.strip().split("\n\n")
    found: dict[str, list[str]] = {}
    if len(paragraphs) < 2:
        return found
    for line in paragraphs[-1].splitlines():
        key, sep, value = line.partition(": ")
        if sep and key.startswith("Devops-"):
            found.setdefault(key, []).append(value.strip())
    return found
