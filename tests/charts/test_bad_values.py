"""Bad input to the charts fails the render with one message naming the key, through Helm's own
engine: `fail` in the templates and values.schema.json (draft-07) checked by Helm."""

from __future__ import annotations

import json
from typing import Any

import helm_python as helm
import jsonschema
import pytest

from tests.charts.render import (
    MONGODB_CHART,
    SERVICE_CHART,
    env_values,
    render,
    render_service,
    service_values,
)


def _render_error(values: dict[str, Any], error: type[helm.HelmError], *, chart: Any = SERVICE_CHART) -> str:
    with pytest.raises(error) as caught:
        render(chart, values, name="product")
    return str(caught.value)


@pytest.mark.parametrize("chart", [SERVICE_CHART, MONGODB_CHART], ids=["service", "mongodb"])
def test_schemas_are_draft_07(chart: Any) -> None:
    schema = json.loads((chart / "values.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema)
    assert schema["additionalProperties"] is False


def test_empty_digest_fails_with_what_to_run() -> None:
    message = _render_error(service_values("product", env_values("product", digest="")), helm.HelmRenderError)
    assert message.endswith("image.digest is empty for product: run devops release --env <environment>")


def test_empty_digest_names_the_environment_when_known() -> None:
    values = service_values("cart", env_values("cart", digest=""), {"global": {"environment": "prod"}})
    message = _render_error(values, helm.HelmRenderError)
    assert message.endswith("image.digest is empty for cart: run devops release --env prod")


def test_chart_defaults_alone_do_not_render() -> None:
    """Without a service's values there is no image: the render stops instead of guessing."""
    with pytest.raises(helm.HelmRenderError, match="image.repository is empty for demo"):
        render(SERVICE_CHART, None, name="demo")


@pytest.mark.parametrize(
    ("override", "pointer", "detail"),
    [
        ({"image": {"digest": "sha256:xyz"}}, "/image/digest", "does not match pattern"),
        ({"image": {"digest": "sha256:" + "A" * 64}}, "/image/digest", "does not match pattern"),
        ({"image": {"digest": "md5:" + "a" * 32}}, "/image/digest", "does not match pattern"),
        ({"replicaCount": -1}, "/replicaCount", "minimum: got -1, want 0"),
        ({"replicaCount": "two"}, "/replicaCount", "got string, want integer"),
        ({"port": 70000}, "/port", "maximum"),
        ({"probes": {"readiness": {"timeoutSeconds": 0}}}, "/probes/readiness/timeoutSeconds", "minimum"),
        ({"probes": {"readiness": {"path": "ready"}}}, "/probes/readiness/path", "does not match pattern"),
        ({"securityContext": {"runAsUser": 0}}, "/securityContext/runAsUser", "minimum: got 0, want 1"),
        # Helm's validator reports property names at the root, but names the key.
        ({"env": {"BAD-NAME": "x"}}, "", "invalid propertyName 'BAD-NAME'"),
        ({"ingress": {"groupOrder": 5000}}, "/ingress/groupOrder", "maximum"),
        ({"ingress": {"certificateArn": "not-an-arn"}}, "/ingress/certificateArn", "does not match pattern"),
        ({"serviceMonitor": {"interval": "30 seconds"}}, "/serviceMonitor/interval", "does not match pattern"),
        ({"autoscaling": {"enabled": "yes please"}}, "/autoscaling/enabled", "got string, want boolean"),
    ],
)
def test_schema_rejects_bad_values(override: dict[str, Any], pointer: str, detail: str) -> None:
    message = _render_error(service_values("product", env_values("product"), override), helm.HelmValuesError)
    assert f"at '{pointer}'" in message, message
    assert detail in message, message


@pytest.mark.parametrize(
    ("override", "where", "key"),
    [
        ({"replicaz": 3}, "''", "replicaz"),
        ({"image": {"digets": "sha256:" + "a" * 64}}, "'/image'", "digets"),
        ({"ingress": {"path": "/api"}}, "'/ingress'", "path"),
        ({"probes": {"readiness": {"timeout": 3}}}, "'/probes/readiness'", "timeout"),
    ],
)
def test_schema_rejects_unknown_keys_by_name(override: dict[str, Any], where: str, key: str) -> None:
    message = _render_error(service_values("product", env_values("product"), override), helm.HelmValuesError)
    assert f"at {where}: additional properties '{key}' not allowed" in message, message


def test_every_bad_value_is_reported_at_once() -> None:
    values = service_values("order", env_values("order", digest="sha256:1"), {"replicaCount": -2, "colour": "x"})
    message = _render_error(values, helm.HelmValuesError)
    for part in ("/image/digest", "/replicaCount", "'colour'"):
        assert part in message


def test_max_replicas_below_the_floor() -> None:
    values = service_values("cart", env_values("cart", replicaCount=5), {"autoscaling": {"maxReplicas": 3}})
    message = _render_error(values, helm.HelmRenderError)
    assert message.endswith("autoscaling.maxReplicas (3) is below the minimum replicas (5) of cart")


def test_the_digest_is_never_replaced_by_the_tag() -> None:
    rendered = render_service("product", env_values("product", tag="latest"))
    assert rendered.container()["image"].endswith("@" + env_values("product")["image"]["digest"])
    assert ":latest" not in rendered.container()["image"]
    # A tag that is not a valid label value never reaches the labels.
    rendered = render_service("product", env_values("product", tag="v1.2.3_" + "x" * 70))
    assert "app.kubernetes.io/version" not in rendered.one("Deployment")["metadata"]["labels"]


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"env": {"MONGODB_URI": "mongodb://x"}},
         "MONGODB_URI of cart comes from Secret mongodb-uri (mongodb.enabled): remove it from env/secretEnv"),
        ({"env": {"API_KEY": "x"}, "secretEnv": {"API_KEY": {"secret": "keys", "key": "api"}}},
         "API_KEY is set in both env and secretEnv of cart: keep one"),
    ],
)
def test_a_variable_has_one_source(override: dict[str, Any], expected: str) -> None:
    values = service_values("cart", env_values("cart"), override)
    with pytest.raises(helm.HelmRenderError) as caught:
        render(SERVICE_CHART, values, name="cart")
    assert str(caught.value).endswith(expected)
