"""The cluster side of a cost target (`cost.targets.<name>.workloads`): what is scaled to zero with
the node groups so that no autoscaler finds Pending pods (docs/cost.md, "Autoscalers and Argo CD").
The target's autoscaler is its environment's (`environments.<env>.cluster.autoscaler`)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from devops.config.base import Section
from devops.domain.cost.target import Workloads

# A Kubernetes namespace (a DNS label).
NAMESPACE = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"


class WorkloadsConfig(Section):
    """The Deployments and StatefulSets that run on the scheduled capacity: scaled to zero with it
    (docs/cost.md, "Autoscalers and Argo CD"), so nothing is left Pending for an autoscaler."""

    namespaces: tuple[Annotated[str, Field(pattern=NAMESPACE)], ...] = ()
    # `namespace/name` shell patterns left alone (they also honour the opt-out label/annotation).
    exclude: tuple[Annotated[str, Field(pattern=r"^[a-z0-9*?\[\]-]+/[a-z0-9.*?\[\]-]+$")], ...] = ()

    def workloads(self) -> Workloads:
        return Workloads(self.namespaces, self.exclude)
