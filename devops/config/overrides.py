"""The environment variables that override keys of pipelines/devops.yaml, applied to the file's
data before it is validated (so an override is checked like the key it replaces).

One checked-in file serves the laptop (local registry) and GitHub Actions (Docker Hub) without
editing it. The values come from the caller (the CLI's `RuntimeSettings`): nothing here reads
the process environment. docs/configuration.md lists them.
"""

from __future__ import annotations

from typing import Any

from devops.config.base import Variables, variable

CONFIG_ENV = "DEVOPS_CONFIG"
REGISTRY_HOST_OVERRIDE = "DEVOPS_REGISTRY_HOST"
REGISTRY_NAMESPACE_OVERRIDE = "DEVOPS_REGISTRY_NAMESPACE"
GITOPS_REPO_OVERRIDE = "DEVOPS_GITOPS_REPO"
OVERRIDES = (REGISTRY_HOST_OVERRIDE, REGISTRY_NAMESPACE_OVERRIDE, GITOPS_REPO_OVERRIDE)


def apply_overrides(data: dict[str, Any], environ: Variables | None) -> dict[str, Any]:
    """`data` with the overrides `environ` sets (an empty value overrides nothing); `data` itself
    is left unchanged."""
    return _override_gitops_repo(_override_registry(data, environ), environ)


def overridden(environ: Variables | None, names: tuple[str, ...] = OVERRIDES) -> list[str]:
    """Which of `names` are set in `environ`, for `devops config show`."""
    return [name for name in names if variable(environ, name)]


def _override_registry(data: dict[str, Any], environ: Variables | None) -> dict[str, Any]:
    if not isinstance(data.get("registry", {}), dict):
        return data   # not a mapping: validation names the key
    registry = dict(data.get("registry") or {})
    for key, name in (("host", REGISTRY_HOST_OVERRIDE), ("namespace", REGISTRY_NAMESPACE_OVERRIDE)):
        value = variable(environ, name)
        if value:
            registry[key] = value
    return {**data, "registry": registry} if registry else data


def _override_gitops_repo(data: dict[str, Any], environ: Variables | None) -> dict[str, Any]:
    """$DEVOPS_GITOPS_REPO points every environment at one GitOps repository (a URL or a path)."""
    repo = variable(environ, GITOPS_REPO_OVERRIDE)
    environments = data.get("environments")
    if not repo or not isinstance(environments, dict):
        return data
    changed = {}
    for name, environment in environments.items():
        if isinstance(environment, dict) and isinstance(environment.get("gitops"), dict):
            environment = {**environment, "gitops": {**environment["gitops"], "repo": repo}}
        changed[name] = environment
    return {**data, "environments": changed}
