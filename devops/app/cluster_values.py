"""`devops cluster values --env E`: the values that come from Terraform, written into the GitOps
values by the mapping gitops/platform/terraform-outputs.yaml, never copied by hand.

Reads the mapping and the environment's app-of-apps values from the GitOps repository (what Argo
CD renders), `terraform output` of the environment's root through the infra area's Terraform port
(devops/app/infra/state.py), and publishes the scalars through the GitOps engine: one commit or
one pull request, compare-and-swap, byte-preserving like `devops gitops set-image`
(devops/app/gitops_publish.py). An output that is missing or null is exit 2 naming it; nothing is
written then. A second run with the same outputs changes nothing (no commit).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devops.app.gitops_publish import GitOpsSession
from devops.config import Config
from devops.domain.cluster import outputs as mapping_rules
from devops.domain.cluster.results import ValuesResult
from devops.domain.gitops.change import ChangeSet
from devops.domain.gitops.values import read_scalars
from devops.errors import BadInput

MAPPING = "platform/terraform-outputs.yaml"


@dataclass(frozen=True)
class ValuesPorts:
    """`outputs()`: the environment's `terraform output` (name -> value, sensitive ones included);
    `gitops()`: a session on its GitOps repository (devops/wiring/cluster.py builds both)."""

    outputs: Callable[[], Mapping[str, Any]]
    gitops: Callable[[], GitOpsSession]


def read_mapping(config: Config, session: GitOpsSession) -> mapping_rules.OutputMapping:
    """gitops/platform/terraform-outputs.yaml as the GitOps repository has it."""
    path = config.cluster.path(MAPPING)
    text = session.repo.read_text(path)
    if text is None:
        raise BadInput(f"{session.remote}: {path} does not exist",
                       hint="the mapping of terraform outputs to values files (docs/platform.md); check "
                            "cluster.gitops_root in pipelines/devops.yaml")
    return mapping_rules.parse_mapping(text, f"{session.remote}: {path}")


def check_autoscaler(config: Config, environment: str, session: GitOpsSession) -> str:
    """The environment's autoscaler (pipelines/devops.yaml), which gitops/apps/values-<env>.yaml
    must name too: the app-of-apps renders that one (BadInput when they differ)."""
    wanted = config.environment(environment).cluster.autoscaler
    path = config.cluster.path(f"apps/values-{environment}.yaml")
    text = session.repo.read_text(path)
    if text is None:
        raise BadInput(f"{session.remote}: {path} does not exist", hint="the app-of-apps values of the environment")
    found = read_scalars(text, path, (("autoscaler",),))[("autoscaler",)] or "none"
    if found != wanted:
        raise BadInput(
            f"{path}: autoscaler is {found!r} but {config.source}: environments.{environment}.cluster.autoscaler "
            f"is {wanted!r}", hint="make them equal (docs/platform.md, \"Autoscaler\"); nothing was written")
    return wanted


def cluster_values(config: Config, environment: str, ports: ValuesPorts, *, dry_run: bool = False,
                   mode: str | None = None) -> ValuesResult:
    """Fill the Terraform-fed placeholders of `environment` from `terraform output`."""
    env = config.environment(environment)
    root = config.infra.environments[environment].root if environment in config.infra.environments else "infra"
    with ports.gitops() as session:
        mapping = read_mapping(config, session)
        autoscaler = check_autoscaler(config, environment, session)
        outputs = ports.outputs()
        applied = outputs.get("autoscaler")
        if applied is not None and applied != autoscaler:
            raise BadInput(
                f"terraform output autoscaler of {root} is {applied!r} but environments.{environment}.cluster."
                f"autoscaler is {autoscaler!r}",
                hint=f"run `devops infra apply --env {environment}` so the cluster matches the configuration")
        edits = mapping_rules.edits(mapping, environment, autoscaler, outputs, root=root)
        change = ChangeSet(environment, (), values=edits, action="cluster-values")
        published = session.publish(change, dry_run=dry_run, mode=mode)
    return ValuesResult(environment, env.cluster.name, autoscaler, edits, published)
