"""`devops infra plan`: init with the generated backend, plan into the work folder, summarise
and price the plan, and save a record beside it (`plan.tfplan.meta.json`) naming its
environment, state and checksum, which `apply` checks (devops/domain/infra/guards.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from devops.app.infra.ports import InfraPorts
from devops.app.infra.target import env_in_hints, prepare, record_path, sha256, target
from devops.config import Config
from devops.domain.cost.pricing import PriceTable, price_table
from devops.domain.infra.estimate import estimate
from devops.domain.infra.plan_summary import summarise
from devops.domain.infra.results import PlanReport


@env_in_hints
def plan(
    config: Config,
    environment: str,
    ports: InfraPorts,
    *,
    prices: PriceTable | None = None,
    destroy: bool = False,
) -> PlanReport:
    """Init with the generated backend, plan into the work folder, summarise and price it."""
    tgt = target(config, environment, ports)
    tf, var_file = prepare(tgt, ports)
    out = tgt.destroy_plan_path if destroy else tgt.plan_path
    record_path(out).unlink(missing_ok=True)  # a half-made plan must never look approved
    result = tf.plan(out, var_file=var_file, destroy=destroy, lock_timeout=config.infra.lock_timeout)
    shown = tf.show_plan(out)
    (tgt.work / (out.stem + ".json")).write_text(json.dumps(shown, indent=1), encoding="utf-8")
    summary = summarise(shown)
    # Priced in the region the resources are created in (the cluster's), with cost.prices applied.
    cost = estimate(summary, prices or price_table(str(tgt.variables["region"]), config.cost.prices))
    stamp = tf.plan_stamp(out)
    record = {
        "environment": environment,
        "bucket": tgt.backend.bucket,
        "key": tgt.backend.key,
        "root": str(tgt.root),
        "destroy": destroy,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": sha256(out),
        "state": None if stamp is None else {"lineage": stamp.lineage, "serial": stamp.serial},
        "counts": summary.counts,
        "monthly_delta_usd": cost.monthly_delta,
    }
    record_path(out).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    # The cost warnings first: a region priced at another region's rates must not be missed.
    warnings = (*cost.warnings, *(d.one_line() for d in result.diagnostics))
    return PlanReport(environment, out, tgt.backend, summary, cost, result.has_changes, destroy, warnings)
