"""The notifications of runs that are not releases: a rescan that found a digest now failing
(`rescan-finding`) and a cost run that changed or failed to change node groups (`cost-run`).
Built from what the use cases report (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from devops.domain.cost.outcome import CostRun
from devops.domain.notify.event import Event
from devops.domain.release.rescan import RescanReport, ServiceRescan

MAX_LINES = 20  # details shown per event; the rest is in the run's own report


def rescan_finding_event(report: RescanReport, newly_failed: Sequence[ServiceRescan], at: dt.datetime) -> Event:
    """Digests running in `report.environment` that now fail the scan policy (they passed before)."""
    names = ", ".join(s.target.service for s in newly_failed)
    summary = f"Rescan of {report.environment}: {names} now FAILED the scan policy; promotion of those digests stops"
    details = tuple(f"{s.target.service} {s.target.digest[:19]}: {', '.join(s.failing[:10]) or 'over the policy'}"
                    for s in newly_failed[:MAX_LINES])
    commit = report.publish.commit if report.publish is not None else None
    data = {"environment": report.environment, "checked_at": report.checked_at.isoformat(),
            "evidence_commit": commit, "record_error": report.record_error,
            "services": [{"service": s.target.service, "repository": s.target.repository, "digest": s.target.digest,
                          "previous": s.target.previous or None, "failing": list(s.failing),
                          "counts": dict(s.counts)} for s in newly_failed]}
    return Event("rescan-finding", summary, at, report.environment, details, data, "error")


def cost_run_event(run: CostRun, environment: str | None = None) -> Event | None:
    """What a cost run changed in AWS, or failed to; None for a dry run or a run that changed
    nothing and failed nothing (the every-30-minutes run is quiet when all is as scheduled)."""
    result = run.result
    failed = result.having("failed", "mismatch")
    changed = result.having("scale-down", "restore")  # node groups resized (state bookkeeping is not news)
    if result.dry_run or not (changed or failed):
        return None
    rows = [*changed, *failed]
    details = tuple(f"{o.where}: {o.action}" + (f" ({o.message})" if o.message else "") for o in rows[:MAX_LINES])
    verdict = "failed" if failed else "done"
    summary = f"{run.title}: {len(changed)} change(s), {len(failed)} failure(s) ({verdict})"
    data = {"title": run.title, "at": run.at_utc.isoformat(),
            "outcomes": [{"cluster": o.cluster, "nodegroup": o.nodegroup, "action": o.action, "reason": o.reason,
                          "message": o.message} for o in rows]}
    return Event("cost-run", summary, run.at_utc, environment, details, data, "error" if failed else "info")
