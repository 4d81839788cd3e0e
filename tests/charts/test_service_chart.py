"""The shared service chart rendered for each service by Helm's own engine: what each object
says (digest, probes, security context, routing, autoscaling, monitoring) and that the result
is valid for Kubernetes (strict schemas) and for the Prometheus Operator (CRD schema)."""

from __future__ import annotations

import re
from typing import Any

import helm_python as helm
import jsonschema
import pytest

from tests.charts.render import (
    DIGEST,
    KUBERNETES_VERSIONS,
    REPO_ROOT,
    SERVICE_CHART,
    SERVICES,
    Rendered,
    env_values,
    kubernetes_errors,
    render,
    service_values,
)

APIS = ("product", "cart", "order")
PORTS = {"frontend": 8080, "product": 3001, "cart": 3002, "order": 3003}
SERVICE_PORTS = {"frontend": 80, "product": 3001, "cart": 3002, "order": 3003}
UIDS = {"frontend": 101, "product": 1000, "cart": 1000, "order": 10001}
INGRESS_PATHS = {
    "frontend": ["/"],
    "product": ["/api/products"],
    "cart": ["/api/cart"],
    "order": ["/api/orders"],
}


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container.get("env", [])}


def _port_number(container: dict[str, Any], name: str) -> int:
    return next(port["containerPort"] for port in container["ports"] if port["name"] == name)


@pytest.mark.parametrize("service", SERVICES)
def test_renders_every_object(rendered_services: dict[str, Rendered], service: str) -> None:
    expected = [
        "Deployment", "HorizontalPodAutoscaler", "Ingress", "PodDisruptionBudget", "Service",
        "ServiceAccount",
    ]
    if service != "frontend":  # nginx serves no /metrics
        expected.append("ServiceMonitor")
    assert rendered_services[service].kinds() == sorted(expected)
    for doc in rendered_services[service].docs:
        assert doc["metadata"]["name"] == service


@pytest.mark.parametrize("service", SERVICES)
def test_image_is_pulled_by_digest(rendered_services: dict[str, Rendered], service: str) -> None:
    rendered = rendered_services[service]
    assert rendered.container()["image"] == f"docker.io/techitfactory/{service}@{DIGEST}"
    # The tag is a label for humans, never part of what is pulled; nothing says `latest`.
    assert "latest" not in rendered.text()
    labels = rendered.one("Deployment")["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "sha-abc1234"


@pytest.mark.parametrize("service", SERVICES)
def test_probes(rendered_services: dict[str, Rendered], service: str) -> None:
    container = rendered_services[service].container()
    assert _port_number(container, "http") == PORTS[service]
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["httpGet"] == {"path": "/health", "port": "http"}
    assert readiness["httpGet"] == {"path": "/health" if service == "frontend" else "/ready", "port": "http"}
    assert container["startupProbe"]["httpGet"]["path"] == "/health"
    if service in APIS:
        # /ready pings MongoDB: the order service's may take ~3 s.
        assert readiness["timeoutSeconds"] >= 4


def test_probe_timings_come_from_values() -> None:
    values = service_values(
        "order",
        env_values("order"),
        {"probes": {"readiness": {"timeoutSeconds": 7, "periodSeconds": 15}, "startup": {"enabled": False}}},
    )
    container = render(SERVICE_CHART, values, name="order").container()
    assert (container["readinessProbe"]["timeoutSeconds"], container["readinessProbe"]["periodSeconds"]) == (7, 15)
    assert "startupProbe" not in container


@pytest.mark.parametrize("service", SERVICES)
def test_restricted_security_context(rendered_services: dict[str, Rendered], service: str) -> None:
    deployment = rendered_services[service].one("Deployment")
    pod = deployment["spec"]["template"]["spec"]
    container = rendered_services[service].container()
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == UIDS[service]
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    assert pod["serviceAccountName"] == service
    ctx = container["securityContext"]
    assert ctx["runAsNonRoot"] is True and ctx["runAsUser"] == UIDS[service]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["privileged"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}
    # The only writable path: /tmp (nginx.conf keeps its pid and temp files under /tmp/nginx).
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]
    resources = container["resources"]
    assert set(resources["requests"]) == {"cpu", "memory"} and set(resources["limits"]) == {"cpu", "memory"}
    assert rendered_services[service].one("ServiceAccount")["automountServiceAccountToken"] is False


def test_frontend_listens_on_8080_behind_service_port_80(rendered_services: dict[str, Rendered]) -> None:
    rendered = rendered_services["frontend"]
    container = rendered.container()
    assert _env(container)["NGINX_PORT"] == "8080"
    assert _port_number(container, "http") == 8080
    assert rendered.one("Service")["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}
    ]
    # No API proxies on the cluster: the ALB routes /api/*.
    assert not {"PRODUCT_API_URL", "CART_API_URL", "ORDER_API_URL", "MONGODB_URI"} & set(_env(container))


@pytest.mark.parametrize("service", APIS)
def test_api_environment(rendered_services: dict[str, Rendered], service: str) -> None:
    env = _env(rendered_services[service].container())
    assert env["PORT"] == str(PORTS[service])
    assert env["LOG_LEVEL"] == "info"
    assert env["MONGODB_URI"] == {"secretKeyRef": {"name": "mongodb-uri", "key": "uri"}}
    if service == "product":
        assert env["SEED_CATALOG"] == "true"
    if service == "cart":
        assert env["PRODUCT_SERVICE_URL"] == "http://product:3001"
    if service == "order":
        assert env["CART_SERVICE_URL"] == "http://cart:3002"
    if service != "product":
        assert int(env["UPSTREAM_TIMEOUT_MS"]) > 0
    names = [item["name"] for item in rendered_services[service].container()["env"]]
    assert len(names) == len(set(names))


def test_env_layers_add_override_and_remove() -> None:
    values = service_values(
        "cart", env_values("cart"),
        {"env": {"LOG_LEVEL": "debug", "UPSTREAM_TIMEOUT_MS": None, "FEATURE_X": True},
         "secretEnv": {"API_KEY": {"secret": "cart-keys", "key": "api"}}},
    )
    env = _env(render(SERVICE_CHART, values, name="cart").container())
    assert env["LOG_LEVEL"] == "debug"
    assert env["FEATURE_X"] == "true"
    assert "UPSTREAM_TIMEOUT_MS" not in env
    assert env["API_KEY"] == {"secretKeyRef": {"name": "cart-keys", "key": "api"}}


@pytest.mark.parametrize("service", SERVICES)
def test_selectors_match_the_pods(rendered_services: dict[str, Rendered], service: str) -> None:
    rendered = rendered_services[service]
    deployment = rendered.one("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert "app.kubernetes.io/version" not in selector  # selectors are immutable; versions change
    service_obj = rendered.one("Service")
    assert service_obj["spec"]["selector"] == selector
    assert service_obj["spec"]["ports"][0]["port"] == SERVICE_PORTS[service]
    assert rendered.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [item["topologyKey"] for item in spread] == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert all(item["labelSelector"]["matchLabels"] == selector for item in spread)


@pytest.mark.parametrize("service", SERVICES)
def test_autoscaling_and_disruption_budget(rendered_services: dict[str, Rendered], service: str) -> None:
    rendered = rendered_services[service]
    hpa = rendered.one("HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["spec"]["minReplicas"] == 2  # the environment's replicaCount
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    # The HPA owns the replica count: Argo CD must not reset it on every sync.
    assert "replicas" not in rendered.one("Deployment")["spec"]
    pdb = rendered.one("PodDisruptionBudget")
    assert pdb["apiVersion"] == "policy/v1" and pdb["spec"]["maxUnavailable"] == 1


def test_without_autoscaling_replicas_come_from_values() -> None:
    values = service_values("product", env_values("product"), {"autoscaling": {"enabled": False}, "replicaCount": 3})
    rendered = render(SERVICE_CHART, values, name="product")
    assert rendered.one("Deployment")["spec"]["replicas"] == 3
    assert "HorizontalPodAutoscaler" not in rendered.kinds()


@pytest.mark.parametrize("service", SERVICES)
def test_ingress_for_the_alb_controller(rendered_services: dict[str, Rendered], service: str) -> None:
    ingress = rendered_services[service].one("Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/group.name"] == "techitfactory-shop"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == (
        "/health" if service == "frontend" else "/ready"
    )
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTP": 80}]'
    (rule,) = ingress["spec"]["rules"]
    assert "host" not in rule
    paths = rule["http"]["paths"]
    assert [path["path"] for path in paths] == INGRESS_PATHS[service]
    for path in paths:
        assert path["pathType"] == "Prefix"
        assert path["backend"] == {"service": {"name": service, "port": {"name": "http"}}}


def test_frontend_catch_all_is_the_last_rule_of_the_group(rendered_services: dict[str, Rendered]) -> None:
    orders = {
        service: int(rendered.one("Ingress")["metadata"]["annotations"]["alb.ingress.kubernetes.io/group.order"])
        for service, rendered in rendered_services.items()
    }
    assert orders["frontend"] > max(orders[api] for api in APIS)
    assert len(set(orders.values())) == len(orders)  # a deterministic rule order


def test_ingress_with_host_and_certificate() -> None:
    arn = "arn:aws:acm:ap-south-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
    values = service_values(
        "order", env_values("order"),
        {"ingress": {"host": "dev.techitfactory.com", "certificateArn": arn, "scheme": "internal",
                     "annotations": {"alb.ingress.kubernetes.io/wafv2-acl-arn": "arn:aws:wafv2:x"}}},
    )
    ingress = render(SERVICE_CHART, values, name="order").one("Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert ingress["spec"]["rules"][0]["host"] == "dev.techitfactory.com"
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == arn
    assert annotations["alb.ingress.kubernetes.io/listen-ports"] == '[{"HTTP": 80}, {"HTTPS": 443}]'
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internal"
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == "arn:aws:wafv2:x"


@pytest.mark.parametrize("service", APIS)
def test_service_monitor_scrapes_metrics(
    rendered_services: dict[str, Rendered], service_monitor_schema: dict[str, Any], service: str
) -> None:
    rendered = rendered_services[service]
    monitor = rendered.one("ServiceMonitor")
    jsonschema.Draft7Validator(service_monitor_schema).validate(monitor)
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["port"] == "http"
    assert endpoint["port"] in {port["name"] for port in rendered.one("Service")["spec"]["ports"]}
    assert monitor["spec"]["selector"]["matchLabels"].items() <= rendered.one("Service")["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_service_monitor_schema_check_can_fail(
    rendered_services: dict[str, Rendered], service_monitor_schema: dict[str, Any]
) -> None:
    """The CRD schema really constrains the object (a port given as a number is refused)."""
    monitor = rendered_services["product"].one("ServiceMonitor")
    broken = {**monitor, "spec": {**monitor["spec"], "endpoints": [{"port": 3001, "path": "/metrics"}]}}
    with pytest.raises(jsonschema.ValidationError, match="3001 is not of type 'string'"):
        jsonschema.Draft7Validator(service_monitor_schema).validate(broken)


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("service", SERVICES)
def test_manifests_are_valid_kubernetes(rendered_services: dict[str, Rendered], service: str, version: str) -> None:
    assert kubernetes_errors(rendered_services[service].docs, version) == []


def test_kubernetes_validation_can_fail(rendered_services: dict[str, Rendered]) -> None:
    """Strict mode rejects an unknown field: the check above is not vacuous."""
    deployment = rendered_services["cart"].one("Deployment")
    broken = {**deployment, "spec": {**deployment["spec"], "replicaz": 2}}
    (error,) = kubernetes_errors([broken], KUBERNETES_VERSIONS[0])
    assert "replicaz" in error


@pytest.mark.parametrize("service", SERVICES)
def test_helm_lint_is_clean(service: str) -> None:
    report = helm.lint(SERVICE_CHART, service_values(service, env_values(service)), strict=True, namespace="shop")
    assert report["errors"] == []
    assert [msg for msg in report["messages"] if msg["severity"] >= 2] == []


@pytest.mark.parametrize("service", SERVICES)
def test_user_is_the_one_the_image_runs_as(rendered_services: dict[str, Rendered], service: str) -> None:
    """runAsUser/runAsGroup equal the Dockerfile's numeric USER: files the image made readable to
    that user stay readable, and runAsNonRoot can verify the number."""
    dockerfile = (REPO_ROOT / "services" / service / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\d+):(\d+)\s*$", dockerfile, flags=re.MULTILINE)
    assert users, f"services/{service}/Dockerfile has no numeric USER uid:gid"
    uid, gid = users[-1]
    ctx = rendered_services[service].container()["securityContext"]
    assert (ctx["runAsUser"], ctx["runAsGroup"]) == (int(uid), int(gid))


def test_nginx_writes_only_under_the_writable_mounts(rendered_services: dict[str, Rendered]) -> None:
    """With a read-only root filesystem nginx can write only to the emptyDir mounts: every pid and
    temp path of services/frontend/nginx/nginx.conf and the entrypoint's run dir must be under one,
    and logs must go to the container's stdout/stderr."""
    nginx = REPO_ROOT / "services" / "frontend" / "nginx"
    conf = (nginx / "nginx.conf").read_text(encoding="utf-8")
    written = re.findall(r"^\s*(?:pid|\w+_temp_path)\s+(\S+?);", conf, flags=re.MULTILINE)
    assert len(written) == 6, written  # pid + client_body, proxy, fastcgi, uwsgi, scgi
    written += re.findall(r"^run_dir=(\S+)$", (nginx / "entrypoint.sh").read_text(encoding="utf-8"), flags=re.MULTILINE)
    mounts = [mount["mountPath"] for mount in rendered_services["frontend"].container()["volumeMounts"]]
    for path in written:
        assert any(path == mount or path.startswith(mount.rstrip("/") + "/") for mount in mounts), path
    for log in re.findall(r"^\s*(?:error_log|access_log)\s+(\S+)", conf, flags=re.MULTILINE):
        assert log in {"/dev/stdout", "/dev/stderr"}, log


@pytest.mark.parametrize("service", SERVICES)
def test_shutdown_outlasts_alb_deregistration(rendered_services: dict[str, Rendered], service: str) -> None:
    """The pod keeps serving while the ALB deregisters it, and is killed only after the pause plus
    the process's own graceful shutdown."""
    rendered = rendered_services[service]
    pod = rendered.one("Deployment")["spec"]["template"]["spec"]
    pause = rendered.container()["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause == 10
    env = _env(rendered.container())
    own = int(env.get("SHUTDOWN_TIMEOUT_MS", 0)) / 1000 + int(env.get("SHUTDOWN_TIMEOUT_S", 0))
    assert pod["terminationGracePeriodSeconds"] >= pause + own
    attributes = rendered.one("Ingress")["metadata"]["annotations"]["alb.ingress.kubernetes.io/target-group-attributes"]
    assert attributes == "deregistration_delay.timeout_seconds=30"
