"""Cross-layer consistency rules between infra/ (Terraform), gitops/ (Argo CD, chart values) and
charts/, checked without a cluster.

Every rule is a function of a `Repo` (a folder laid out like this repository: the real one, or a
mutated copy in a temporary directory for the control cases) and returns one line per problem,
naming the file and the key; an empty list is "consistent". What the upstream charts do with
their values (which value names a pod's service account or security context) is recorded in
`charts.py`, at the pinned versions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from tests.gitops_manifests.manifests import applications, deep_merge, load_values, render_apps, render_chart, sources
from tests.infra.hcl import load_dir
from tests.platform import charts

ENVIRONMENTS = ("dev", "prod")
AUTOSCALERS = ("none", "cluster-autoscaler", "karpenter")
EXACT_VERSION = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")


@dataclass
class Repo:
    """The parts of a repository the rules read; everything is loaded lazily from `root`."""

    root: Path
    environments: tuple[str, ...] = ENVIRONMENTS
    extra_values: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def gitops(self) -> Path:
        return self.root / "gitops"

    @property
    def infra(self) -> Path:
        return self.root / "infra"

    def apps_values(self, env: str) -> dict[str, Any]:
        """gitops/apps values as the root Application layers them (defaults, values-<env>.yaml)."""
        base = load_values(self.gitops / "apps" / "values.yaml")
        return deep_merge(base, load_values(self.gitops / "apps" / f"values-{env}.yaml"),
                          self.extra_values.get(env, {}))

    @cached_property
    def _rendered(self) -> dict[str, dict[str, dict[str, Any]]]:
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for env in self.environments:
            docs = render_apps(self.gitops / "apps", env, self.extra_values.get(env))
            found[env] = {name.removesuffix(f"-{env}"): dict(app) for name, app in applications(docs).items()}
        return found

    def apps(self, env: str) -> dict[str, dict[str, Any]]:
        """The child Applications of `env` by short name (argocd, external-dns, product, ...)."""
        return self._rendered[env]

    def autoscaler(self, env: str) -> str:
        return str(self.apps_values(env).get("autoscaler", "none"))

    def platform_values(self, env: str, app: str) -> dict[str, Any]:
        """What Helm gets for a platform app: its values.yaml, the environment's Terraform file
        (when the Application lists it), then the Application's valuesObject."""
        application = self.apps(env)[app]
        [chart_source] = [s for s in sources(application) if "chart" in s or "path" in s]
        helm = chart_source.get("helm", {})
        layers: list[Mapping[str, Any]] = []
        if "path" in chart_source:  # a chart of this repository: its own values.yaml first
            layers.append(load_values(self.root / chart_source["path"] / "values.yaml"))
        for ref in helm.get("valueFiles", []):
            path = self.resolve(ref)
            layers.append(load_values(path))
        layers.append(helm.get("valuesObject") or {})
        return deep_merge({}, *layers)

    def resolve(self, ref: str) -> Path:
        """A `$values/...` reference of an Application as a file of this repository."""
        relative = ref.removeprefix("$values/")
        return self.root / relative

    def service_values(self, env: str, service: str) -> dict[str, Any]:
        """charts/service values layered as the service's Application declares them."""
        app = self.apps(env)[service]
        chart, _ref = sources(app)
        layers: list[Mapping[str, Any]] = [load_values(self.root / chart["path"] / "values.yaml")]
        for ref in chart["helm"]["valueFiles"]:
            path = self.resolve(ref) if ref.startswith("$values/") else (self.root / chart["path"] / ref)
            layers.append(load_values(path))
        layers.append(chart["helm"].get("valuesObject") or {})
        return deep_merge({}, *layers)

    def services(self, env: str) -> list[str]:
        return sorted(name for name, app in self.apps(env).items()
                      if any(s.get("path") == "charts/service" for s in sources(app)))

    def service_manifests(self, env: str, service: str) -> list[dict[str, Any]]:
        values = self.service_values(env, service)
        # The shared chart refuses to render without a digest (only a release writes one).
        values = deep_merge(values, {"image": {"digest": "sha256:" + "0" * 64}})
        return render_chart(self.root / "charts" / "service", values, release=service, namespace="shop")

    def terraform(self, folder: str) -> dict[str, Any]:
        return load_dir(self.infra / folder)

    def tf_default(self, env: str, variable: str) -> Any:
        return self.terraform(f"environments/{env}")["variable"][variable].get("default")

    def output_mapping(self) -> list[dict[str, Any]]:
        data = yaml.safe_load((self.gitops / "platform" / "terraform-outputs.yaml").read_text())
        return list(data["entries"])


def _dig(values: Mapping[str, Any], path: Iterable[str | int]) -> Any:
    node: Any = values
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return None
            node = node[key]
        else:
            if not isinstance(node, Mapping) or key not in node:
                return None
            node = node[key]
    return node


# --- IRSA: every role's namespace and service account is the one the platform app runs as ------


def irsa_roles(repo: Repo, env: str) -> dict[str, tuple[str, str]]:
    """IRSA roles Terraform creates for `env`: role -> (namespace, service account)."""
    eks = repo.terraform("modules/eks")["locals"]
    roles = {name: (r["namespace"], r["service_account"]) for name, r in eks["irsa"].items()}
    autoscaler = repo.tf_default(env, "autoscaler")
    if autoscaler == "cluster-autoscaler":
        roles.update({name: (r["namespace"], r["service_account"])
                      for name, r in eks["irsa_cluster_autoscaler"].items()})
    if autoscaler == "karpenter":
        karpenter = repo.terraform("modules/karpenter")
        trust = karpenter["data"]["aws_iam_policy_document"]["controller_assume"]["statement"][0]
        subject = next(c for c in trust["condition"] if str(c["variable"]).endswith(":sub"))
        if subject["values"] != ["system:serviceaccount:${var.namespace}:${var.service_account}"]:
            return {**roles, "karpenter": ("?", f"trust subject {subject['values']}")}
        variables = karpenter["variable"]
        roles["karpenter"] = (variables["namespace"]["default"], variables["service_account"]["default"])
    return roles


def irsa_matches_platform_apps(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        apps = repo.apps(env)
        roles = irsa_roles(repo, env)
        for role, (namespace, account) in sorted(roles.items()):
            if role in charts.EKS_ADDON_ROLES:
                continue  # vpc-cni and ebs-csi: EKS add-ons with fixed service accounts (modules/eks)
            app_name, sa_path = charts.SERVICE_ACCOUNTS[role]
            if app_name not in apps:
                problems.append(f"{env}: IRSA role {role} ({namespace}/{account}) has no platform app {app_name}")
                continue
            app_ns = apps[app_name]["spec"]["destination"]["namespace"]
            app_sa = _dig(repo.platform_values(env, app_name), sa_path)
            if (app_ns, app_sa) != (namespace, account):
                problems.append(
                    f"{env}: IRSA role {role} trusts {namespace}/{account} but {app_name} runs as "
                    f"{app_ns}/{app_sa} (gitops/platform/{app_name}/values.yaml: {'.'.join(sa_path)})"
                )
        for role, (app_name, _path) in charts.SERVICE_ACCOUNTS.items():
            if app_name in apps and role not in roles:
                problems.append(f"{env}: platform app {app_name} is enabled but infra/ creates no IRSA role {role}")
    return problems


# --- Ingress classes have their controller -----------------------------------------------------


def ingress_classes_have_controllers(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        apps = repo.apps(env)
        provided: dict[str, str] = {}
        for app_name, (enabled_key, class_key) in charts.INGRESS_CONTROLLERS.items():
            if app_name in apps:
                values = repo.platform_values(env, app_name)
                if _dig(values, enabled_key) is True:
                    provided[str(_dig(values, class_key))] = app_name
        for service in repo.services(env):
            for doc in repo.service_manifests(env, service):
                if doc.get("kind") == "Ingress":
                    cls = doc["spec"].get("ingressClassName")
                    if cls not in provided:
                        problems.append(
                            f"{env}: Ingress {service} uses class {cls!r}, which no enabled controller provides "
                            f"(provided: {sorted(provided) or 'none'})"
                        )
    return problems


# --- HPAs have metrics-server ------------------------------------------------------------------


def hpas_have_metrics_server(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        apps = repo.apps(env)
        for service in repo.services(env):
            hpas = [d for d in repo.service_manifests(env, service) if d.get("kind") == "HorizontalPodAutoscaler"]
            if hpas and "metrics-server" not in apps:
                problems.append(
                    f"{env}: {service} has a HorizontalPodAutoscaler but metrics-server is not enabled "
                    f"(gitops/apps/values-{env}.yaml platform.metrics-server)"
                )
    return problems


# --- One autoscaler per environment, the same in gitops/ and infra/ ------------------------------


def one_autoscaler_per_environment(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        apps = repo.apps(env)
        running = sorted(a for a in ("cluster-autoscaler", "karpenter") if a in apps)
        if len(running) > 1:
            problems.append(f"{env}: Cluster Autoscaler and Karpenter are both enabled ({', '.join(running)})")
        gitops_mode = repo.autoscaler(env)
        tf_mode = repo.tf_default(env, "autoscaler")
        if gitops_mode != tf_mode:
            problems.append(
                f"{env}: gitops/apps/values-{env}.yaml autoscaler is {gitops_mode!r} but "
                f"infra/environments/{env} autoscaler is {tf_mode!r}"
            )
        expected = {"none": [], "cluster-autoscaler": ["cluster-autoscaler"], "karpenter": ["karpenter"]}[gitops_mode]
        if running != expected and len(running) <= 1:
            problems.append(f"{env}: autoscaler {gitops_mode!r} but running {running or 'none'}")
    return problems


# --- Every chart pinned; Cluster Autoscaler's minor = the cluster's Kubernetes minor --------------


def charts_pinned(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        for name, app in repo.apps(env).items():
            for source in sources(app):
                if "chart" not in source:
                    continue
                version = str(source.get("targetRevision", ""))
                if not EXACT_VERSION.match(version):
                    problems.append(f"{env}: {name} chart {source['chart']} version {version!r} is not an exact version")
        if "cluster-autoscaler" in repo.apps(env):
            tag = str(_dig(repo.platform_values(env, "cluster-autoscaler"), ["image", "tag"]))
            k8s = str(repo.tf_default(env, "kubernetes_version"))
            if not tag.startswith(f"v{k8s}."):
                problems.append(
                    f"{env}: cluster-autoscaler image {tag} does not match kubernetes_version {k8s} "
                    f"(gitops/platform/cluster-autoscaler/values.yaml image.tag)"
                )
    for path in sorted(repo.gitops.glob("platform/*/Chart.yaml")) + sorted((repo.root / "charts").glob("*/Chart.yaml")):
        chart = yaml.safe_load(path.read_text())
        for dep in chart.get("dependencies") or []:
            if not EXACT_VERSION.match(str(dep.get("version", ""))):
                problems.append(f"{path.relative_to(repo.root)}: dependency {dep.get('name')} version {dep.get('version')!r} is not exact")
    return problems


# --- Prometheus: the retention size fits the volume ----------------------------------------------

_PROM_UNITS = {"B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40, "PB": 2**50, "EB": 2**60}
_K8S_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


def prometheus_size(text: str) -> int:
    """Prometheus' --storage.tsdb.retention.size: units in powers of two (GB = 2^30 bytes)."""
    match = re.fullmatch(r"(\d+)(B|KB|MB|GB|TB|PB|EB)", text.strip())
    if not match:
        raise ValueError(f"not a Prometheus size: {text!r}")
    return int(match.group(1)) * _PROM_UNITS[match.group(2)]


def kubernetes_quantity(text: str) -> int:
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi|Ti|K|M|G|T|)", str(text).strip())
    if not match:
        raise ValueError(f"not a storage quantity: {text!r}")
    return int(match.group(1)) * _K8S_UNITS[match.group(2)]


# At most this share of the volume: the WAL, the head block and compaction need the rest.
RETENTION_SHARE = 0.85


def retention_fits_volume(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        for app_name, checks in charts.RETENTION.items():
            if app_name not in repo.apps(env):
                continue
            values = repo.platform_values(env, app_name)
            for size_path, volume_path in checks:
                size = _dig(values, size_path)
                volume = _dig(values, volume_path)
                if size is None:
                    continue
                if volume is None:
                    problems.append(f"{env}: {app_name} {'.'.join(size_path)}={size} but no volume at {'.'.join(volume_path)}")
                    continue
                if prometheus_size(str(size)) > RETENTION_SHARE * kubernetes_quantity(str(volume)):
                    problems.append(
                        f"{env}: {app_name} {'.'.join(size_path)}={size} does not fit the volume "
                        f"{'.'.join(volume_path)}={volume} (at most {int(RETENTION_SHARE * 100)}%: the disk "
                        "would fill before the size limit applies)"
                    )
    return problems


# --- Every pod of a platform app runs as non-root, from the values alone -------------------------


def _context_problem(ctx: Any) -> str | None:
    if not isinstance(ctx, Mapping):
        return "no securityContext"
    if ctx.get("runAsUser") == 0:
        return "runAsUser 0"
    return None


def platform_pods_non_root(repo: Repo) -> list[str]:
    problems: list[str] = []
    for env in repo.environments:
        for app_name in sorted(repo.apps(env)):
            if app_name not in charts.POD_SECURITY:
                if app_name in charts.PLATFORM_CHARTS:
                    problems.append(f"{env}: {app_name}: no entry in tests/platform/charts.py POD_SECURITY")
                continue
            values = repo.platform_values(env, app_name)
            for pod in charts.POD_SECURITY[app_name]:
                pod_ctx = _dig(values, pod.pod) if pod.pod else None
                pod_ok = isinstance(pod_ctx, Mapping) and pod_ctx.get("runAsNonRoot") is True
                for bad in filter(None, [_context_problem(pod_ctx) if pod_ctx is not None else None]):
                    if bad != "no securityContext":
                        problems.append(f"{env}: {app_name} {pod.name}: {'.'.join(pod.pod or [])}: {bad}")
                for container in pod.containers:
                    ctx = _dig(values, container)
                    where = ".".join(str(k) for k in container)
                    if isinstance(ctx, Mapping) and (ctx.get("runAsUser") == 0 or ctx.get("runAsNonRoot") is False):
                        problems.append(f"{env}: {app_name} {pod.name}: {where} runs as root")
                    elif not pod_ok and not (isinstance(ctx, Mapping) and ctx.get("runAsNonRoot") is True):
                        problems.append(
                            f"{env}: {app_name} {pod.name}: container {where} has no runAsNonRoot: true "
                            f"(nor has the pod at {'.'.join(pod.pod or ['-'])})"
                        )
    return problems


# --- Terraform outputs -> GitOps values: the mapping is complete and points at real things -------


def output_mapping_complete(repo: Repo) -> list[str]:
    problems: list[str] = []
    entries = repo.output_mapping()
    for env in repo.environments:
        outputs = repo.terraform(f"environments/{env}")["output"]
        mode = repo.autoscaler(env)
        applicable = [e for e in entries if (e.get("when") or {}).get("autoscaler", mode) == mode]
        mapped: dict[str, set[tuple[str | int, ...]]] = {}
        for entry in applicable:
            name = entry["output"][0]
            if name not in outputs:
                problems.append(f"{env}: gitops/platform/terraform-outputs.yaml: output {name!r} is not in infra/environments/{env}/outputs.tf")
            rel = entry["file"].format(env=env)
            path = repo.root / rel
            if not path.is_file():
                problems.append(f"{env}: {rel} (mapped from output {'.'.join(map(str, entry['output']))}) does not exist")
                continue
            if _dig(load_values(path), entry["key"]) is None:
                problems.append(f"{env}: {rel}: key {entry['key']} (from output {name}) has no placeholder")
            mapped.setdefault(rel, set()).add(tuple(entry["key"]))
        # Every leaf of the Terraform-derived files is mapped: nothing typed in by hand.
        for path in sorted((repo.gitops / "environments" / env / "platform").glob("*.yaml")):
            rel = str(path.relative_to(repo.root))
            for leaf in _leaves(load_values(path)):
                if leaf not in mapped.get(rel, set()):
                    problems.append(f"{env}: {rel}: {list(leaf)} is not filled from any Terraform output")
            app = path.stem
            if app not in repo.apps(env):
                problems.append(f"{env}: {rel}: no enabled Application {app} reads it")
        # Every Application that reads an environment platform file has one.
        for name, app in repo.apps(env).items():
            for source in sources(app):
                for ref in source.get("helm", {}).get("valueFiles", []):
                    if "/platform/" in ref and ref.startswith("$values/") and not repo.resolve(ref).is_file():
                        problems.append(f"{env}: {name} reads {ref}, which does not exist")
    return problems


def _leaves(node: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(node, Mapping):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*prefix, key))]
    if isinstance(node, list):
        return [leaf for i, value in enumerate(node) for leaf in _leaves(value, (*prefix, i))]
    return [prefix]
