"""One environment's Terraform root, resolved from the configuration, and the files every run
writes into its work folder (the backend file, the variables) before `terraform init`."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from devops.app.infra.ports import InfraPorts, Terraform
from devops.config import Config
from devops.config.infra import InfraEnvironmentConfig
from devops.domain.infra import backend as backend_mod
from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.guards import Protection, protection
from devops.domain.infra.terraform import StateLocked
from devops.errors import ConfigError, UnknownName


@dataclass(frozen=True)
class Target:
    """One environment's Terraform root, resolved from the configuration."""

    environment: str
    root: Path
    backend: BackendSettings
    variables: dict[str, Any]
    protection: Protection
    work: Path

    @property
    def protected(self) -> bool:
        return self.protection.protected

    @property
    def plan_path(self) -> Path:
        return self.work / "plan.tfplan"

    @property
    def destroy_plan_path(self) -> Path:
        return self.work / "destroy.tfplan"


def target(config: Config, environment: str, ports: InfraPorts) -> Target:
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
    settings = backend_mod.settings(infra.state.templates(), project=config.project, environment=environment,
                                    account_id=ports.probe.account_id, endpoint=ports.endpoint)
    cluster = config.environments[environment].cluster
    # Given to every root, from the one place they are configured; they win over
    # infra.environments.<env>.variables so the two can never disagree.
    variables = {
        **env_cfg.variables,
        "environment": environment,
        "region": cluster.region,
        "cluster_name": cluster.name,
        "autoscaler": cluster.autoscaler,
        "state_bucket": settings.bucket,
        "lock_table": settings.lock_table,
        "state_kms_alias": settings.kms_alias,
    }
    return Target(
        environment,
        root,
        settings,
        variables,
        protection(environment, declared=env_cfg.protected, cluster=cluster.name),
        (config.root / infra.work_dir / environment).resolve(),
    )


def write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def write_backend(settings: BackendSettings, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(settings.hcl(), encoding="utf-8")
    return path


def prepare(tgt: Target, ports: InfraPorts) -> tuple[Terraform, Path]:
    """Write the backend and variable files, init the root with them; Terraform and the var file."""
    tgt.work.mkdir(parents=True, exist_ok=True)
    backend_file = write_backend(tgt.backend, tgt.work / "backend.hcl")
    var_file = write_json(tgt.work / "variables.tfvars.json", tgt.variables)
    tf = ports.terraform(tgt.root)
    tf.init(backend_file)
    return tf, var_file


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def record_path(plan: Path) -> Path:
    """The sidecar record of a saved plan (`plan.tfplan.meta.json`)."""
    return plan.with_name(plan.name + ".meta.json")


F = TypeVar("F", bound=Callable[..., Any])


def env_in_hints(func: F) -> F:
    """Put the environment into the unlock command of a held-lock error."""

    @functools.wraps(func)
    def wrapper(config: Config, environment: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return func(config, environment, *args, **kwargs)
        except StateLocked as exc:
            hint = (exc.hint or "").replace("--env <env>", f"--env {environment}")
            raise StateLocked(exc.message, lock=exc.lock, hint=hint) from None

    return wrapper  # type: ignore[return-value]
