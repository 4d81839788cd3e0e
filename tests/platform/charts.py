"""What the upstream charts do with their values, at the versions pinned in gitops/apps/values.yaml.

The charts cannot be downloaded here, so this is recorded knowledge (from each chart's values.yaml
and templates at that version): which value names a pod's service account, which values become a
pod's or container's securityContext, which values create an IngressClass. Bumping a chart means
checking these entries against its new values.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

# IRSA role (infra/modules/eks `irsa*` locals, modules/karpenter) -> (platform app, value path of the
# service account name). vpc-cni and ebs-csi are EKS add-ons (their service accounts are EKS's).
SERVICE_ACCOUNTS: dict[str, tuple[str, list[str]]] = {
    "aws-load-balancer-controller": ("aws-load-balancer-controller", ["serviceAccount", "name"]),
    "external-dns": ("external-dns", ["serviceAccount", "name"]),
    "cluster-autoscaler": ("cluster-autoscaler", ["rbac", "serviceAccount", "name"]),
    "karpenter": ("karpenter", ["serviceAccount", "name"]),
}
EKS_ADDON_ROLES = {"vpc-cni", "ebs-csi"}

# Platform app -> (value that makes it create its IngressClass, value naming the class).
INGRESS_CONTROLLERS: dict[str, tuple[list[str], list[str]]] = {
    "aws-load-balancer-controller": (["createIngressClassResource"], ["ingressClass"]),
}

# Platform app -> [(retention size value, volume size value)] (Prometheus semantics).
RETENTION: dict[str, list[tuple[list[str], list[str]]]] = {
    "kube-prometheus-stack": [
        (
            ["prometheus", "prometheusSpec", "retentionSize"],
            ["prometheus", "prometheusSpec", "storageSpec", "volumeClaimTemplate", "spec", "resources", "requests", "storage"],
        ),
    ],
}


@dataclass(frozen=True)
class Pod:
    """A pod a chart runs: where its pod securityContext and its containers' contexts come from."""

    name: str
    pod: list[str] | None
    containers: list[list[str]]


# Every platform app that runs pods. runAsNonRoot must be true on the pod or on every container,
# and no context may set runAsUser 0 or runAsNonRoot false.
POD_SECURITY: dict[str, list[Pod]] = {
    "argocd": [Pod("all components", ["global", "securityContext"], [])],
    "aws-load-balancer-controller": [Pod("controller", ["podSecurityContext"], [["securityContext"]])],
    "metrics-server": [Pod("metrics-server", ["podSecurityContext"], [["securityContext"]])],
    "cluster-autoscaler": [Pod("cluster-autoscaler", ["securityContext"], [["containerSecurityContext"]])],
    # Karpenter's container context is fixed in the chart's template (runAsNonRoot, uid 65532).
    "karpenter": [Pod("controller", ["podSecurityContext"], [])],
    "external-dns": [Pod("external-dns", ["podSecurityContext"], [["securityContext"]])],
    "kube-prometheus-stack": [
        Pod("operator", ["prometheusOperator", "securityContext"], [["prometheusOperator", "containerSecurityContext"]]),
        Pod("prometheus", ["prometheus", "prometheusSpec", "securityContext"], []),
        Pod("alertmanager", ["alertmanager", "alertmanagerSpec", "securityContext"], []),
        Pod("kube-state-metrics", ["kube-state-metrics", "securityContext"], []),
        Pod("node-exporter", ["prometheus-node-exporter", "securityContext"], []),
    ],
    "loki": [Pod("single binary", ["loki", "podSecurityContext"], [["loki", "containerSecurityContext"]])],
    # The DaemonSet: Alloy itself and the config-reloader sidecar.
    "alloy": [Pod("alloy", ["controller", "podSecurityContext"], [["alloy", "securityContext"], ["configReloader", "securityContext"]])],
    "grafana": [Pod("grafana", ["securityContext"], [["containerSecurityContext"]])],
    "blackbox-exporter": [Pod("exporter", ["podSecurityContext"], [["securityContext"]])],
    "pushgateway": [Pod("pushgateway", ["securityContext"], [["containerSecurityContext"]])],
}

# Apps with a chart from a Helm repository that must have a POD_SECURITY entry.
PLATFORM_CHARTS = set(POD_SECURITY)
