"""The outside world of `devops cost`: EKS adapters (one per region, one call counter for the
run) and the Pushgateway of `cost.metrics`, wired as the ports of devops/app/cost_run.py."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from devops.app.cluster_ports import KubePort
from devops.app.cost_cluster import AsgPort, ClusterPorts
from devops.app.cost_reconcile import Checkpoint, EksPort, no_checkpoint
from devops.app.cost_run import CostPorts
from devops.config import Config
from devops.config.cost import CostMetricsConfig
from devops.domain.cost.metrics import HELP, MetricSample
from devops.domain.cost.target import Target


@dataclass(frozen=True)
class Pushgateway:
    """`cost.metrics` as the metrics port: one push replaces the job's group."""

    settings: CostMetricsConfig

    @property
    def where(self) -> str:
        return f"{self.settings.pushgateway_url} (job {self.settings.job})"

    def push(self, samples: Sequence[MetricSample]) -> None:
        from devops.adapters.pushgateway import push

        settings = self.settings
        assert settings.pushgateway_url is not None
        push(settings.pushgateway_url, settings.job, samples, HELP, timeout=settings.timeout_seconds,
             username_env=settings.username_env, password_env=settings.password_env)


def checkpoint() -> Checkpoint:
    """The checkpoint between the two steps of a change: nothing to do in a real run. The
    fault tests run the CLI through tests/support/cost_checkpoint.py, which wires one that
    pauses at a named step so the test can kill the process there."""
    return no_checkpoint


def cost_ports(config: Config) -> CostPorts:
    """EKS through boto3 (AWS_ENDPOINT_URL and credentials as boto3 reads them), calls counted."""
    from devops.adapters.aws.eks import CallCounter, EksAdapter

    counter = CallCounter()

    def eks_for(region: str) -> EksPort:
        return EksAdapter(region, counter)

    metrics = config.cost.metrics
    return CostPorts(
        eks_for=eks_for,
        counts=counter,
        metrics=Pushgateway(metrics) if metrics.pushgateway_url is not None else None,
        checkpoint=checkpoint(),
        cluster=cluster_ports(config, counter),
    )


def cluster_ports(config: Config, counter: object) -> ClusterPorts:
    """The cluster side of cooperating targets: the Kubernetes API with an EKS token (boto3), and
    the Auto Scaling groups, counted with the EKS calls."""
    from devops.adapters.aws.autoscaling import AsgAdapter
    from devops.adapters.aws.eks import CallCounter

    timeout = config.cluster.request_timeout_seconds
    counts = counter if isinstance(counter, CallCounter) else CallCounter()

    def kube_for(target: Target) -> KubePort:
        from devops.adapters.aws.eks_auth import endpoint
        from devops.adapters.kubernetes import Kube

        return Kube(endpoint(target.cluster, target.region, timeout=timeout))

    made: dict[str, AsgPort] = {}
    lock = threading.Lock()

    def asg_for(region: str) -> AsgPort:
        with lock:  # one client per region, shared by the run's threads
            if region not in made:
                made[region] = AsgAdapter(region, counts)
            return made[region]

    return ClusterPorts(kube_for, asg_for, config.cluster.argocd_namespace)
