"""The cluster area (issue 16): `environments.<env>.cluster.autoscaler`, the `cluster:` block,
`cost.targets.*.workloads|nodepools`, the `--env` of `devops cluster values|bootstrap|status`, and
the GitOps repository's files those commands read before they ask Terraform, Helm or the cluster
(an autoscaler that disagrees with pipelines/devops.yaml, a missing values or mapping file).
Each family has a control that passes."""

from __future__ import annotations

from tests.security.badinput.harness import Case
from tests.security.badinput.project import COST, base_config_text, config_with, remote_setup

VALIDATE = ("config", "validate")
BASE = base_config_text() + COST


def bad(case_id: str, key: str, raw: str, *mentions: str, shown: str | None = None) -> Case:
    return Case(f"cluster-{case_id}", VALIDATE, 2, config=config_with((key, raw), base=BASE),
                mentions=("devops.yaml", shown or key, *mentions))


CONFIG = [
    Case("cluster-control-config", VALIDATE, 0, config=config_with(
        ("environments.dev.cluster.autoscaler", "cluster-autoscaler"),
        ("cluster", "{gitops_root: gitops, argocd_namespace: argocd, field_manager: devops-bootstrap, "
                    "request_timeout_seconds: 600, crd_wait_seconds: 1800}"),
        ("cost.targets.dev.workloads", "{namespaces: [shop, monitoring], exclude: ['shop/keep-*']}"),
        ("cost.targets.dev.nodepools", "{include: ['*'], exclude: [system]}"), base=BASE)),
    bad("autoscaler-unknown", "environments.dev.cluster.autoscaler", "kubernetes", "kubernetes"),
    bad("autoscaler-not-text", "environments.dev.cluster.autoscaler", "true"),
    bad("argocd-namespace-not-a-label", "cluster.argocd_namespace", "Argo_CD", "Argo_CD"),
    bad("field-manager-with-slash", "cluster.field_manager", "devops/x", "devops/x"),
    bad("gitops-root-escapes", "cluster.gitops_root", "../elsewhere", "../elsewhere"),
    bad("request-timeout-too-long", "cluster.request_timeout_seconds", "601"),
    bad("request-timeout-boolean", "cluster.request_timeout_seconds", "true"),
    bad("crd-wait-negative", "cluster.crd_wait_seconds", "-1"),
    bad("unknown-key", "cluster.kubeconfig", "~/.kube/config", shown="kubeconfig"),
    bad("workloads-namespace-upper-case", "cost.targets.dev.workloads.namespaces", "[Shop]", "Shop"),
    bad("workloads-namespace-newline", "cost.targets.dev.workloads.namespaces", '["shop\\nx"]'),
    bad("workloads-exclude-without-namespace", "cost.targets.dev.workloads.exclude", "[cart]", "cart"),
    bad("workloads-unknown-key", "cost.targets.dev.workloads.kinds", "[DaemonSet]", shown="kinds"),
]

OPTIONS = [
    Case("cluster-status-unknown-env", ("cluster", "status", "--env", "staging"), 2, mentions=("staging",)),
    Case("cluster-values-env-not-a-name", ("cluster", "values", "--env", "Dev!"), 2, mentions=("Dev!",)),
    Case("cluster-bootstrap-env-option-like", ("cluster", "bootstrap", "--env", "--dry-run"), 2),
    Case("cluster-values-bad-mode", ("cluster", "values", "--env", "dev", "--mode", "push"), 2, mentions=("push",)),
]

# The GitOps repository (the project's own origin): what the commands read first.
APPS_DEV = "gitops/apps/values-dev.yaml"
MAPPING = "gitops/platform/terraform-outputs.yaml"
REPOSITORY = [
    Case("cluster-bootstrap-no-app-values", ("cluster", "bootstrap", "--env", "dev", "--dry-run"), 2,
         setup=remote_setup(), mentions=(APPS_DEV, "does not exist")),
    Case("cluster-bootstrap-autoscaler-disagrees", ("cluster", "bootstrap", "--env", "dev", "--dry-run"), 2,
         setup=remote_setup(files={APPS_DEV: "autoscaler: karpenter\n"}),
         mentions=(APPS_DEV, "karpenter", "environments.dev.cluster.autoscaler")),
    Case("cluster-values-no-mapping", ("cluster", "values", "--env", "dev", "--dry-run"), 2,
         setup=remote_setup(files={APPS_DEV: "autoscaler: none\n"}), mentions=(MAPPING, "does not exist")),
    Case("cluster-values-mapping-not-yaml", ("cluster", "values", "--env", "dev", "--dry-run"), 2,
         setup=remote_setup(files={APPS_DEV: "autoscaler: none\n", MAPPING: "entries: [\n"}),
         mentions=(MAPPING,)),
    Case("cluster-values-mapping-billion-laughs", ("cluster", "values", "--env", "dev", "--dry-run"), 2,
         setup=remote_setup(files={APPS_DEV: "autoscaler: none\n", MAPPING: "a: &a [x, x, x, x, x, x, x, x, x]\n"
                                   + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n"
                                             for p, c in zip("abcdefgh", "bcdefghi", strict=True))}),
         mentions=(MAPPING,)),
]

CASES = [*CONFIG, *OPTIONS, *REPOSITORY]
