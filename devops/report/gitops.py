"""How the GitOps engine's work is shown: `devops gitops set-image`, and the body of the pull
request that carries a change's evidence (pull-request mode)."""

from __future__ import annotations

from typing import Any

from devops.domain.gitops.change import ChangeSet, PublishResult, ServiceChange
from devops.report.console import Reporter
from devops.report.github import markdown_table
from devops.report.release_models import PublishModel


def render_publish(reporter: Reporter, result: PublishResult) -> None:
    """Table of old -> new, what happened, step outputs and the JSON result."""
    rows = [(c.service, c.old or "(none)", c.new) for c in result.changes]
    if rows:
        reporter.table(f"{result.outcome}: {result.remote} ({result.branch})", ["service", "old", "new"], rows)
    if result.outcome == "noop":
        reporter.info("nothing to change: the GitOps repository already has these images (no commit)")
    elif result.outcome == "dry-run":
        reporter.info("dry run: nothing committed or pushed; the change would be:")
        reporter.info(result.diff.rstrip("\n"))
    elif result.outcome == "committed":
        reporter.info(f"committed {result.commit} to {result.branch} after {result.attempts} push attempt(s)")
    else:
        reporter.info(f"branch {result.branch} at {result.commit}; pull request: "
                      f"{result.pull_request_url or ''} {result.pull_request_state or ''}".rstrip())
    if result.commit:
        reporter.github.output("gitops-commit", result.commit)
    if result.pull_request_url:
        reporter.github.output("pull-request-url", result.pull_request_url)
    reporter.result(PublishModel.of(result))


def evidence_body(change: ChangeSet, changes: tuple[ServiceChange, ...], commit: str | None, remote: str,
                  base: str) -> str:
    """Markdown: per service old -> new and the gate evidence from the release record."""
    if change.values and not change.updates:  # `devops cluster values`: values from terraform output
        sources = {edit.name: edit.source for edit in change.values}
        value_rows = [(c.service, f"`{c.old or '(empty)'}`", f"`{c.new}`", sources.get(c.service, ""))
                      for c in changes]
        return "\n".join([f"**{change.action}** of `{change.environment}`, written by `devops` from `terraform "
                          "output` (gitops/platform/terraform-outputs.yaml).", "",
                          markdown_table(["file: key", "old", "new", "from"], value_rows), ""])
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
