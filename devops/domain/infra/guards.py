"""The refusals of `devops infra`, decided on values: which saved plan may be applied, which
environment may be destroyed, which lock may be released. The workflow (devops/app/infra/)
reads files and asks Terraform; these functions only say yes (return) or no (raise).

A saved plan is applied only when its record (`plan.tfplan.meta.json`, written by `plan`)
names this environment and this state, its checksum matches, it is the kind of plan asked for
(destroy or not), the plan's own `environment` variable agrees, and the state has not moved
since it was made. Refusals are exit 1 (a policy said no); a missing plan is exit 2.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devops.domain.environments import is_production
from devops.domain.infra.terraform import LockInfo, StateStamp
from devops.errors import BadInput, GateFailed


def missing_plan(plan_file: Path, environment: str, *, destroy: bool) -> BadInput:
    what = "destroy plan" if destroy else "saved plan"
    return BadInput(f"{plan_file}: no {what} for {environment}; run `devops infra plan --env {environment}` first")


def unreadable_record(plan_file: Path, record_name: str) -> GateFailed:
    return GateFailed(
        f"{plan_file}: refusing to apply: its record {record_name} is missing or unreadable, "
        "so its environment cannot be checked; plan again"
    )


def check_record(
    record: Mapping[str, Any],
    plan_file: Path,
    *,
    environment: str,
    bucket: str,
    key: str,
    sha256: str,
    destroy: bool,
) -> None:
    """The plan's record agrees with the environment, its state, the file and the kind of plan."""
    if record.get("environment") != environment:
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan was made for environment "
            f"{record.get('environment')!r}, not {environment!r}"
        )
    if (record.get("bucket"), record.get("key")) != (bucket, key):
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan was made against state "
            f"s3://{record.get('bucket')}/{record.get('key')}, this environment's state is "
            f"s3://{bucket}/{key}"
        )
    if record.get("sha256") != sha256:
        raise GateFailed(f"{plan_file}: refusing to apply: the plan file changed after it was made; plan again")
    if bool(record.get("destroy")) != destroy:
        kind = "a destroy plan" if record.get("destroy") else "not a destroy plan"
        raise GateFailed(f"{plan_file}: refusing to apply: it is {kind}")


def check_plan_variable(plan: Mapping[str, Any], plan_file: Path, environment: str) -> None:
    """The plan's own `environment` variable (from `terraform show -json`), when it has one."""
    shown = plan.get("variables", {}).get("environment", {}).get("value")
    if shown is not None and shown != environment:
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan's environment variable is {shown!r}, not {environment!r}"
        )


def same_state(planned: StateStamp | None, current: StateStamp | None) -> bool:
    """True when the state is the one the plan was made against (no state then, and an empty
    or no state now, counts as the same)."""
    if planned is None or current is None:
        empty_now = current is None or (current.serial == 0 and not current.lineage)
        return planned is None and empty_now
    return planned == current


def check_fresh(planned: StateStamp | None, current: StateStamp | None, plan_file: Path, *,
                environment: str, created: str | None) -> None:
    """Refuse a stale plan: the state moved since the plan was made."""
    if same_state(planned, current):
        return
    was = planned.describe() if planned else "no state"
    now = current.describe() if current else "no state"
    raise GateFailed(
        f"{plan_file}: refusing to apply a stale plan: it was made against {was}, the state is now {now} "
        f"(changed since {created or 'the plan'}); "
        f"run `devops infra plan --env {environment}` again"
    )


@dataclass(frozen=True)
class Protection:
    """Whether `destroy` needs --allow-prod, and why (for the refusal)."""

    protected: bool
    reason: str


def protection(environment: str, *, declared: bool | None, cluster: str | None = None) -> Protection:
    """`infra.environments.<env>.protected` decides when set; unset, a production environment
    (devops/domain/environments.py: its name or its cluster's says prod) is protected."""
    if declared is not None:
        return Protection(declared, f"infra.environments.{environment}.protected")
    production = is_production(environment, cluster=cluster)
    where = f"environment {environment!r}" + (f", cluster {cluster!r}" if cluster else "")
    return Protection(production, f"production by name: {where}; set infra.environments.{environment}"
                                  ".protected to decide otherwise")


def check_destroy(environment: str, guard: Protection, *, allow_prod: bool) -> None:
    if guard.protected and not allow_prod:
        raise GateFailed(
            f"refusing to destroy {environment}: it is protected ({guard.reason}); "
            "add --allow-prod if you really mean it"
        )


def check_confirmation(environment: str, typed: str | None) -> None:
    """The name typed to confirm a destroy; None when nothing could be read (no terminal)."""
    if typed is None:
        raise BadInput(
            f"destroy {environment}: confirmation needed but nothing could be read "
            "from stdin; type the name on a terminal or pass --yes"
        )
    if typed.strip() != environment:
        raise GateFailed(f"destroy {environment}: confirmation did not match; nothing destroyed")


def check_lock_id(environment: str, held: LockInfo, lock_id: str) -> None:
    """Only the held lock's ID releases it: a typo must not release somebody else's live lock."""
    if held.id != lock_id:
        who = f" by {held.who}" if held.who else ""
        since = f" since {held.created}" if held.created else ""
        raise BadInput(
            f"the state lock of {environment} is {held.id} (held{who}{since}), not {lock_id}; "
            "check the ID in the error that reported the lock"
        )
