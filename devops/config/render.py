"""The resolved configuration as plain data, with secrets redacted, for `devops config show`."""

from __future__ import annotations

from typing import Any

from devops.config.base import Variables
from devops.config.model import Config
from devops.config.overrides import REGISTRY_HOST_OVERRIDE, REGISTRY_NAMESPACE_OVERRIDE, overridden
from devops.domain.urls import redact


def resolved(config: Config, environment: str | None = None, environ: Variables | None = None) -> dict[str, Any]:
    """Every key with its default filled in. Secrets appear only as "set"/"unset" notes, read from
    `environ` (the CLI's settings; None: nothing is set)."""
    data = config.model_dump(mode="json")
    creds = config.registry.credentials
    environ = environ if environ is not None else {}
    data["registry"]["credentials"] = {
        "username_env": creds.username_env,
        "username": creds.username(environ) or "(unset)",
        "token_env": creds.token_env,
        "token": "***" if creds.token(environ) else "(unset)",
    }
    names = overridden(environ, (REGISTRY_HOST_OVERRIDE, REGISTRY_NAMESPACE_OVERRIDE))
    if names:
        data["registry"]["overridden_by"] = names
    for env_data in data["environments"].values():
        # A GitOps URL may carry `user:token@`: shown as `***@`, like every other output.
        env_data["gitops"]["repo"] = redact(env_data["gitops"]["repo"])
    if environment is not None:
        config.environment(environment)  # raises UnknownName for a bad name
        data["environments"] = {environment: data["environments"][environment]}
    return {"source": str(config.source), "root": str(config.root), **data}
