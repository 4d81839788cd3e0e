"""Which images and folders `devops scan` looks at, and the policy of each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from devops.app.scan import ConfigTarget, ImageTarget
from devops.config import Config
from devops.domain.gates.policy import PolicyOverride, resolve_policy


def service_image_ref(config: Config, service: str, overrides: Mapping[str, str] | None = None) -> str:
    """The local image of a service's current build inputs (what `devops build` tagged)."""
    from devops.app.plan import service_image_ref as planned

    return planned(config, service, overrides or {})


def _relative(config: Config, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.root.resolve()))
    except ValueError:
        return str(path)


def image_targets(
    config: Config,
    services: Sequence[str],
    images: Sequence[str],
    override: PolicyOverride,
    *,
    build_args: Mapping[str, str] | None = None,
) -> list[ImageTarget]:
    """Services (all of them when neither services nor images are given) and `--image` refs."""
    names = list(services) if (services or images) else list(config.services)
    for name in names:
        config.service(name)  # unknown names fail (exit 2) before any scan runs
    known = tuple(config.services)
    targets = []
    for name in names:
        policy = resolve_policy(
            config.gates, config.root, service=name, known_services=known, override=override
        )
        targets.append(
            ImageTarget(
                ref=service_image_ref(config, name, build_args),
                policy=policy,
                service=name,
                location=_relative(config, config.dockerfile(name)),
            )
        )
    for ref in images:
        policy = resolve_policy(config.gates, config.root, known_services=known, override=override)
        targets.append(ImageTarget(ref=ref, policy=policy, location=ref))
    return targets


def config_targets(
    config: Config, override: PolicyOverride, services: Sequence[str] = ()
) -> list[ConfigTarget]:
    """Every service's Dockerfile, then `gates.config_paths` (charts/, gitops/, infra/)."""
    known = tuple(config.services)
    names = list(services) or list(config.services)
    targets = []
    for name in names:
        config.service(name)
        # `trivy config` only finds misconfigurations: that is the scanner the policy judges.
        policy = replace(
            resolve_policy(config.gates, config.root, service=name, known_services=known, override=override),
            scanners=("misconfig",),
        )
        dockerfile = config.dockerfile(name)
        targets.append(
            ConfigTarget(name=_relative(config, dockerfile), path=dockerfile, policy=policy, service=name)
        )
    if not services:
        policy = replace(
            resolve_policy(config.gates, config.root, known_services=known, override=override),
            scanners=("misconfig",),
        )
        for folder in config.gates.config_paths:
            name = folder.rstrip("/")
            targets.append(ConfigTarget(name=name, path=config.root / folder, policy=policy,
                                        helm_set=dict(config.gates.helm_set.get(name, {}))))
    return targets
