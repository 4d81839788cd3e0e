"""`devops plan`: which services must be rebuilt, by the content hash of their build inputs.

The inputs of every service are read in one pass through an `InputReader` port
(devops/adapters/build_inputs.py: git's object ids for the working tree and git refs), the base
images resolved through a `Bases` port (devops/app/base_images.py: one registry request per base
and run); the identity is `devops.domain.images.identity`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Protocol

from devops.config import Config
from devops.domain.checks import check_build_arg
from devops.domain.images.identity import BuildInputs, InputSnapshot, MissingAt, SourceSpec, build_inputs
from devops.domain.images.plan import Plan, ServicePlan
from devops.domain.images.reference import ResolvedBase
from devops.errors import BadInput

__all__ = ["Bases", "ImageLookup", "InputReader", "Plan", "ServicePlan", "effective_build_args", "make_plan",
           "parse_build_args", "service_image_ref", "service_inputs", "services_inputs", "source_spec"]


class InputReader(Protocol):
    """Reads the build inputs of services, all at once: in the working tree, or as they were at
    a git ref (devops/adapters/build_inputs.py: from git's object ids)."""

    def read(self, sources: Sequence[SourceSpec]) -> list[InputSnapshot]: ...

    def read_at(self, ref: str, sources: Sequence[SourceSpec]) -> list[InputSnapshot | MissingAt]: ...


class Bases(Protocol):
    """Resolves base image references to digests (devops/app/base_images.py::BaseResolver)."""

    def resolve(self, references: Sequence[str], where: Mapping[str, str] | None = None) -> dict[str, ResolvedBase]: ...


class ImageLookup(Protocol):
    """What the local engine has, asked once for all services (devops/adapters/docker.py)."""

    def existing(self, references: Sequence[str]) -> set[str]: ...

    def source_digests(self, repositories: Sequence[str]) -> dict[str, set[str]]: ...  # label of local images


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


def source_spec(config: Config, service: str, overrides: Mapping[str, str]) -> SourceSpec:
    settings = config.service(service)
    context = (config.root / settings.path).resolve()
    relative = os.path.relpath(config.root / settings.path, config.root).replace(os.sep, "/")
    return SourceSpec(context, relative, settings.dockerfile, effective_build_args(config, service, overrides))


def _identities(config: Config, names: Sequence[str], specs: Sequence[SourceSpec],
                snapshots: Sequence[InputSnapshot], bases: Bases) -> list[BuildInputs]:
    """The build identity of each snapshot, every base resolved in one call."""
    where: dict[str, str] = {}
    for name, spec, snapshot in zip(names, specs, snapshots, strict=True):
        for image in snapshot.base_images:
            where.setdefault(image, f"{spec.context / spec.dockerfile} ({name})")
    resolved = bases.resolve([image for snapshot in snapshots for image in snapshot.base_images], where)
    return [build_inputs(spec.context, spec.context / spec.dockerfile, snapshot, spec.build_args,
                         config.build.platforms, resolved)
            for spec, snapshot in zip(specs, snapshots, strict=True)]


def services_inputs(config: Config, services: Sequence[str], overrides: Mapping[str, str], reader: InputReader,
                    bases: Bases) -> dict[str, BuildInputs]:
    """The build identity of each service's working tree, read in one pass."""
    specs = [source_spec(config, name, overrides) for name in services]
    return dict(zip(services, _identities(config, services, specs, reader.read(specs), bases), strict=True))


def service_inputs(config: Config, service: str, overrides: Mapping[str, str], reader: InputReader,
                   bases: Bases) -> BuildInputs:
    """The build identity of a service's working tree."""
    return services_inputs(config, [service], overrides, reader, bases)[service]


def service_image_ref(config: Config, service: str, overrides: Mapping[str, str], reader: InputReader,
                      bases: Bases) -> str:
    """The local image reference of a service's current build inputs."""
    return f"{config.repository(service)}:{service_inputs(config, service, overrides, reader, bases).tag}"


def make_plan(
    config: Config,
    services: Sequence[str] = (),
    *,
    reader: InputReader,
    bases: Bases,
    base: str | None = None,
    overrides: Mapping[str, str] | None = None,
    images: ImageLookup | None = None,
) -> Plan:
    """Plan the given services (all when empty).

    With `base`, a service changed when its input hash differs from the one at that git ref
    (both sides with the bases as they resolve now: the sources are compared). Without it, a
    service changed when the local engine has no image tagged with its input hash (`images`,
    asked once for all); "base image changed" when it has one built from the same sources, so
    only a base moved. Without either, every service counts as changed.
    """
    names = list(services) or list(config.services)
    for name in names:
        config.service(name)  # unknown names fail before any work
    overrides = dict(overrides or {})
    specs = [source_spec(config, name, overrides) for name in names]
    current = _identities(config, names, specs, reader.read(specs), bases)
    reasons: list[tuple[bool, str]]
    if base is not None:
        old = reader.read_at(base, specs)
        reasons = _changed_since(config, names, specs, current, old, base, bases)
    elif images is not None:
        refs = [f"{config.repository(name)}:{inputs.tag}" for name, inputs in zip(names, current, strict=True)]
        present = images.existing(refs)
        missing = [name for name, ref, inputs in zip(names, refs, current, strict=True)
                   if ref not in present and inputs.bases]
        sources = images.source_digests([config.repository(name) for name in missing]) if missing else {}
        reasons = []
        for name, ref, inputs in zip(names, refs, current, strict=True):
            if ref in present:
                reasons.append((False, "image with these inputs exists"))
            elif inputs.source_digest in sources.get(config.repository(name), set()):
                reasons.append((True, "base image changed"))
            else:
                reasons.append((True, "no image with these inputs"))
    else:
        reasons = [(True, "not checked")] * len(names)
    plans = [ServicePlan(name, config.service(name).path, config.repository(name), inputs, changed, reason)
             for name, inputs, (changed, reason) in zip(names, current, reasons, strict=True)]
    return Plan(plans, base)


def _changed_since(config: Config, names: Sequence[str], specs: Sequence[SourceSpec], current: Sequence[BuildInputs],
                   old: Sequence[InputSnapshot | MissingAt], base: str, bases: Bases) -> list[tuple[bool, str]]:
    present = [(i, snapshot) for i, snapshot in enumerate(old) if isinstance(snapshot, InputSnapshot)]
    old_inputs = dict(zip([i for i, _ in present],
                          _identities(config, [names[i] for i, _ in present], [specs[i] for i, _ in present],
                                      [snapshot for _, snapshot in present], bases), strict=True))
    reasons = []
    for i, snapshot in enumerate(old):
        if snapshot is MissingAt.FOLDER:
            reasons.append((True, f"new since {base}"))
        elif snapshot is MissingAt.DOCKERFILE:
            reasons.append((True, f"no Dockerfile at {base}"))
        elif old_inputs[i].digest == current[i].digest:
            reasons.append((False, f"inputs unchanged since {base}"))
        else:
            reasons.append((True, f"inputs changed since {base}"))
    return reasons
