"""Cross-layer rules (tests/platform/rules.py) on this repository, each with a control case: a
copy of the repository broken in exactly the way the rule exists for, which the rule must catch.
No cluster, no chart download: Terraform parsed with python-hcl2, gitops/apps and charts/service
rendered with Helm's engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.platform import rules
from tests.platform.conftest import REPO_ROOT, edit
from tests.platform.rules import Repo

RepoCopy = Callable[[], Repo]


# --- IRSA roles vs. the platform apps' namespaces and service accounts ----------------------------


def test_every_irsa_role_trusts_the_service_account_its_app_runs_as(repo: Repo) -> None:
    assert rules.irsa_matches_platform_apps(repo) == []
    # Not vacuous: both environments have roles to check, including the autoscaler's.
    assert {"aws-load-balancer-controller", "external-dns", "cluster-autoscaler"} <= set(rules.irsa_roles(repo, "dev"))
    assert {"aws-load-balancer-controller", "external-dns", "karpenter"} <= set(rules.irsa_roles(repo, "prod"))


def test_control_an_irsa_role_in_another_namespace_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.infra / "modules/eks/irsa.tf",
         'namespace       = "external-dns"\n      service_account = "external-dns"',
         'namespace       = "kube-system"\n      service_account = "external-dns"')
    problems = rules.irsa_matches_platform_apps(copy)
    assert "dev: IRSA role external-dns trusts kube-system/external-dns but external-dns runs as " \
           "external-dns/external-dns (gitops/platform/external-dns/values.yaml: serviceAccount.name)" in problems


def test_control_a_renamed_service_account_in_the_values_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.gitops / "platform/karpenter/values.yaml", "  name: karpenter\n", "  name: karpenter-controller\n")
    problems = rules.irsa_matches_platform_apps(copy)
    assert any(p.startswith("prod: IRSA role karpenter trusts kube-system/karpenter but karpenter runs as "
                            "kube-system/karpenter-controller") for p in problems), problems


def test_control_an_app_without_its_role_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.infra / "environments/dev/variables.tf", 'default     = "cluster-autoscaler"', 'default     = "none"')
    problems = rules.irsa_matches_platform_apps(copy)
    assert "dev: platform app cluster-autoscaler is enabled but infra/ creates no IRSA role cluster-autoscaler" in problems


# --- Ingress classes and their controllers -------------------------------------------------------


def test_every_ingress_class_has_its_controller(repo: Repo) -> None:
    assert rules.ingress_classes_have_controllers(repo) == []
    ingresses = [d for d in repo.service_manifests("dev", "frontend") if d["kind"] == "Ingress"]
    assert [i["spec"]["ingressClassName"] for i in ingresses] == ["alb"]


def test_control_an_ingress_class_nobody_serves_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.root / "charts/service/values.yaml", "  className: alb\n", "  className: nginx\n")
    problems = rules.ingress_classes_have_controllers(copy)
    assert "dev: Ingress frontend uses class 'nginx', which no enabled controller provides (provided: ['alb'])" in problems


def test_control_a_controller_that_creates_no_class_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.gitops / "platform/aws-load-balancer-controller/values.yaml",
         "createIngressClassResource: true", "createIngressClassResource: false")
    assert any("uses class 'alb', which no enabled controller provides" in p
               for p in rules.ingress_classes_have_controllers(copy))


# --- HPAs need metrics-server --------------------------------------------------------------------


def test_every_enabled_hpa_has_metrics_server(repo: Repo) -> None:
    assert rules.hpas_have_metrics_server(repo) == []
    # prod has HPAs (the rule has something to check there).
    assert any(d["kind"] == "HorizontalPodAutoscaler" for d in repo.service_manifests("prod", "product"))


def test_control_hpas_without_metrics_server_are_caught() -> None:
    repo = Repo(REPO_ROOT,
                extra_values={"prod": {"platform": {"metrics-server": {"enabled": False}}}})
    problems = rules.hpas_have_metrics_server(repo)
    assert "prod: product has a HorizontalPodAutoscaler but metrics-server is not enabled " \
           "(gitops/apps/values-prod.yaml platform.metrics-server)" in problems


# --- One autoscaler, the same one in gitops/ and infra/ -----------------------------------------


def test_one_autoscaler_per_environment_and_infra_agrees(repo: Repo) -> None:
    assert rules.one_autoscaler_per_environment(repo) == []
    assert (repo.autoscaler("dev"), repo.autoscaler("prod")) == ("cluster-autoscaler", "karpenter")


def test_control_both_autoscalers_in_one_environment_are_caught(repo: Repo) -> None:
    both = Repo(repo.root)
    both.apps("dev")  # render, then add a Karpenter Application as a hand-made change would
    both._rendered["dev"]["karpenter"] = dict(repo.apps("prod")["karpenter"])
    assert "dev: Cluster Autoscaler and Karpenter are both enabled (cluster-autoscaler, karpenter)" in \
        rules.one_autoscaler_per_environment(both)


def test_control_infra_with_another_autoscaler_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.infra / "environments/prod/variables.tf", 'default     = "karpenter"', 'default     = "cluster-autoscaler"')
    assert "prod: gitops/apps/values-prod.yaml autoscaler is 'karpenter' but infra/environments/prod autoscaler " \
           "is 'cluster-autoscaler'" in rules.one_autoscaler_per_environment(copy)


def test_an_unknown_autoscaler_fails_to_render(repo: Repo) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=r'autoscaler "keda" is not none, cluster-autoscaler or karpenter'):
        Repo(repo.root, environments=("dev",), extra_values={"dev": {"autoscaler": "keda"}}).apps("dev")


# --- Pinned charts ------------------------------------------------------------------------------


def test_every_chart_version_is_pinned_and_cluster_autoscaler_matches_kubernetes(repo: Repo) -> None:
    assert rules.charts_pinned(repo) == []


@pytest.mark.parametrize("version", ["1.21.x", "*", "latest", "^1.21.0", ">=1.0.0"])
def test_control_an_unpinned_chart_fails_to_render(repo: Repo, version: str) -> None:
    import helm_python as helm

    bad = Repo(repo.root, environments=("dev",), extra_values={"dev": {"platform": {"external-dns": {"version": version}}}})
    with pytest.raises(helm.HelmRenderError, match=r"platform\.external-dns\.version"):
        bad.apps("dev")


def test_control_an_unpinned_rendered_chart_is_caught(repo: Repo) -> None:
    bad = Repo(repo.root)
    bad.apps("prod")
    app = bad._rendered["prod"]["karpenter"]
    app["spec"]["sources"][0]["targetRevision"] = "1.x"
    assert "prod: karpenter chart karpenter version '1.x' is not an exact version" in rules.charts_pinned(bad)


def test_control_cluster_autoscaler_of_another_minor_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.gitops / "platform/cluster-autoscaler/values.yaml", "tag: v1.31.5", "tag: v1.35.0")
    assert "dev: cluster-autoscaler image v1.35.0 does not match kubernetes_version 1.31 " \
           "(gitops/platform/cluster-autoscaler/values.yaml image.tag)" in rules.charts_pinned(copy)


# --- The class: a volume smaller than the retention size ---------------------------------


def test_retention_size_fits_the_volume(repo: Repo) -> None:
    assert rules.retention_fits_volume(repo) == []
    prod = repo.platform_values("prod", "kube-prometheus-stack")["prometheus"]["prometheusSpec"]
    assert prod["retentionSize"] == "40GB"
    assert prod["storageSpec"]["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"] == "50Gi"


def test_control_the_old_prod_values_are_caught(repo: Repo) -> None:
    """What prod had before: retentionSize 40GB on the 20Gi volume of the shared values."""
    old = Repo(repo.root, environments=("prod",), extra_values={"prod": {"platform": {"kube-prometheus-stack": {
        "values": {"prometheus": {"prometheusSpec": {"storageSpec": {"volumeClaimTemplate": {"spec": {
            "resources": {"requests": {"storage": "20Gi"}}}}}}}}}}}})
    assert rules.retention_fits_volume(old) == [
        "prod: kube-prometheus-stack prometheus.prometheusSpec.retentionSize=40GB does not fit the volume "
        "prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage=20Gi "
        "(at most 85%: the disk would fill before the size limit applies)"
    ]


def test_size_units_are_prometheus_and_kubernetes_ones() -> None:
    assert rules.prometheus_size("16GB") == 16 * 2**30  # Prometheus: powers of two
    assert rules.kubernetes_quantity("20Gi") == 20 * 2**30
    assert rules.kubernetes_quantity("20G") == 20 * 10**9
    with pytest.raises(ValueError, match="not a Prometheus size"):
        rules.prometheus_size("16GiB")


# --- The class: a platform pod without a non-root security context ------------------------


def test_every_platform_pod_runs_as_non_root(repo: Repo) -> None:
    assert rules.platform_pods_non_root(repo) == []


def test_control_the_old_alloy_values_are_caught(repo_copy: RepoCopy) -> None:
    """Alloy as it was: a container context without a user, no pod context, a bare reloader."""
    copy = repo_copy()
    path = copy.gitops / "platform/alloy/values.yaml"
    edit(path, "    runAsNonRoot: true\n    runAsUser: 473\n    runAsGroup: 473\n", "")
    edit(path, "  podSecurityContext:\n    runAsNonRoot: true\n    fsGroup: 473\n", "  podSecurityContext:\n    fsGroup: 473\n")
    text = path.read_text()
    start = text.index("configReloader:")
    path.write_text(text[:start] + text[text.index("serviceMonitor:"):])
    problems = rules.platform_pods_non_root(copy)
    assert "dev: alloy alloy: container alloy.securityContext has no runAsNonRoot: true " \
           "(nor has the pod at controller.podSecurityContext)" in problems
    assert "dev: alloy alloy: container configReloader.securityContext has no runAsNonRoot: true " \
           "(nor has the pod at controller.podSecurityContext)" in problems


def test_control_a_root_user_is_caught_even_with_a_non_root_pod(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.gitops / "platform/metrics-server/values.yaml", "  runAsUser: 1000\n", "  runAsUser: 0\n")
    assert "dev: metrics-server metrics-server: securityContext runs as root" in rules.platform_pods_non_root(copy)


# --- Terraform outputs -> GitOps values ----------------------------------------------------------


def test_every_terraform_derived_value_is_mapped_from_an_output(repo: Repo) -> None:
    assert rules.output_mapping_complete(repo) == []
    files = {e["file"] for e in repo.output_mapping()}
    assert "gitops/environments/{env}/platform/karpenter.yaml" in files


def test_control_a_value_typed_in_by_hand_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    path = copy.gitops / "environments/dev/platform/aws-load-balancer-controller.yaml"
    path.write_text(path.read_text() + "vpcCidr: 10.0.0.0/16\n")
    assert "dev: gitops/environments/dev/platform/aws-load-balancer-controller.yaml: ['vpcCidr'] is not filled " \
           "from any Terraform output" in rules.output_mapping_complete(copy)


def test_control_a_mapped_output_missing_from_terraform_is_caught(repo_copy: RepoCopy) -> None:
    copy = repo_copy()
    edit(copy.infra / "environments/prod/outputs.tf", 'output "route53_zone_id" {', 'output "zone_id" {')
    assert "prod: gitops/platform/terraform-outputs.yaml: output 'route53_zone_id' is not in " \
           "infra/environments/prod/outputs.tf" in rules.output_mapping_complete(copy)
