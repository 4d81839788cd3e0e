"""Configuration: `pipelines/devops.yaml` loaded into frozen, typed objects."""

from __future__ import annotations

from devops.config.loader import find_config, load_config, project_root
from devops.config.model import Config, EnvironmentConfig, RegistryConfig, ServiceConfig

__all__ = [
    "Config",
    "EnvironmentConfig",
    "RegistryConfig",
    "ServiceConfig",
    "find_config",
    "load_config",
    "project_root",
]
