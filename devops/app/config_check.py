"""`devops config validate|show` as use cases: load and validate the configuration, and show it
resolved with its secrets redacted. Their results are the commands' `--json` (docs/schemas/)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from devops.config.base import Variables
from devops.config.model import Config

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ConfigSummary(BaseModel):
    """`devops config validate --json`: the configuration is valid (an invalid one is exit 2)."""

    model_config = _FROZEN
    valid: bool = Field(True, description="Always true: an invalid configuration exits 2 with no result.")
    source: str = Field(description="The file that was read.")
    services: list[str] = Field(description="Service names, sorted.")
    environments: list[str] = Field(description="Environment names, sorted.")

    def line(self) -> str:
        """What a person reads."""
        return f"{self.source}: valid ({len(self.services)} services, {len(self.environments)} environments)"


def summarize(config: Config) -> ConfigSummary:
    return ConfigSummary(source=str(config.source), services=sorted(config.services),
                         environments=sorted(config.environments))


def validate(path: Path, environ: Variables | None, allowed_roots: Iterable[Path] = ()) -> ConfigSummary:
    """Load and validate `path` with the variables of `environ` (ConfigError, exit 2, when invalid)."""
    from devops.config.loader import load_config

    return summarize(load_config(path, environ=environ, allowed_roots=allowed_roots))


class ShownCredentials(BaseModel):
    """The registry credentials: the variables' names, the user name, never the token."""

    model_config = _FROZEN
    username_env: str
    username: str = Field(description='The user name, or "(unset)".')
    token_env: str
    token: str = Field(description='"***" when the token is set, else "(unset)".')


class ShownRegistry(BaseModel):
    model_config = _FROZEN
    host: str
    namespace: str
    credentials: ShownCredentials
    insecure: bool
    token_realms: list[str]
    push: dict[str, Any]
    overridden_by: list[str] = Field(
        default_factory=list, exclude_if=lambda names: not names,
        description="The variables that overrode host or namespace ($DEVOPS_REGISTRY_HOST, "
                    "$DEVOPS_REGISTRY_NAMESPACE); absent when none did.")


class ShownConfig(BaseModel):
    """`devops config show --json`: every key of docs/configuration.md with its default filled in."""

    model_config = _FROZEN
    source: str = Field(description="The file that was read.")
    root: str = Field(description="The project root its relative paths are resolved against.")
    project: str
    registry: ShownRegistry
    build: dict[str, Any]
    services: dict[str, dict[str, Any]]
    environments: dict[str, dict[str, Any]] = Field(
        description="Every environment (only the one asked for with --env); GitOps URLs with credentials "
                    "redacted as `***@`.")
    gates: dict[str, Any]
    cost: dict[str, Any]
    infra: dict[str, Any]
    observability: dict[str, Any]
    signing: dict[str, Any] = Field(
        description="How `devops attest` signs (method, key file and password variable names, never a key).")
    cluster: dict[str, Any] = Field(description="The cluster section (docs/configuration.md), defaults filled in.")


def show(config: Config, environment: str | None, environ: Variables | None) -> ShownConfig:
    """The resolved configuration (UnknownName, exit 2, for an unknown `environment`)."""
    from devops.config.render import resolved

    return ShownConfig.model_validate(resolved(config, environment, environ))
