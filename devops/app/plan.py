"""`devops plan`: which services must be rebuilt, by the content hash of their build inputs.

The inputs are read through an `InputReader` port (devops/adapters/build_inputs.py reads the
working tree and git refs); the identity is `devops.domain.images.identity`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from devops.config import Config
from devops.domain.checks import check_build_arg
from devops.domain.images.identity import BuildInputs, InputSnapshot, MissingAt, build_inputs
from devops.domain.images.plan import Plan, ServicePlan
from devops.errors import BadInput

__all__ = ["InputReader", "Plan", "ServicePlan", "effective_build_args", "make_plan", "parse_build_args",
           "service_image_ref", "service_inputs"]


class InputReader(Protocol):
    """Reads a service's build inputs: in the working tree, or as they were at a git ref."""

    def read(self, context: Path, dockerfile: Path, build_args: Mapping[str, str]) -> InputSnapshot: ...

    def read_at(self, ref: str, relative: str, dockerfile: str,
                build_args: Mapping[str, str]) -> InputSnapshot | MissingAt: ...


def effective_build_args(config: Config, service: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """Build arguments in precedence order: build.build_args < service build_args < overrides."""
    return {**config.build.build_args, **config.service(service).build_args, **overrides}


def parse_build_args(pairs: Sequence[str], *, environ: Mapping[str, str]) -> dict[str, str]:
    """`KEY=VALUE` pairs from `--build-arg` and `$DEVOPS_BUILD_ARGS` (whitespace separated) of
    `environ` (the wiring's snapshot of the environment)."""
    items = [*(("$DEVOPS_BUILD_ARGS", item) for item in (environ.get("DEVOPS_BUILD_ARGS") or "").split()),
             *(("--build-arg", item) for item in pairs)]
    result: dict[str, str] = {}
    for source, item in items:
        try:
            key, value = check_build_arg(item)
        except ValueError as exc:
            raise BadInput(f"{source}: build argument {item!r}: {exc}") from None
        result[key] = value
    return result


def service_inputs(config: Config, service: str, overrides: Mapping[str, str], reader: InputReader) -> BuildInputs:
    """The build identity of a service's working tree."""
    settings = config.service(service)
    context = (config.root / settings.path).resolve()
    dockerfile = context / settings.dockerfile
    args = effective_build_args(config, service, overrides)
    return build_inputs(context, dockerfile, reader.read(context, dockerfile, args), args, config.build.platforms)


def service_image_ref(config: Config, service: str, overrides: Mapping[str, str], reader: InputReader) -> str:
    """The local image reference of a service's current build inputs."""
    return f"{config.repository(service)}:{service_inputs(config, service, overrides, reader).tag}"


def make_plan(
    config: Config,
    services: Sequence[str] = (),
    *,
    reader: InputReader,
    base: str | None = None,
    overrides: Mapping[str, str] | None = None,
    image_exists: Callable[[str], bool] | None = None,
) -> Plan:
    """Plan the given services (all when empty).

    With `base`, a service changed when its input hash differs from the one at that git ref.
    Without it, a service changed when no image tagged with its input hash exists
    (`image_exists(ref)`); without that either, every service counts as changed.
    """
    names = list(services) or list(config.services)
    for name in names:
        config.service(name)  # unknown names fail before any work
    overrides = dict(overrides or {})
    plans = []
    for name in names:
        settings = config.service(name)
        current = service_inputs(config, name, overrides, reader)
        repository = config.repository(name)
        if base is not None:
            changed, reason = _changed_since(config, name, base, current, overrides, reader)
        elif image_exists is not None:
            exists = image_exists(f"{repository}:{current.tag}")
            changed = not exists
            reason = "image with these inputs exists" if exists else "no image with these inputs"
        else:
            changed, reason = True, "not checked"
        plans.append(ServicePlan(name, settings.path, repository, current, changed, reason))
    return Plan(plans, base)


def _changed_since(config: Config, name: str, base: str, current: BuildInputs, overrides: Mapping[str, str],
                   reader: InputReader) -> tuple[bool, str]:
    settings = config.service(name)
    relative = os.path.relpath(config.root / settings.path, config.root)
    args = effective_build_args(config, name, overrides)
    old = reader.read_at(base, relative, settings.dockerfile, args)
    if old is MissingAt.FOLDER:
        return True, f"new since {base}"
    if old is MissingAt.DOCKERFILE:
        return True, f"no Dockerfile at {base}"
    assert isinstance(old, InputSnapshot)
    old_inputs = build_inputs(config.root / relative, config.root / relative / settings.dockerfile, old, args,
                              config.build.platforms)
    if old_inputs.digest == current.digest:
        return False, f"inputs unchanged since {base}"
    return True, f"inputs changed since {base}"
