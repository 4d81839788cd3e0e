"""The wiring of `devops scan` (and of the scans of releases): Trivy from gates.trivy and the
command line, the scan cache, ignore files. Use case: devops/app/scan.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from devops.config import Config
from devops.wiring.run import Run

if TYPE_CHECKING:
    from devops.adapters.scan_cache import ScanCache
    from devops.adapters.trivy import Trivy, TrivyOptions
    from devops.app.scan import PathKind
    from devops.app.scan_run import ScanPorts
    from devops.domain.gates.ignore import IgnoreRules
    from devops.domain.gates.policy import Policy, PolicyOverride


def trivy_options(config: Config) -> TrivyOptions:
    """gates.trivy as the adapter's plain settings; a relative cache_dir is under the project root."""
    from devops.adapters.trivy import TrivyOptions, scripts_dir

    settings = config.gates.trivy
    return TrivyOptions(
        binary=settings.binary,
        timeout_seconds=settings.timeout_seconds,
        cache_dir=(config.root / settings.cache_dir).resolve() if settings.cache_dir else None,
        db_repositories=tuple(settings.db_repositories),
        skip_db_update=settings.skip_db_update,
        offline=settings.offline,
        fallback_dir=scripts_dir(),
    )


def trivy(config: Config, *, timeout: float | None = None, cache_dir: str | None = None,
          db_repositories: Sequence[str] = (), skip_db_update: bool = False, offline: bool = False,
          cache_backend: str | None = None) -> Trivy:
    """Trivy as configured, with the command line's overrides (`devops scan --trivy-cache-dir ...`)."""
    from devops.adapters.trivy import Trivy

    options = trivy_options(config)
    if cache_dir:
        options = replace(options, cache_dir=Path(cache_dir).resolve())
    if db_repositories:
        options = replace(options, db_repositories=tuple(db_repositories))
    if skip_db_update:
        options = replace(options, skip_db_update=True)
    if offline:
        options = replace(options, offline=True)
    if cache_backend:
        options = replace(options, cache_backend=cache_backend)
    return Trivy(options, timeout=timeout)


def scan_cache(config: Config, *, disabled: bool = False, folder: str | None = None) -> ScanCache:
    from devops.adapters.scan_cache import ScanCache

    if disabled:
        return ScanCache(None)
    return ScanCache(Path(folder) if folder else config.root / config.gates.cache_dir)


def policy(config: Config, service: str | None = None, override: PolicyOverride | None = None) -> Policy:
    """The effective scan policy of a service, its ignore file read from disk."""
    from devops.app.scan_targets import policy_for
    from devops.domain.gates.policy import PolicyOverride

    return policy_for(config, load_ignore, service, override or PolicyOverride())


def load_ignore(path: Path, shown: str) -> IgnoreRules:
    """The ignore-file port of the policy (devops/adapters/ignore_files.py)."""
    from devops.adapters.ignore_files import load_ignore_file

    return load_ignore_file(path, shown)


def path_kind(path: Path) -> PathKind:
    """What a configuration target is on disk (devops/adapters/trivy.py)."""
    from devops.adapters.trivy import path_kind as kind

    return kind(path)


def image_ids() -> Callable[[Sequence[str]], Mapping[str, str]]:
    """The local Docker engine's image IDs of references, asked once (missing ones left out)."""
    from devops.adapters.docker import DockerEngine

    return DockerEngine().image_ids


def scan_ports(app: Run, *, timeout: float | None = None, no_cache: bool = False, cache_dir: str | None = None,
               trivy_cache_dir: str | None = None, db_repositories: Sequence[str] = (), skip_db_update: bool = False,
               offline: bool = False) -> ScanPorts:
    """The ports of `devops scan`, with the command line's overrides of gates.trivy and the cache."""
    from devops.app.scan_run import ScanPorts
    from devops.wiring.images import base_resolver, input_reader

    config = app.config
    return ScanPorts(
        trivy=trivy(config, timeout=timeout, cache_dir=trivy_cache_dir, db_repositories=db_repositories,
                    skip_db_update=skip_db_update, offline=offline),
        load_ignore=load_ignore, reader=input_reader(app),
        cache=lambda: scan_cache(config, disabled=no_cache, folder=cache_dir), image_ids=image_ids, path_kind=path_kind,
        bases=lambda: base_resolver(config, app.settings))
