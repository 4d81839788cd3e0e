"""`devops cluster bootstrap --env E`: install the pinned Argo CD, then apply the environment's
bootstrap objects; everything else then comes from git (docs/platform.md).

Argo CD is installed exactly as its self-managed Application will render it: the chart, version,
release name and namespace of `platform.argocd` in gitops/apps/values.yaml (with the
environment's values-<env>.yaml on top), its values files and `valuesObject`, rendered by Helm's
engine and applied server-side; so Argo CD's first sync of itself changes nothing. Then
gitops/bootstrap/<env>.yaml (AppProjects and the root Application).

Every file is read from the GitOps repository (what Argo CD will sync), and the run refuses
(exit 1) while any Terraform-fed value there is still empty (`devops cluster values` first).
Idempotent: an object whose every field is already live is not applied, so a second run applies
nothing. `--dry-run` reads the cluster and prints the objects it would apply.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devops.app.cluster_ports import ChartPort, KubePort
from devops.app.cluster_values import check_autoscaler, read_mapping
from devops.app.gitops_publish import GitOpsSession
from devops.config import Config
from devops.domain import documents
from devops.domain.cluster import manifests
from devops.domain.cluster.outputs import empty_values
from devops.domain.cluster.results import BootstrapResult, ChartRef, ObjectPlan
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import BadInput, ExternalError, GateFailed

# Rendered charts are larger than the files devops reads (Argo CD's CRDs alone are megabytes).
RENDER_LIMIT = 32 * 1024 * 1024


@dataclass(frozen=True)
class BootstrapPorts:
    """The GitOps repository (read only), Helm, and the cluster's API (opened after the checks)."""

    gitops: Callable[[], GitOpsSession]
    charts: ChartPort
    kube: Callable[[], KubePort]
    sleep: Callable[[float], None] = time.sleep


def _read(session: GitOpsSession, path: str) -> str:
    text = session.repo.read_text(path)
    if text is None:
        raise BadInput(f"{session.remote}: {path} does not exist", hint="check cluster.gitops_root in "
                       "pipelines/devops.yaml and the environment's files in the GitOps repository")
    return text


def _mapping(text: str, where: str) -> dict[str, Any]:
    data = documents.load_yaml(text, where, typ="safe")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BadInput(f"{where}: expected a mapping of values")
    return data


def argocd_chart(config: Config, environment: str, session: GitOpsSession) -> tuple[ChartRef, dict[str, Any]]:
    """The self-managed Argo CD Application's chart and values, as gitops/apps renders it."""
    root = config.cluster
    apps = [root.path("apps/values.yaml"), root.path(f"apps/values-{environment}.yaml")]
    layers = [_mapping(_read(session, path), f"{session.remote}: {path}") for path in apps]
    entry = manifests.merge_values(*[(layer.get("platform") or {}).get("argocd") or {} for layer in layers])
    where = f"{apps[0]}: platform.argocd"
    if not entry.get("enabled"):
        raise BadInput(f"{where}: Argo CD is not enabled for {environment}",
                       hint="the bootstrap installs the Argo CD that manages itself; enable it")
    for key in ("repoURL", "chart", "version"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise BadInput(f"{where}.{key}: expected a non-empty string, got {entry.get(key)!r}")
    files = [root.path("platform/argocd/values.yaml")]
    if entry.get("envValues"):
        files.append(root.path(f"environments/{environment}/platform/argocd.yaml"))
    release = str(entry.get("releaseName") or "argocd")
    namespace = str(entry.get("namespace") or root.argocd_namespace)
    values = manifests.merge_values(*[_mapping(_read(session, path), f"{session.remote}: {path}") for path in files],
                                    entry.get("values") or {})
    return ChartRef(entry["repoURL"], entry["chart"], entry["version"], release, namespace, tuple(files)), values


def bootstrap(config: Config, environment: str, ports: BootstrapPorts, *, dry_run: bool = False) -> BootstrapResult:
    """Install Argo CD and the bootstrap objects of `environment`; see the module docstring."""
    env = config.environment(environment)
    with ports.gitops() as session:
        autoscaler = check_autoscaler(config, environment, session)
        empty = empty_values(read_mapping(config, session), environment, autoscaler, session.repo.read_text)
        if empty:
            more = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
            raise GateFailed(f"{environment}: Terraform values still empty in {session.remote}: {empty[0]}{more}",
                             hint=f"run `devops cluster values --env {environment}` (and let its commit land) first; "
                                  "nothing was applied")
        chart, values = argocd_chart(config, environment, session)
        bootstrap_file = config.cluster.path(f"bootstrap/{environment}.yaml")
        own = manifests.parse_documents(_read(session, bootstrap_file), f"{session.remote}: {bootstrap_file}")
    archive, origin = ports.charts.archive(chart.repo, chart.chart, chart.version)
    chart = ChartRef(chart.repo, chart.chart, chart.version, chart.release, chart.namespace, chart.value_files, origin)
    source = f"{chart.chart} {chart.version}"
    rendered: list[dict[str, Any]] = []
    for name, text in ports.charts.render(archive, values, release=chart.release, namespace=chart.namespace):
        rendered += manifests.parse_documents(text, f"{source}: {name}", limit=RENDER_LIMIT)
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": chart.namespace}}
    objects = [(manifests.with_namespace(o, chart.namespace), source)
               for o in manifests.install_order([namespace, *rendered])]
    objects += [(manifests.with_namespace(o, chart.namespace), bootstrap_file) for o in manifests.install_order(own)]
    manifests.check_unique([o for o, _ in objects], f"{source} and {bootstrap_file}")
    kube = ports.kube()
    try:
        plans = [manifests.plan(obj, _live(kube, obj), where) for obj, where in objects]
        if not dry_run:
            _apply(config, kube, plans, ports.sleep)
    finally:
        kube.close()
    return BootstrapResult(environment, env.cluster.name, "", chart, bootstrap_file, tuple(plans), dry_run)


def _live(kube: KubePort, obj: Mapping[str, Any]) -> dict[str, Any] | None:
    meta = obj["metadata"]
    api_version, kind = str(obj["apiVersion"]), str(obj["kind"])
    if not kube.served(api_version, kind):
        return None  # its CRD comes with this run: certainly not there yet
    return kube.get(api_version, kind, str(meta["name"]), str(meta.get("namespace") or ""))


def _apply(config: Config, kube: KubePort, plans: list[ObjectPlan], sleep: Callable[[float], None]) -> None:
    settings = config.cluster
    # Wait for a CRD's kind to be served (it is "established" asynchronously): a bounded poll.
    wait = RetryPolicy(attempts=max(2, int(settings.crd_wait_seconds)), base_seconds=1.0, max_seconds=5.0,
                       deadline_seconds=settings.crd_wait_seconds)
    for item in plans:
        if item.action == "unchanged":
            continue
        if not kube.served(item.api_version, item.kind):
            try:
                for attempt in retrying(wait, retry_on=lambda e: isinstance(e, _NotYet), sleep=sleep):
                    with attempt:
                        if not kube.served(item.api_version, item.kind):
                            raise _NotYet(item.kind)
            except _NotYet:
                raise ExternalError(f"{item.ref}: its kind {item.kind} ({item.api_version}) is still not served "
                                    f"after {settings.crd_wait_seconds:.0f} s",
                                    hint="its CustomResourceDefinition did not become established; rerun "
                                         "bootstrap (what was applied stays), or raise cluster.crd_wait_seconds"
                                    ) from None
        kube.apply(item.manifest, settings.field_manager)


class _NotYet(Exception):
    """A kind not served yet (internal to the wait)."""
