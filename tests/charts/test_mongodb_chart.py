"""charts/mongodb: the in-cluster StatefulSet (volume, credentials from a Secret, restricted
security context, headless Service, mongosh readiness) and the external (Atlas) mode that
renders nothing, through Helm's engine and the Kubernetes schemas."""

from __future__ import annotations

from typing import Any

import helm_python as helm
import pytest

from tests.charts.render import DIGEST, KUBERNETES_VERSIONS, MONGODB_CHART, Rendered, kubernetes_errors, render


@pytest.fixture(scope="module")
def mongodb() -> Rendered:
    return render(MONGODB_CHART, None, name="mongodb")


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item.get("value", item.get("valueFrom")) for item in container["env"]}


def test_in_cluster_objects(mongodb: Rendered) -> None:
    assert mongodb.kinds() == ["ConfigMap", "NetworkPolicy", "Service", "StatefulSet"]


def test_statefulset_keeps_its_data_on_a_volume(mongodb: Rendered) -> None:
    sts = mongodb.one("StatefulSet")["spec"]
    assert sts["replicas"] == 1
    assert sts["serviceName"] == "mongodb"
    (claim,) = sts["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert sts["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    mounts = {mount["mountPath"]: mount["name"] for mount in mongodb.container()["volumeMounts"]}
    assert mounts["/data/db"] == "data"
    assert mounts["/tmp"] == "tmp"


def test_image_defaults_to_mongo_7_and_takes_a_digest(mongodb: Rendered) -> None:
    assert mongodb.container()["image"] == "mongo:7.0"
    pinned = render(MONGODB_CHART, {"image": {"digest": DIGEST}}, name="mongodb")
    assert pinned.container()["image"] == f"mongo:7.0@{DIGEST}"


def test_credentials_come_from_the_auth_secret(mongodb: Rendered) -> None:
    env = _env(mongodb.container())
    assert env["MONGO_INITDB_ROOT_USERNAME"] == {"secretKeyRef": {"name": "mongodb-auth", "key": "root-username"}}
    assert env["MONGO_INITDB_ROOT_PASSWORD"] == {"secretKeyRef": {"name": "mongodb-auth", "key": "root-password"}}
    assert env["MONGO_APP_PASSWORD"] == {"secretKeyRef": {"name": "mongodb-auth", "key": "app-password"}}
    assert env["MONGO_APP_DATABASE"] == "shop"
    # No credential is ever rendered into the chart's output.
    assert "Secret" not in mongodb.kinds()
    script = mongodb.one("ConfigMap")["data"]["10-app-user.js"]
    assert "process.env" in script and "readWrite" in script


def test_restricted_security_context(mongodb: Rendered) -> None:
    pod = mongodb.one("StatefulSet")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 999
    assert pod["securityContext"]["fsGroup"] == 999
    assert pod["automountServiceAccountToken"] is False
    ctx = mongodb.container()["securityContext"]
    assert ctx["readOnlyRootFilesystem"] is True
    assert ctx["allowPrivilegeEscalation"] is False
    assert ctx["capabilities"] == {"drop": ["ALL"]}
    assert ctx["seccompProfile"] == {"type": "RuntimeDefault"}


def test_headless_service_and_probes(mongodb: Rendered) -> None:
    service = mongodb.one("Service")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["ports"][0]["port"] == 27017
    container = mongodb.container()
    command = container["readinessProbe"]["exec"]["command"]
    assert command[0] == "mongosh" and "db.adminCommand({ ping: 1 })" in command[-1]
    assert container["livenessProbe"]["tcpSocket"] == {"port": "mongodb"}


def test_only_the_shop_may_connect(mongodb: Rendered) -> None:
    policy = mongodb.one("NetworkPolicy")["spec"]
    assert policy["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "techitfactory-shop"}}}
    ]


def test_external_mode_renders_no_workload() -> None:
    external = render(MONGODB_CHART, {"external": {"enabled": True}}, name="mongodb")
    assert external.docs == []
    assert "mongodb-uri" in external.files["mongodb/templates/NOTES.txt"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_valid_kubernetes(mongodb: Rendered, version: str) -> None:
    assert kubernetes_errors(mongodb.docs, version) == []


def test_helm_lint_is_clean() -> None:
    report = helm.lint(MONGODB_CHART, strict=True, namespace="shop")
    assert report["errors"] == []
    assert [msg for msg in report["messages"] if msg["severity"] >= 2] == []


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"image": {"tag": "latest"}}, "at '/image/tag'"),
        ({"image": {"digest": "sha256:abc"}}, "at '/image/digest'"),
        ({"external": {"enabled": "true"}}, "at '/external/enabled': got string, want boolean"),
        ({"persistence": {"size": "ten gigs"}}, "at '/persistence/size'"),
        ({"replicas": 3}, "additional properties 'replicas' not allowed"),
    ],
)
def test_schema_rejects_bad_values(values: dict[str, Any], expected: str) -> None:
    with pytest.raises(helm.HelmValuesError) as caught:
        render(MONGODB_CHART, values, name="mongodb")
    assert expected in str(caught.value)


def test_missing_auth_secret_name_fails() -> None:
    with pytest.raises(helm.HelmRenderError, match="auth.existingSecret is empty"):
        render(MONGODB_CHART, {"auth": {"existingSecret": ""}}, name="mongodb")
