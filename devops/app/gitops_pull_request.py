"""Pull-request mode: the change goes to a branch named from a hash of what it changes, and one
pull request per such branch carries the evidence. Running the same release twice pushes
nothing new and reuses the open pull request instead of opening a second one."""

from __future__ import annotations

import hashlib
import json
import os
from typing import TYPE_CHECKING, Any

from devops.domain.gitops.change import ChangeSet, PublishResult, ServiceChange
from devops.domain.gitops.message import subject

if TYPE_CHECKING:
    from devops.adapters.github import GitHubClient
    from devops.adapters.gitops_repo import GitOpsRepo


def branch_name(prefix: str, change: ChangeSet) -> str:
    """`<prefix>/<env>-<12 hex>`: the hash of (environment, services, digests), so the same
    change always lands on the same branch."""
    key = json.dumps([change.environment, sorted((u.service, u.digest) for u in change.updates)])
    return f"{prefix.rstrip('/')}/{change.environment}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def publish_pull_request(repo: GitOpsRepo, change: ChangeSet, *, dry_run: bool = False,
                         client: GitHubClient | None = None) -> PublishResult:
    """Push the change to its branch (compare-and-swap) and open or reuse its pull request."""
    from devops.adapters.github import api_url, repository_of

    settings = repo.target.pull_request
    base = settings.base or repo.target.branch
    if base != repo.target.branch:
        repo._sync_to(base, base)
    branch = branch_name(settings.branch_prefix, change)
    on_base = repo.apply(change)  # what the pull request changes, against the base
    if not on_base.files:
        return repo._result("noop", on_base, None, branch, attempts=0)
    if dry_run:
        return repo._result("dry-run", on_base, None, branch, attempts=0)

    tip = repo.branch_exists(branch)
    attempts = 0
    if tip is None:
        commit, attempts, _ = repo.push_with_retries(change, on_base, branch, base=base)
    else:
        repo._sync_to(branch, base)
        applied = repo.apply(change)
        commit = tip
        if applied.files:  # the branch exists but lacks part of the change (it was edited)
            commit, attempts, _ = repo.push_with_retries(change, applied, branch, base=base)
    commit = commit or repo.branch_exists(branch)

    api = api_url(settings.api_url, "api_url" in settings.model_fields_set)
    owner_repo = repository_of(repo.remote.url, api)
    token = os.environ.get(settings.token_env)
    url: str | None = None
    if owner_repo is None:
        state = f"SKIPPED: {repo.remote.display} is not a GitHub repository; branch {branch} was pushed"
    elif not token and client is None:
        state = f"SKIPPED: ${settings.token_env} is not set; branch {branch} was pushed"
    else:
        owner, name = owner_repo
        if client is None:
            from devops.adapters.github import GitHubClient

            assert token is not None
            client = GitHubClient(api, token, token_env=settings.token_env)
        title = subject(change, on_base.changes)
        body = evidence_body(change, on_base.changes, commit, repo.remote.display, base)
        existing = client.find_open_pull(owner, name, branch)
        if existing is not None:
            if existing.body != body:
                client.update_pull(owner, name, existing.number, body=body)
            pull, state = existing, "reused"
        else:
            pull = client.create_pull(owner, name, title=title, head=branch, base=base, body=body,
                                      draft=settings.draft)
            state = "opened"
        missing = [label for label in settings.labels if label not in pull.labels]
        if missing:
            client.add_labels(owner, name, pull.number, missing)
        url = pull.url
    return repo._result("pull-request", on_base, commit, branch, attempts=attempts, pr_url=url, pr_state=state)


def evidence_body(change: ChangeSet, changes: tuple[ServiceChange, ...], commit: str | None, remote: str,
                  base: str) -> str:
    """Markdown: per service old -> new and the gate evidence from the release record."""
    from devops.report.github import markdown_table

    record: dict[str, Any] = change.record or {}
    services: dict[str, Any] = record.get("services") or {}
    rows = []
    for item in changes:
        entry = services.get(item.service) or {}
        scan = entry.get("scan") or {}
        sonar = entry.get("sonar") or {}
        counts = scan.get("counts") or {}
        scan_text = scan.get("verdict", "no evidence")
        found = [f"{k} {v}" for k, v in counts.items() if v]
        if scan:
            scan_text += f" ({', '.join(found)})" if found else " (no findings)"
        sonar_text = sonar.get("verdict", "no evidence")
        if sonar.get("reason"):
            sonar_text += f": {sonar['reason']}"
        rows.append((item.service, f"`{item.old or '(none)'}`", f"`{item.new}`", scan_text, sonar_text,
                     (entry.get("source_commit") or "")[:12]))
    lines = [
        f"**{change.action}** of `{change.environment}`, written by `devops` ({len(changes)} service(s)).",
        "",
        markdown_table(["service", "old", "new", "scan", "sonar", "source commit"], rows),
        "",
    ]
    released_by = record.get("released_by") or {}
    facts = [
        ("source commit", change.source_commit or record.get("source_commit")),
        ("released by", " ".join(str(v) for v in (released_by.get("actor"), f"via {released_by.get('via')}"
                                                  if released_by.get("via") else None) if v) or None),
        ("run", released_by.get("run_url")),
        ("promoted from", (record.get("promoted_from") or {}).get("environment")),
        ("GitOps commit", commit),
        ("repository", f"{remote} ({base})"),
    ]
    lines += [f"- {name}: {value}" for name, value in facts if value]
    lines += ["", "Merging this pull request releases exactly these digests; nothing is rebuilt."]
    return "\n".join(lines) + "\n"
