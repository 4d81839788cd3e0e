"""Configuration: `pipelines/devops.yaml` loaded into frozen, typed objects.

The names below are imported on first use, so that `devops.domain.checks` (plain value checks
the CLI uses while parsing options) does not pull in pydantic and the loader.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devops.config.loader import find_config, load_config, project_root
    from devops.config.model import Config, EnvironmentConfig, RegistryConfig, ServiceConfig

_HOMES = {
    "Config": "devops.config.model",
    "EnvironmentConfig": "devops.config.model",
    "RegistryConfig": "devops.config.model",
    "ServiceConfig": "devops.config.model",
    "find_config": "devops.config.loader",
    "load_config": "devops.config.loader",
    "project_root": "devops.config.loader",
}

__all__ = [
    "Config",
    "EnvironmentConfig",
    "RegistryConfig",
    "ServiceConfig",
    "find_config",
    "load_config",
    "project_root",
]


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'devops.config' has no attribute {name!r}")
