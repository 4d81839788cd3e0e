"""Automatic rollback (`environments.<env>.auto_rollback: true`): when the verification after a
release fails, restore the last verified release, through the rollback use case, as a new
commit (or a pull request where the environment writes them).

Never to an unverified release, never in a loop (devops/domain/release/auto_rollback.py): a
record that is itself an automatic rollback is not rolled back again, the rollback's record
says it is one (`rollback.automatic`, why, which release failed), and the digests it replaced
are held back from later releases until their service changes. The failed verification stays
the verdict of the run (exit 1); a rollback that could not be written makes it exit 3, with the
verification still reported.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from devops.app.notify import Notifier
from devops.app.rollback import RollbackSteps, rollback
from devops.domain.notify.release_events import auto_rollback_event, release_event
from devops.domain.release.auto_rollback import MAX_LOOKBACK, Target, candidate, is_automatic_rollback, marked
from devops.domain.release.results import AutoRollback, ReleaseReport
from devops.errors import DevopsError, ExitCode


def reason_of(report: ReleaseReport) -> str:
    """One line: which services failed which checks."""
    verification = report.verification.verification if report.verification else None
    failing = [f"{s.service} ({', '.join(c.name for c in s.failing)})" for s in verification.services
               if s.failing] if verification else []
    return f"verification FAILED: {'; '.join(failing) or 'no service passed'}"[:300]


def find_target(repo: Any, environment: str) -> tuple[Target | None, dict[str, str], bool]:
    """(the last verified release, the digests now of what it would change, whether the current
    record is itself an automatic rollback)."""
    current = repo.read_record()
    if is_automatic_rollback(current):
        return None, {}, True
    digests = {name: entry.digest for name, entry in current.services.items()}
    for entry in repo.history()[1:MAX_LOOKBACK + 1]:
        changed = candidate(current, repo.read_record_at(entry.commit), environment)
        if changed:
            return Target(entry.commit, changed), {s: digests.get(s, "") for s in changed}, False
    return None, {}, False


def auto_rollback(report: ReleaseReport, order: Sequence[str], steps: RollbackSteps, *, now: dt.datetime,
                  notifier: Notifier) -> DevopsError | None:
    """Roll `report`'s environment back after its failed verification; the error to raise
    (exit 3) when the rollback could not be written, else None. `report.auto_rollback` says
    what happened either way."""
    environment = report.environment
    failed_commit = report.publish.commit if report.publish else None
    reason = reason_of(report)
    error: DevopsError | None = None
    try:
        with steps.open_repo(environment) as repo:
            target, replaced, itself = find_target(repo, environment)
        if itself:
            report.auto_rollback = AutoRollback("not-needed", "the release record is itself an automatic rollback; "
                                                              "it is not rolled back again")
        elif target is None:
            report.auto_rollback = AutoRollback(
                "no-target", f"no earlier release of {environment} has every service it would change verified "
                             f"(looked {MAX_LOOKBACK} back); nothing rolled back: roll back by hand with "
                             f"`devops rollback --env {environment} --to REF`")
        else:
            report.auto_rollback = _restore(report, target, replaced, reason, failed_commit, order, steps, now,
                                             notifier)
    except DevopsError as exc:
        cannot_write = exc.exit_code == ExitCode.EXTERNAL
        what = "could not be written" if cannot_write else "was refused"
        report.auto_rollback = AutoRollback("failed" if cannot_write else "refused",
                                            f"the automatic rollback {what}: {exc.message}")
        if cannot_write:
            error = exc.retold(f"{environment}: {reason}, and the automatic rollback could not be written: "
                               f"{exc.message}", hint=f"roll back by hand: devops rollback --env {environment} --list")
    event = auto_rollback_event(report, now)
    if event is not None:
        notifier.notify(event)
    return error


def _restore(report: ReleaseReport, target: Target, replaced: dict[str, str], reason: str, failed_commit: str | None,
             order: Sequence[str], steps: RollbackSteps, now: dt.datetime, notifier: Notifier) -> AutoRollback:
    trailers = (("Devops-Automatic-Rollback", failed_commit or "unknown"), ("Devops-Rollback-Reason", reason))
    done = rollback(report.environment, target.commit, order, steps, now=now, trailers=trailers,
                    mark=lambda record: marked(record, target, reason=reason, failed_commit=failed_commit,
                                               replaced=replaced, now=now))
    publish = done.publish
    restored = ", ".join(target.services)
    event = release_event(done, now)
    if event is not None:
        notifier.notify(dataclasses.replace(event, summary=f"Automatic rollback of {report.environment} after a "
                                                           f"failed verification: {restored}",
                                            details=(reason, *event.details), severity="error",
                                            data={**event.data, "automatic": True, "reason": reason,
                                                  "failed_commit": failed_commit, "restored": target.commit}))
    if publish is None or publish.outcome == "noop":
        return AutoRollback("not-needed", f"{restored} already run what {target.commit[:12]} recorded",
                            restored=target.commit)
    outcome = "pull-request" if publish.outcome == "pull-request" else "rolled-back"
    where = publish.pull_request_url or f"commit {(publish.commit or '')[:12]}"
    return AutoRollback(outcome, f"restored {restored} as released at {target.commit[:12]} ({where})",
                        restored=target.commit, commit=publish.commit, pull_request_url=publish.pull_request_url)
