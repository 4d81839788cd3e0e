"""The outside world of `devops cluster values|bootstrap|status`: the environment's Terraform
outputs (the infra area's runner), its GitOps repository, Helm, EKS and the cluster's Kubernetes
API with an EKS token (no kubeconfig)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from devops.app.cluster_bootstrap import BootstrapPorts
from devops.app.cluster_ports import KubePort
from devops.app.cluster_status import StatusPorts
from devops.app.cluster_values import ValuesPorts
from devops.app.gitops_publish import GitOpsSession
from devops.config import Config
from devops.wiring.settings import RuntimeSettings


def _gitops(config: Config, environment: str, settings: RuntimeSettings) -> Callable[[], GitOpsSession]:
    def open_session() -> GitOpsSession:
        from devops.wiring.gitops import open_gitops

        return open_gitops(config, environment, settings)

    return open_session


def kube(config: Config, environment: str) -> KubePort:
    """The environment's cluster API: endpoint and CA from EKS, a bearer token from STS."""
    from devops.adapters.aws.eks_auth import endpoint
    from devops.adapters.kubernetes import Kube

    cluster = config.environment(environment).cluster
    return Kube(endpoint(cluster.name, cluster.region, timeout=config.cluster.request_timeout_seconds))


def values_ports(config: Config, environment: str, settings: RuntimeSettings) -> ValuesPorts:
    """`terraform output` of the environment's root (sensitive values included: they go to git
    only where the mapping says) and its GitOps repository."""
    from devops.app.infra.state import outputs
    from devops.wiring.infra import infra_ports

    def read_outputs() -> dict[str, object]:
        return dict(outputs(config, environment, infra_ports(config.infra, settings), show_sensitive=True).values)

    return ValuesPorts(read_outputs, _gitops(config, environment, settings))


def chart_cache(config: Config) -> Path:
    path = Path(config.cluster.chart_cache)
    return path if path.is_absolute() else (config.root / path).resolve()


def bootstrap_ports(config: Config, environment: str, settings: RuntimeSettings) -> BootstrapPorts:
    from devops.adapters.helm import HelmCharts

    return BootstrapPorts(_gitops(config, environment, settings), HelmCharts(chart_cache(config)),
                          lambda: kube(config, environment))


def status_ports(config: Config, environment: str) -> StatusPorts:
    from devops.adapters.aws.eks import EksAdapter

    return StatusPorts(EksAdapter(config.environment(environment).cluster.region), lambda: kube(config, environment))
