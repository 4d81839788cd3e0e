"""`devops infra apply` and `destroy`: apply exactly the saved plan, after the checks of
devops/domain/infra/guards.py; say what was applied when Terraform fails part-way, and whether
the state lock is still held when the run is interrupted or times out."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from devops.app.infra.plan import plan as make_plan
from devops.app.infra.ports import InfraPorts, Probe, Terraform
from devops.app.infra.target import Target, env_in_hints, prepare, record_path, sha256, target
from devops.config import Config
from devops.domain.infra import guards
from devops.domain.infra.plan_summary import SENSITIVE
from devops.domain.infra.results import ApplyReport, DestroyReport, PlanReport
from devops.domain.infra.terraform import LockInfo, TerraformFailed
from devops.errors import DevopsError, ExitCode, ToolTimeout


class ApplyInterrupted(DevopsError):
    """An apply was interrupted or timed out; says whether the state lock is still held."""

    exit_code = ExitCode.INTERRUPTED


def check_plan(tgt: Target, plan_file: Path, tf: Terraform, *, destroy: bool = False) -> dict[str, Any]:
    """Refuse a plan that is missing, altered, for another environment or backend, or stale;
    the plan's record when it may be applied."""
    if not plan_file.is_file():
        raise guards.missing_plan(plan_file, tgt.environment, destroy=destroy)
    record_file = record_path(plan_file)
    try:
        record = json.loads(record_file.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not an object")
    except (OSError, ValueError):
        raise guards.unreadable_record(plan_file, record_file.name) from None
    guards.check_record(record, plan_file, environment=tgt.environment, bucket=tgt.backend.bucket,
                        key=tgt.backend.key, sha256=sha256(plan_file), destroy=destroy)
    guards.check_plan_variable(tf.show_plan(plan_file), plan_file, tgt.environment)
    guards.check_fresh(tf.plan_stamp(plan_file), tf.state_stamp(), plan_file, environment=tgt.environment,
                       created=record.get("created"))
    return dict(record)


@contextlib.contextmanager
def _interruptions(tgt: Target, probe: Probe, what: str, applied_so_far: Callable[[], str]) -> Iterator[None]:
    """Turn Ctrl-C or a timeout during a state-writing run into one line saying about the lock."""
    try:
        yield
    except (KeyboardInterrupt, ToolTimeout) as exc:
        reason = "interrupted" if isinstance(exc, KeyboardInterrupt) else "timed out and was killed"
        try:
            lock = probe.held_lock(tgt.backend.lock_table, tgt.backend.lock_id)
        except DevopsError:
            lock = LockInfo("unknown")
            state = (
                "the state lock may still be held (the lock table could not be read); if a plan says so, "
                f"release it with `devops infra unlock --env {tgt.environment} --lock-id <ID>`"
            )
        else:
            if lock is None:
                state = "the state lock was released"
            else:
                state = (
                    f"the state lock {lock.id} is still held; release it with `devops infra unlock --env "
                    f"{tgt.environment} --lock-id {lock.id}` (or `terraform -chdir={tgt.root} "
                    f"force-unlock {lock.id}`)"
                )
        raise ApplyInterrupted(
            f"terraform {what} for {tgt.environment} {reason}: {state}; {applied_so_far()}"
        ) from None


@env_in_hints
def apply(
    config: Config,
    environment: str,
    ports: InfraPorts,
    *,
    plan_file: Path | None = None,
    dry_run: bool = False,
    destroy: bool = False,
) -> ApplyReport:
    """Apply the saved plan of `environment` after the checks of `check_plan`."""
    tgt = target(config, environment, ports)
    chosen = plan_file.resolve() if plan_file else (tgt.destroy_plan_path if destroy else tgt.plan_path)
    tf, _ = prepare(tgt, ports)
    record = check_plan(tgt, chosen, tf, destroy=destroy)
    if dry_run:
        return ApplyReport(environment, (), dict(record.get("counts") or {}), dry_run=True)
    started = time.monotonic()
    with _interruptions(
        tgt,
        ports.probe,
        "destroy" if destroy else "apply",
        lambda: (
            f"check what changed with `devops infra plan --env {environment}` "
            f"(ran {time.monotonic() - started:.0f} s)"
        ),
    ):
        try:
            result = tf.apply(chosen, lock_timeout=config.infra.lock_timeout)
        except TerraformFailed as exc:
            done = ", ".join(exc.applied) if exc.applied else "nothing"
            raise TerraformFailed(
                f"{exc.message}; applied before the failure: {done}",
                hint=f"fix the error and run `devops infra plan --env {environment}` again",
                diagnostics=exc.diagnostics,
                applied=exc.applied,
            ) from None
    # A used plan is spent: Terraform would refuse it anyway, remove it so nobody tries.
    chosen.unlink(missing_ok=True)
    record_path(chosen).unlink(missing_ok=True)
    outputs = {
        name: (SENSITIVE if value.get("sensitive") else value.get("value"))
        for name, value in result.outputs.items()
        if isinstance(value, dict)
    }
    return ApplyReport(environment, result.applied, dict(result.summary), outputs=outputs)


def destroy(
    config: Config,
    environment: str,
    ports: InfraPorts,
    *,
    allow_prod: bool = False,
    dry_run: bool = False,
    show: Callable[[PlanReport], None] = lambda _report: None,
    ask: Callable[[str], str | None] | None = None,
) -> DestroyReport:
    """Refuse a protected environment without `allow_prod`, plan the destruction, `show` the
    plan, ask for the environment's name (`ask(environment)` returns what was typed, None when
    nothing could be read; no `ask`: --yes), then apply that plan with the checks of `apply`."""
    tgt = target(config, environment, ports)
    guards.check_destroy(environment, tgt.protection, allow_prod=allow_prod)
    planned = make_plan(config, environment, ports, destroy=True)
    show(planned)
    if dry_run:
        return DestroyReport(planned)
    if ask is not None:
        guards.check_confirmation(environment, ask(environment))
    return DestroyReport(planned, apply(config, environment, ports, destroy=True))
