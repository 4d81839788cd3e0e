"""gitops/environments/<env>/: a values file per service (the image block `devops` edits) and
the release record; and what the charts make of those values, layered as Argo CD layers them."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from devops.config.model import Config
from tests.gitops_manifests.manifests import applications, deep_merge, load_values, render_chart, sources

FAKE_DIGEST = "sha256:" + "ab" * 32
RECORD_KEYS = ["schema", "environment", "released_at", "released_by", "source_commit", "promoted_from", "services"]
SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _image_block(service: str, env: str) -> re.Pattern[str]:
    """The contract's first five lines; tag and digest are whatever the last release wrote."""
    return re.compile(
        rf"\A# {service} in {env}\. The image block is written by `devops release`; everything else is yours\.\n"
        rf"image:\n"
        rf"  repository: \S+/{service}\n"
        rf'  tag: "[^"\n]*" +# human-readable \(sha-abc1234 / v1\.2\.3\); never used to pull\n'
        rf'  digest: "(sha256:[a-f0-9]{{64}})?" +# sha256:<64 hex>; the chart pulls repository@digest\n'
    )


def test_every_environment_has_values_for_every_service_and_mongodb(
    config: Config, gitops: Path, environments: list[str]
) -> None:
    for env in environments:
        folder = gitops / "environments" / env / "values"
        present = sorted(p.stem for p in folder.glob("*.yaml"))
        assert present == sorted([*config.services, "mongodb"]), env


def test_the_image_block_is_the_contract_shape(config: Config, gitops: Path, environments: list[str]) -> None:
    for env in environments:
        for service in config.services:
            path = gitops / "environments" / env / "values" / f"{service}.yaml"
            text = path.read_text()
            assert _image_block(service, env).match(text), f"{path}: the image block is not the contract's"
            image = load_values(path)["image"]
            assert set(image) == {"repository", "tag", "digest"}
            assert image["repository"] == f"docker.io/techitfactory/{service}"


def test_ingress_host_is_the_environment_url(config: Config, gitops: Path, environments: list[str]) -> None:
    for env in environments:
        host = urlparse(config.environments[env].url).hostname
        for service in config.services:
            values = load_values(gitops / "environments" / env / "values" / f"{service}.yaml")
            assert values["ingress"]["host"] == host, (env, service)


def test_release_records_have_the_contract_shape(config: Config, gitops: Path, environments: list[str]) -> None:
    for env in environments:
        path = gitops / "environments" / env / config.environments[env].gitops.record_file
        text = path.read_text()
        assert text.endswith("}\n") and text.startswith('{\n  "schema": 1,\n'), f"{path}: not 2-space JSON + newline"
        record = json.loads(text)
        assert list(record) == RECORD_KEYS, path
        assert (record["schema"], record["environment"]) == (1, env)
        assert isinstance(record["services"], dict)
        if not record["services"]:
            # Never released: nothing claims otherwise.
            assert record["released_at"] is None and record["source_commit"] is None, path
            continue
        assert TIMESTAMP.match(record["released_at"]) and COMMIT.match(record["source_commit"])
        for service, entry in record["services"].items():
            assert service in config.services, f"{path}: unknown service {service}"
            assert SHA256.match(entry["digest"]) and COMMIT.match(entry["source_commit"]), (path, service)
            assert entry["scan"]["verdict"] in {"PASSED", "FAILED"}
            assert entry["sonar"]["verdict"] in {"PASSED", "FAILED", "SKIPPED"}


def test_the_initial_release_records_are_empty(gitops: Path, environments: list[str]) -> None:
    """As committed before the first release (the contract's initial files)."""
    for env in environments:
        record = json.loads((gitops / "environments" / env / "release.json").read_text())
        if record["services"]:
            pytest.skip(f"{env} has been released since")
        assert record == {
            "schema": 1, "environment": env, "released_at": None, "released_by": None,
            "source_commit": None, "promoted_from": None, "services": {},
        }


# --- the charts with these values, layered as Argo CD does -------------------------------------


def argo_values(app: dict[str, Any], repo_root: Path) -> tuple[Path, dict[str, Any]]:
    """The chart folder and the values Argo CD would give Helm for this Application: its value
    files in order (`$values/` from the GitOps repo, others relative to the chart's path), then
    `valuesObject`, which wins."""
    [chart] = [s for s in sources(app) if "path" in s]
    helm = chart.get("helm", {})
    layers = []
    for value_file in helm.get("valueFiles", []):
        if value_file.startswith("$values/"):
            path = value_file.removeprefix("$values/")
        else:
            path = posixpath.normpath(posixpath.join(chart["path"], value_file))
        layers.append(load_values(repo_root / path))
    values = deep_merge({}, *layers, helm.get("valuesObject", {}))
    return repo_root / chart["path"], values


def _chart(repo_root: Path, folder: str) -> Path:
    path = repo_root / folder
    if not (path / "Chart.yaml").is_file() or not (path / "templates").is_dir():
        pytest.skip(f"{folder} is not there yet")
    return path


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What the Pod Security Standard `restricted` (enforced on the shop namespace) refuses."""
    found: list[str] = []
    pod_ctx = pod.get("securityContext") or {}
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(flag):
            found.append(flag)
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume['name']}")
    for container in [*(pod.get("initContainers") or []), *pod["containers"]]:
        ctx = container.get("securityContext") or {}
        name = container["name"]
        if ctx.get("privileged"):
            found.append(f"{name}: privileged")
        if ctx.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation is not false")
        if not ctx.get("runAsNonRoot", pod_ctx.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot is not true")
        if ctx.get("runAsUser", pod_ctx.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        caps = ctx.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{name}: capabilities do not drop ALL")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities {caps['add']}")
        seccomp = (ctx.get("seccompProfile") or pod_ctx.get("seccompProfile") or {}).get("type")
        if seccomp not in {"RuntimeDefault", "Localhost"}:
            found.append(f"{name}: seccompProfile is {seccomp}")
    return found


def test_restricted_check_catches_a_root_container() -> None:
    pod = {"containers": [{"name": "app", "securityContext": {"runAsUser": 0, "privileged": True}}]}
    assert restricted_violations(pod) == [
        "app: privileged",
        "app: allowPrivilegeEscalation is not false",
        "app: runAsNonRoot is not true",
        "app: runAsUser 0",
        "app: capabilities do not drop ALL",
        "app: seccompProfile is None",
    ]


def _released(values: dict[str, Any]) -> dict[str, Any]:
    """The values as after a release: an empty digest gets a (fake) one."""
    if values["image"].get("digest"):
        return values
    return deep_merge(values, {"image": {"digest": FAKE_DIGEST}})


def test_service_chart_renders_every_environment_file(
    rendered: dict[str, list[dict[str, Any]]], repo_root: Path, config: Config
) -> None:
    import helm_python as helm

    chart = _chart(repo_root, "charts/service")
    for env, docs in rendered.items():
        apps = applications(docs)
        for service in config.services:
            app = apps[f"{service}-{env}"]
            folder, values = argo_values(dict(app), repo_root)
            assert folder == chart
            values = _released(values)
            with helm.Chart.load(str(chart)) as loaded:
                loaded.validate_schema(values)
            release = app["spec"]["sources"][0]["helm"]["releaseName"]
            objects = render_chart(chart, values, release=release, namespace="shop")
            kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
            for kind in ("Deployment", "Service", "Ingress", "PodDisruptionBudget"):
                assert (kind, service) in kinds, (env, service, kind)
            # Scraped by the Prometheus stack unless the service has no /metrics (the frontend).
            scraped = values.get("serviceMonitor", {}).get("enabled", True)
            assert (("ServiceMonitor", service) in kinds) == scraped, (env, service)
            [deployment] = [o for o in objects if o["kind"] == "Deployment"]
            pod = deployment["spec"]["template"]["spec"]
            [container] = pod["containers"]
            assert container["image"] == f"{values['image']['repository']}@{values['image']['digest']}"
            assert restricted_violations(pod) == [], (env, service)
            hpas = [o for o in objects if o["kind"] == "HorizontalPodAutoscaler"]
            env_values = load_values(repo_root / "gitops" / "environments" / env / "values" / f"{service}.yaml")
            if env_values["autoscaling"]["enabled"]:
                [hpa] = hpas
                assert "replicas" not in deployment["spec"], "the HPA owns replicas"
                assert hpa["spec"]["minReplicas"] == env_values["autoscaling"]["minReplicas"]
                assert hpa["spec"]["maxReplicas"] == env_values["autoscaling"]["maxReplicas"]
            else:
                assert hpas == [] and deployment["spec"]["replicas"] == env_values["replicaCount"]
            [ingress] = [o for o in objects if o["kind"] == "Ingress"]
            assert [r.get("host") for r in ingress["spec"]["rules"]] == [env_values["ingress"]["host"]]


def test_an_unreleased_environment_fails_to_render_naming_the_command(
    rendered: dict[str, list[dict[str, Any]]], repo_root: Path
) -> None:
    """The environment name in the chart's message comes from the Application's valuesObject."""
    import helm_python as helm

    chart = _chart(repo_root, "charts/service")
    for env, docs in rendered.items():
        _, values = argo_values(dict(applications(docs)[f"cart-{env}"]), repo_root)
        values = deep_merge(values, {"image": {"digest": ""}})
        with pytest.raises(helm.HelmRenderError, match=rf"image\.digest is empty for cart: run devops release --env {env}"):
            render_chart(chart, values, release="cart", namespace="shop")


def test_mongodb_chart_renders_every_environment_file(
    rendered: dict[str, list[dict[str, Any]]], repo_root: Path
) -> None:
    import helm_python as helm

    chart = _chart(repo_root, "charts/mongodb")
    for env, docs in rendered.items():
        app = applications(docs)[f"mongodb-{env}"]
        folder, values = argo_values(dict(app), repo_root)
        assert folder == chart
        with helm.Chart.load(str(chart)) as loaded:
            loaded.validate_schema(values)
        objects = render_chart(chart, values, release="mongodb", namespace="shop")
        workloads = [o for o in objects if o["kind"] in {"StatefulSet", "Deployment"}]
        if values.get("external", {}).get("enabled"):
            assert workloads == [], f"{env}: external MongoDB renders no workload"
            continue
        [statefulset] = workloads
        assert restricted_violations(statefulset["spec"]["template"]["spec"]) == [], env
