"""The Terraform workflow of `devops infra`: bootstrap, plan, apply, output, destroy, unlock.

Every run writes the backend file from `pipelines/devops.yaml` and re-initialises with it, so
the state is always the configured one. A plan is saved with a sidecar (`*.meta.json`) naming
its environment, backend and checksum; `apply` refuses a plan made for another environment,
a plan whose file changed, and a plan made against an older state than the current one (the
state serial inside the plan file is compared with the remote state's).

Functions take a `Terraform` factory and a `BackendProbe`, so tests and callers choose them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from devops.adapters.terraform import (
    ApplyResult,
    LockInfo,
    StateLocked,
    StateStamp,
    Terraform,
    TerraformFailed,
    plan_state_stamp,
)
from devops.config import Config
from devops.config.infra import InfraEnvironmentConfig
from devops.domain.cost.pricing import PriceTable, price_table
from devops.domain.infra import backend as backend_mod
from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.estimate import CostEstimate, estimate
from devops.domain.infra.plan_summary import SENSITIVE, PlanSummary, summarise
from devops.errors import (
    BadInput,
    ConfigError,
    DevopsError,
    ExitCode,
    ExternalError,
    GateFailed,
    ToolTimeout,
    UnknownName,
)

OVERRIDE_FILE = "devops_backend_override.tf"


class ApplyInterrupted(DevopsError):
    """An apply was interrupted or timed out; says whether the state lock is still held."""

    exit_code = ExitCode.INTERRUPTED


class Probe(Protocol):
    def account_id(self) -> str: ...
    def bucket_exists(self, bucket: str) -> bool: ...
    def table_exists(self, table: str) -> bool: ...
    def object_exists(self, bucket: str, key: str) -> bool: ...
    def held_lock(self, table: str, lock_id: str) -> LockInfo | None: ...


TerraformFactory = Callable[[Path], Terraform]


@dataclass(frozen=True)
class Target:
    """One environment's Terraform root, resolved from the configuration."""

    environment: str
    root: Path
    backend: BackendSettings
    variables: dict[str, Any]
    protected: bool
    work: Path

    @property
    def plan_path(self) -> Path:
        return self.work / "plan.tfplan"

    @property
    def destroy_plan_path(self) -> Path:
        return self.work / "destroy.tfplan"


@dataclass(frozen=True)
class PlanReport:
    target: Target
    plan: Path
    summary: PlanSummary
    cost: CostEstimate
    has_changes: bool
    destroy: bool = False
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.target.environment,
            "plan": str(self.plan),
            "destroy": self.destroy,
            "has_changes": self.has_changes,
            "summary": self.summary.to_dict(),
            "cost": self.cost.to_dict(),
            "backend": {"bucket": self.target.backend.bucket, "key": self.target.backend.key},
        }


@dataclass(frozen=True)
class ApplyReport:
    target: Target
    applied: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "environment": self.target.environment,
            "dry_run": self.dry_run,
            "applied": list(self.applied),
            "counts": self.counts,
            "outputs": self.outputs,
        }


@dataclass(frozen=True)
class BootstrapReport:
    bucket: str
    lock_table: str
    kms_alias: str
    state_key: str
    created: bool
    dry_run: bool
    steps: tuple[str, ...]
    needed: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "lock_table": self.lock_table,
            "kms_alias": self.kms_alias,
            "state_key": self.state_key,
            "needed": self.needed,
            "created": self.created,
            "dry_run": self.dry_run,
            "steps": list(self.steps),
        }


# -- resolving ----------------------------------------------------------------------------
def target(config: Config, environment: str, probe: Probe) -> Target:
    """The environment's root and backend; `UnknownName` (exit 2) for an unknown environment."""
    config.environment(environment)  # unknown in `environments:` -> UnknownName
    infra = config.infra
    env_cfg: InfraEnvironmentConfig | None = infra.environments.get(environment)
    if env_cfg is None:
        known = ", ".join(sorted(infra.environments)) or "none"
        raise UnknownName(
            f"{config.source}: environment {environment!r} has no Terraform root under infra.environments "
            f"(configured: {known})"
        )
    extra = sorted(set(infra.environments) - set(config.environments))
    if extra:
        raise ConfigError(f"{config.source}: infra.environments.{extra[0]}: not an environment under environments:")
    root = (config.root / env_cfg.root).resolve()
    if not root.is_dir():
        raise ConfigError(f"{config.source}: infra.environments.{environment}.root: {root} is not a folder")
    settings = backend_mod.settings(infra, project=config.project, environment=environment, account_id=probe.account_id)
    cluster = config.environments[environment].cluster
    # Given to every root, from the one place they are configured; they win over
    # infra.environments.<env>.variables so the two can never disagree.
    variables = {
        **env_cfg.variables,
        "environment": environment,
        "region": cluster.region,
        "cluster_name": cluster.name,
        "state_bucket": settings.bucket,
        "lock_table": settings.lock_table,
        "state_kms_alias": settings.kms_alias,
    }
    return Target(
        environment,
        root,
        settings,
        variables,
        env_cfg.protected,
        (config.root / infra.work_dir / environment).resolve(),
    )


F = TypeVar("F", bound=Callable[..., Any])


def _env_in_hints(func: F) -> F:
    """Put the environment into the unlock command of a held-lock error."""

    @functools.wraps(func)
    def wrapper(config: Config, environment: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(config, environment, *args, **kwargs)
        except StateLocked as exc:
            hint = (exc.hint or "").replace("--env <env>", f"--env {environment}")
            raise StateLocked(exc.message, lock=exc.lock, hint=hint) from None

    return wrapper  # type: ignore[return-value]


def _prepare(config: Config, tgt: Target, factory: TerraformFactory) -> tuple[Terraform, Path]:
    tgt.work.mkdir(parents=True, exist_ok=True)
    backend_file = tgt.backend.write(tgt.work / "backend.hcl")
    var_file = tgt.work / "variables.tfvars.json"
    var_file.write_text(json.dumps(tgt.variables, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tf = factory(tgt.root)
    tf.init(backend_file)
    return tf, var_file


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _meta_path(plan: Path) -> Path:
    return plan.with_name(plan.name + ".meta.json")


# -- plan ---------------------------------------------------------------------------------
@_env_in_hints
def plan(
    config: Config,
    environment: str,
    *,
    factory: TerraformFactory,
    probe: Probe,
    prices: PriceTable | None = None,
    destroy: bool = False,
) -> PlanReport:
    """Init with the generated backend, plan into the work folder, summarise and price it."""
    tgt = target(config, environment, probe)
    tf, var_file = _prepare(config, tgt, factory)
    out = tgt.destroy_plan_path if destroy else tgt.plan_path
    _meta_path(out).unlink(missing_ok=True)  # a half-made plan must never look approved
    result = tf.plan(out, var_file=var_file, destroy=destroy, lock_timeout=config.infra.lock_timeout)
    shown = tf.show_plan(out)
    (tgt.work / (out.stem + ".json")).write_text(json.dumps(shown, indent=1), encoding="utf-8")
    summary = summarise(shown)
    # Priced in the region the resources are created in (the cluster's), with cost.prices applied.
    cost = estimate(summary, prices or price_table(str(tgt.variables["region"]), config.cost.prices))
    stamp = plan_state_stamp(out)
    meta = {
        "environment": environment,
        "bucket": tgt.backend.bucket,
        "key": tgt.backend.key,
        "root": str(tgt.root),
        "destroy": destroy,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "sha256": _sha256(out),
        "state": None if stamp is None else {"lineage": stamp.lineage, "serial": stamp.serial},
        "counts": summary.counts,
        "monthly_delta_usd": cost.monthly_delta,
    }
    _meta_path(out).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    # The cost warnings first: a region priced at another region's rates must not be missed.
    warnings = (*cost.warnings, *(d.one_line() for d in result.diagnostics))
    return PlanReport(tgt, out, summary, cost, result.has_changes, destroy, warnings)


# -- apply --------------------------------------------------------------------------------
def check_plan(tgt: Target, plan_file: Path, tf: Terraform, *, destroy: bool = False) -> dict[str, Any]:
    """Refuse a plan that is missing, altered, for another environment or backend, or stale."""
    if not plan_file.is_file():
        what = "destroy plan" if destroy else "saved plan"
        raise BadInput(
            f"{plan_file}: no {what} for {tgt.environment}; run `devops infra plan --env {tgt.environment}` first"
        )
    meta_file = _meta_path(plan_file)
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise GateFailed(
            f"{plan_file}: refusing to apply: its record {meta_file.name} is missing or unreadable, "
            "so its environment cannot be checked; plan again"
        ) from None
    if meta.get("environment") != tgt.environment:
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan was made for environment "
            f"{meta.get('environment')!r}, not {tgt.environment!r}"
        )
    if (meta.get("bucket"), meta.get("key")) != (tgt.backend.bucket, tgt.backend.key):
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan was made against state "
            f"s3://{meta.get('bucket')}/{meta.get('key')}, this environment's state is "
            f"s3://{tgt.backend.bucket}/{tgt.backend.key}"
        )
    if meta.get("sha256") != _sha256(plan_file):
        raise GateFailed(f"{plan_file}: refusing to apply: the plan file changed after it was made; plan again")
    if bool(meta.get("destroy")) != destroy:
        kind = "a destroy plan" if meta.get("destroy") else "not a destroy plan"
        raise GateFailed(f"{plan_file}: refusing to apply: it is {kind}")
    shown_env = tf.show_plan(plan_file).get("variables", {}).get("environment", {}).get("value")
    if shown_env is not None and shown_env != tgt.environment:
        raise GateFailed(
            f"{plan_file}: refusing to apply: the plan's environment variable is {shown_env!r}, not {tgt.environment!r}"
        )
    planned = plan_state_stamp(plan_file)
    current = tf.state_stamp()
    if not _same_state(planned, current):
        was = planned.describe() if planned else "no state"
        now = current.describe() if current else "no state"
        raise GateFailed(
            f"{plan_file}: refusing to apply a stale plan: it was made against {was}, the state is now {now} "
            f"(changed since {meta.get('created', 'the plan')}); "
            f"run `devops infra plan --env {tgt.environment}` again"
        )
    return dict(meta)


def _same_state(planned: StateStamp | None, current: StateStamp | None) -> bool:
    if planned is None or current is None:
        empty_now = current is None or (current.serial == 0 and not current.lineage)
        return planned is None and empty_now
    return planned == current


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


@_env_in_hints
def apply(
    config: Config,
    environment: str,
    *,
    factory: TerraformFactory,
    probe: Probe,
    plan_file: Path | None = None,
    dry_run: bool = False,
    destroy: bool = False,
) -> ApplyReport:
    """Apply the saved plan of `environment` after the checks of `check_plan`."""
    tgt = target(config, environment, probe)
    chosen = plan_file.resolve() if plan_file else (tgt.destroy_plan_path if destroy else tgt.plan_path)
    tf, _ = _prepare(config, tgt, factory)
    meta = check_plan(tgt, chosen, tf, destroy=destroy)
    if dry_run:
        counts = dict(meta.get("counts") or {})
        return ApplyReport(tgt, (), counts, dry_run=True)
    started = time.monotonic()
    with _interruptions(
        tgt,
        probe,
        "destroy" if destroy else "apply",
        lambda: (
            f"check what changed with `devops infra plan --env {tgt.environment}` "
            f"(ran {time.monotonic() - started:.0f} s)"
        ),
    ):
        try:
            result: ApplyResult = tf.apply(chosen, lock_timeout=config.infra.lock_timeout)
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
    _meta_path(chosen).unlink(missing_ok=True)
    outputs = {
        name: (SENSITIVE if value.get("sensitive") else value.get("value"))
        for name, value in result.outputs.items()
        if isinstance(value, dict)
    }
    return ApplyReport(tgt, result.applied, dict(result.summary), outputs=outputs)


# -- output / unlock ----------------------------------------------------------------------
@_env_in_hints
def outputs(
    config: Config, environment: str, *, factory: TerraformFactory, probe: Probe, show_sensitive: bool = False
) -> dict[str, Any]:
    """The root's outputs; sensitive values hidden unless asked for."""
    tgt = target(config, environment, probe)
    tf, _ = _prepare(config, tgt, factory)
    return {
        name: (SENSITIVE if value.get("sensitive") and not show_sensitive else value.get("value"))
        for name, value in tf.output().items()
    }


@_env_in_hints
def unlock(
    config: Config, environment: str, lock_id: str, *, factory: TerraformFactory, probe: Probe, dry_run: bool = False
) -> bool:
    """Release a state lock left behind by a run that died. False when no lock was held;
    with `dry_run` only the checks run.

    The ID must be the one held: releasing a lock by a guessed or stale ID is refused (exit 2)
    so a typo cannot release somebody else's live lock.
    """
    tgt = target(config, environment, probe)
    held = probe.held_lock(tgt.backend.lock_table, tgt.backend.lock_id)
    if held is None:
        return False
    if held.id != lock_id:
        who = f" by {held.who}" if held.who else ""
        since = f" since {held.created}" if held.created else ""
        raise BadInput(
            f"the state lock of {environment} is {held.id} (held{who}{since}), not {lock_id}; "
            "check the ID in the error that reported the lock"
        )
    if dry_run:
        return True
    tf, _ = _prepare(config, tgt, factory)
    tf.force_unlock(lock_id)
    return True


# -- bootstrap ----------------------------------------------------------------------------
def bootstrap(config: Config, *, factory: TerraformFactory, probe: Probe, dry_run: bool = False) -> BootstrapReport:
    """Create the state bucket, lock table and KMS key with local state, then move that state
    into the bucket it created. Nothing to do when both bucket and table exist."""
    infra = config.infra
    settings = backend_mod.settings(infra, project=config.project, environment=None, account_id=probe.account_id)
    root = (config.root / infra.bootstrap.root).resolve()
    if not root.is_dir():
        raise ConfigError(f"{config.source}: infra.bootstrap.root: {root} is not a folder")

    def report(created: bool, steps: list[str], needed: bool = True) -> BootstrapReport:
        return BootstrapReport(
            settings.bucket,
            settings.lock_table,
            settings.kms_alias,
            settings.key,
            created,
            dry_run,
            tuple(steps),
            needed,
        )

    have_bucket = probe.bucket_exists(settings.bucket)
    have_table = probe.table_exists(settings.lock_table)
    if have_bucket and have_table:
        return report(
            False, [f"s3://{settings.bucket} and table {settings.lock_table} exist: nothing to do"], needed=False
        )
    if have_bucket or have_table:
        # Creating the other half would fail on the existing one ("already exists"), and
        # deleting anything here could lose state: a person decides.
        present, absent = (
            (f"bucket {settings.bucket}", f"table {settings.lock_table}")
            if have_bucket
            else (f"table {settings.lock_table}", f"bucket {settings.bucket}")
        )
        raise ExternalError(
            f"partially bootstrapped: {present} exists but {absent} does not",
            hint="see docs/runbooks/aws-bootstrap.md, 'Partial bootstrap' (import the existing one, then rerun)",
        )
    steps = [
        f"terraform apply {root} with local state (bucket {settings.bucket}, table {settings.lock_table}, "
        f"key {settings.kms_alias})",
        f"move the bootstrap state to s3://{settings.bucket}/{settings.key}",
    ]
    if dry_run:
        return report(False, steps)
    work = (config.root / infra.work_dir / "bootstrap").resolve()
    work.mkdir(parents=True, exist_ok=True)
    variables = {
        **infra.bootstrap.variables,
        "state_bucket": settings.bucket,
        "lock_table": settings.lock_table,
        "kms_alias": settings.kms_alias,
        "region": settings.region,
    }
    var_file = work / "variables.tfvars.json"
    var_file.write_text(json.dumps(variables, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    local_state = work / "bootstrap.tfstate"
    override = root / OVERRIDE_FILE
    # The root declares `backend "s3"`; until the bucket exists it must run on local state.
    override.write_text(
        "# Written by `devops infra bootstrap` for its first run; removed when it ends.\n"
        f'terraform {{\n  backend "local" {{\n    path = {json.dumps(str(local_state))}\n  }}\n}}\n',
        encoding="utf-8",
    )
    tf = factory(root)
    try:
        tf.init(None)
        out = work / "bootstrap.tfplan"
        tf.plan(out, var_file=var_file)
        tf.apply(out)
    finally:
        override.unlink(missing_ok=True)
    tf.init(settings.write(work / "backend.hcl"), migrate_state=True)
    if not probe.object_exists(settings.bucket, settings.key):
        raise TerraformFailed(
            f"terraform init -migrate-state: the bootstrap state did not reach "
            f"s3://{settings.bucket}/{settings.key}; it is still in {local_state}"
        )
    local_state.unlink(missing_ok=True)
    return report(True, steps)
