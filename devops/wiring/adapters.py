"""Builds the adapters of builds and pushes from the configuration: the one place that knows how.

`docker_engine` and `registry_client` are used by every area that pushes or reads images
(releases, promotion, supply chain); build and push wiring proper is devops/wiring/images.py.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from devops.config import Config
from devops.wiring.settings import RuntimeSettings

if TYPE_CHECKING:
    from devops.adapters.docker import DockerEngine
    from devops.adapters.registry import RegistryClient
    from devops.app.push import RetrySettings
    from devops.domain.images.results import Revision


def docker_engine() -> DockerEngine:
    from devops.adapters.docker import DockerEngine

    engine = DockerEngine()
    engine.check()
    return engine


def registry_client(config: Config, settings: RuntimeSettings | None = None) -> RegistryClient:
    """The registry client with the credentials the config names, read from `settings` (the
    environment of this run when not given)."""
    from devops.adapters.registry import RegistryClient

    settings = settings if settings is not None else RuntimeSettings.from_environ()
    registry = config.registry
    creds = registry.credentials
    return RegistryClient(registry.host, insecure=registry.insecure, username=creds.username(settings),
                          token=creds.token(settings),
                          token_realms=registry.token_realms,
                          credentials_hint=f"check ${creds.username_env} and ${creds.token_env}: an access token "
                                           "with the permissions this step needs")


def registry_path(config: Config, service: str) -> str:
    """Repository path inside the registry (no host): `namespace/image`."""
    return f"{config.registry.namespace}/{config.image_name(service)}"


def revision(config: Config) -> Revision:
    from devops.adapters.git import revision as git_revision

    return git_revision(config.root)


def source_url(config: Config, settings: RuntimeSettings) -> str:
    """Where the source lives, for the OCI `source` label: the GitHub repository in Actions."""
    server, repo = settings.get("GITHUB_SERVER_URL"), settings.get("GITHUB_REPOSITORY")
    if server and repo:
        return f"{server}/{repo}"
    from devops.adapters.git import git, is_repository

    if is_repository(config.root):
        url = git(["config", "--get", "remote.origin.url"], config.root, check=False).strip()
        if url:
            return url
    return config.project


def retry_settings(config: Config) -> RetrySettings:
    from devops.app.push import RetrySettings

    push = config.registry.push
    return RetrySettings(push.attempts, push.backoff_seconds, push.max_backoff_seconds,
                         push.deadline_seconds, push.timeout_seconds)


def parallelism(config: Config) -> int:
    return config.build.parallelism or os.cpu_count() or 1
