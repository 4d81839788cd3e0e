"""The resolved configuration as plain data, with secrets redacted, for `devops config show`."""

from __future__ import annotations

import os
from typing import Any

from devops.config.model import Config
from devops.domain.urls import redact


def resolved(config: Config, environment: str | None = None) -> dict[str, Any]:
    """Every key with its default filled in. Secrets appear only as "set"/"unset" notes."""
    data = config.model_dump(mode="json")
    creds = config.registry.credentials
    data["registry"]["credentials"] = {
        "username_env": creds.username_env,
        "username": creds.username() or "(unset)",
        "token_env": creds.token_env,
        "token": "***" if creds.token() else "(unset)",
    }
    for name in ("DEVOPS_REGISTRY_HOST", "DEVOPS_REGISTRY_NAMESPACE"):
        if os.environ.get(name):
            data["registry"].setdefault("overridden_by", []).append(name)
    for env_data in data["environments"].values():
        # A GitOps URL may carry `user:token@`: shown as `***@`, like every other output.
        env_data["gitops"]["repo"] = redact(env_data["gitops"]["repo"])
    if environment is not None:
        config.environment(environment)  # raises UnknownName for a bad name
        data["environments"] = {environment: data["environments"][environment]}
    return {"source": str(config.source), "root": str(config.root), **data}
