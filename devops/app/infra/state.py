"""`devops infra output` and `unlock`: read the state's outputs, release a lock a dead run left."""

from __future__ import annotations

from devops.app.infra.ports import InfraPorts
from devops.app.infra.target import env_in_hints, prepare, target
from devops.config import Config
from devops.domain.infra import guards
from devops.domain.infra.plan_summary import SENSITIVE
from devops.domain.infra.results import OutputsReport, UnlockReport


@env_in_hints
def outputs(config: Config, environment: str, ports: InfraPorts, *, show_sensitive: bool = False) -> OutputsReport:
    """The root's outputs; sensitive values hidden unless asked for."""
    tgt = target(config, environment, ports)
    tf, _ = prepare(tgt, ports)
    values = {
        name: (SENSITIVE if value.get("sensitive") and not show_sensitive else value.get("value"))
        for name, value in tf.output().items()
    }
    return OutputsReport(environment, values, show_sensitive)


@env_in_hints
def unlock(config: Config, environment: str, lock_id: str, ports: InfraPorts, *, dry_run: bool = False
           ) -> UnlockReport:
    """Release a state lock left behind by a run that died; `held` is False when no lock was
    held. With `dry_run` only the checks run.

    The ID must be the one held: releasing a lock by a guessed or stale ID is refused (exit 2)
    so a typo cannot release somebody else's live lock.
    """
    tgt = target(config, environment, ports)
    held = ports.probe.held_lock(tgt.backend.lock_table, tgt.backend.lock_id)
    if held is None:
        return UnlockReport(environment, lock_id, held=False, dry_run=dry_run)
    guards.check_lock_id(environment, held, lock_id)
    if not dry_run:
        tf, _ = prepare(tgt, ports)
        tf.force_unlock(lock_id)
    return UnlockReport(environment, lock_id, held=True, dry_run=dry_run)
