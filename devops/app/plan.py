"""`devops plan`: which services must be rebuilt, by the content hash of their build inputs."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from devops.adapters import build_inputs as build_inputs
from devops.config import Config


@dataclass(frozen=True)
class ServicePlan:
    service: str
    path: str
    repository: str
    inputs: build_inputs.BuildInputs
    changed: bool
    reason: str

    @property
    def image(self) -> str:
        """Local reference of the image these inputs produce: `repository:in-<hash>`."""
        return f"{self.repository}:{self.inputs.tag}"

    def to_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "path": self.path,
            "input_hash": self.inputs.digest,
            "tag": self.inputs.tag,
            "image": self.image,
            "changed": self.changed,
            "reason": self.reason,
            "base_images": list(self.inputs.base_images),
        }


@dataclass(frozen=True)
class Plan:
    services: list[ServicePlan] = field(default_factory=list)
    base: str | None = None

    @property
    def changed(self) -> list[ServicePlan]:
        return [s for s in self.services if s.changed]

    def matrix(self) -> dict[str, list[dict[str, str]]]:
        """A GitHub Actions matrix of the services to rebuild."""
        return {"include": [{"service": s.service, "path": s.path, "tag": s.inputs.tag} for s in self.changed]}


def effective_build_args(config: Config, service: str, overrides: Mapping[str, str]) -> dict[str, str]:
    """Build arguments in precedence order: build.build_args < service build_args < overrides."""
    return {**config.build.build_args, **config.service(service).build_args, **overrides}


def parse_build_args(pairs: Sequence[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """`KEY=VALUE` pairs from `--build-arg` and `$DEVOPS_BUILD_ARGS` (whitespace separated)."""
    from devops.domain.checks import check_build_arg
    from devops.errors import BadInput

    env = os.environ if environ is None else environ
    items = [*(("$DEVOPS_BUILD_ARGS", item) for item in env.get("DEVOPS_BUILD_ARGS", "").split()),
             *(("--build-arg", item) for item in pairs)]
    result: dict[str, str] = {}
    for source, item in items:
        try:
            key, value = check_build_arg(item)
        except ValueError as exc:
            raise BadInput(f"{source}: build argument {item!r}: {exc}") from None
        result[key] = value
    return result


def service_inputs(config: Config, service: str, overrides: Mapping[str, str],
                   root: Path | None = None) -> build_inputs.BuildInputs:
    settings = config.service(service)
    base = root or config.root
    context = (base / settings.path).resolve()
    return build_inputs.compute(context, context / settings.dockerfile,
                                effective_build_args(config, service, overrides), config.build.platforms)


def service_image_ref(config: Config, service: str, overrides: Mapping[str, str] | None = None) -> str:
    """The local image reference of a service's current build inputs."""
    inputs = service_inputs(config, service, overrides or {})
    return f"{config.repository(service)}:{inputs.tag}"


def make_plan(
    config: Config,
    services: Sequence[str] = (),
    *,
    base: str | None = None,
    overrides: Mapping[str, str] | None = None,
    image_exists: Callable[[str], bool] | None = None,
    export_tree: Callable[[str, str, Path], bool] | None = None,
) -> Plan:
    """Plan the given services (all when empty).

    With `base`, a service changed when its input hash differs from the one at that git ref
    (`export_tree(ref, subdir, dest)` writes the old files). Without it, a service changed when
    no image tagged with its input hash exists (`image_exists(ref)`).
    """
    names = list(services) or list(config.services)
    for name in names:
        config.service(name)  # unknown names fail before any work
    overrides = dict(overrides or {})
    plans = []
    for name in names:
        settings = config.service(name)
        current = service_inputs(config, name, overrides)
        repository = config.repository(name)
        if base is not None:
            assert export_tree is not None
            changed, reason = _changed_since(config, name, base, current, overrides, export_tree)
        elif image_exists is not None:
            exists = image_exists(f"{repository}:{current.tag}")
            changed = not exists
            reason = "image with these inputs exists" if exists else "no image with these inputs"
        else:
            changed, reason = True, "not checked"
        plans.append(ServicePlan(name, settings.path, repository, current, changed, reason))
    return Plan(plans, base)


def _changed_since(
    config: Config,
    name: str,
    base: str,
    current: build_inputs.BuildInputs,
    overrides: Mapping[str, str],
    export_tree: Callable[[str, str, Path], bool],
) -> tuple[bool, str]:
    settings = config.service(name)
    with tempfile.TemporaryDirectory(prefix="devops-plan-") as tmp:
        root = Path(tmp)
        relative = os.path.relpath(config.root / settings.path, config.root)
        if not export_tree(base, relative, root):
            return True, f"new since {base}"
        old_context = root / relative
        if not (old_context / settings.dockerfile).is_file():
            return True, f"no Dockerfile at {base}"
        old = build_inputs.compute(old_context, old_context / settings.dockerfile,
                                   effective_build_args(config, name, overrides), config.build.platforms)
    if old.digest == current.digest:
        return False, f"inputs unchanged since {base}"
    return True, f"inputs changed since {base}"
