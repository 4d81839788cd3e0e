"""Which images and folders `devops scan` looks at, and the policy of each."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from devops.app.plan import Bases, InputReader, services_inputs
from devops.config import Config
from devops.domain.gates.policy import IgnoreLoader, Policy, PolicyOverride, resolve_policy
from devops.domain.gates.scan import ConfigTarget, ImageTarget


def _relative(config: Config, path: Path) -> str:
    try:
        return str(path.resolve().relative_to(config.root.resolve()))
    except ValueError:
        return str(path)


def policy_for(config: Config, load_ignore: IgnoreLoader, service: str | None = None,
               override: PolicyOverride | None = None) -> Policy:
    """The effective scan policy of a service (or of an image of no service)."""
    return resolve_policy(config.gates.policy_layers(), config.root, load_ignore=load_ignore, service=service,
                          known_services=tuple(config.services), override=override or PolicyOverride())


def image_targets(
    config: Config,
    services: Sequence[str],
    images: Sequence[str],
    override: PolicyOverride,
    *,
    reader: InputReader,
    bases: Callable[[], Bases],
    load_ignore: IgnoreLoader,
    build_args: Mapping[str, str] | None = None,
) -> list[ImageTarget]:
    """Services (all of them when neither services nor images are given) and `--image` refs."""
    names = list(services) if (services or images) else list(config.services)
    for name in names:
        config.service(name)  # unknown names fail (exit 2) before any scan runs
    policies = {name: policy_for(config, load_ignore, name, override) for name in names}
    inputs = services_inputs(config, names, build_args or {}, reader, bases()) if names else {}
    targets = []
    for name in names:
        policy = policies[name]
        targets.append(
            ImageTarget(
                ref=f"{config.repository(name)}:{inputs[name].tag}",
                policy=policy,
                service=name,
                location=_relative(config, config.dockerfile(name)),
            )
        )
    for ref in images:
        targets.append(ImageTarget(ref=ref, policy=policy_for(config, load_ignore, None, override), location=ref))
    return targets


def digest_target(config: Config, service: str, reference: str, load_ignore: IgnoreLoader) -> ImageTarget:
    """A service's image pinned by digest (`repository@sha256:...`, as a release record names it)
    under the service's current policy, shown on its Dockerfile (`devops rescan`, promotion)."""
    return ImageTarget(ref=reference, policy=policy_for(config, load_ignore, service), service=service,
                       location=_relative(config, config.dockerfile(service)))


def config_targets(
    config: Config, override: PolicyOverride, services: Sequence[str] = (), *, load_ignore: IgnoreLoader,
) -> list[ConfigTarget]:
    """Every service's Dockerfile, then `gates.config_paths` (charts/, gitops/, infra/)."""
    names = list(services) or list(config.services)
    targets = []
    for name in names:
        config.service(name)
        # `trivy config` only finds misconfigurations: that is the scanner the policy judges.
        policy = replace(policy_for(config, load_ignore, name, override), scanners=("misconfig",))
        dockerfile = config.dockerfile(name)
        targets.append(
            ConfigTarget(name=_relative(config, dockerfile), path=dockerfile, policy=policy, service=name)
        )
    if not services:
        policy = replace(policy_for(config, load_ignore, None, override), scanners=("misconfig",))
        for folder in config.gates.config_paths:
            name = folder.rstrip("/")
            targets.append(ConfigTarget(name=name, path=config.root / folder, policy=policy,
                                        helm_set=dict(config.gates.helm_set.get(name, {}))))
    return targets
