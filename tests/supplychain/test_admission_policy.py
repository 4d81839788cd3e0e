"""The shop's admission policy (gitops/platform/admission, a Sigstore policy-controller
ClusterImagePolicy): rendered with Helm's own engine, validated against the CRD schema vendored
from policy-controller (tests/support/schemas/policy-controller/SOURCE.md) with unknown fields
refused, off by default, and requiring exactly the evidence the release signs. policy-controller
itself cannot run here: whether it admits a signed image is not checked (docs/supply-chain.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from devops.domain.attestation import EvidenceKind
from tests.gitops_manifests.manifests import render_apps, render_chart

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "gitops" / "platform" / "admission"
SCHEMA = ROOT / "tests" / "support" / "schemas" / "policy-controller" / "clusterimagepolicy-v1beta1.json"


def unknown_fields(value: Any, schema: dict[str, Any], path: str = "") -> list[str]:
    """Fields the structural schema does not declare (what the API server would prune and
    `kubectl --validate=strict` refuses)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    found: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key not in schema["properties"]:
                found.append(f"{path}.{key}")
            else:
                found += unknown_fields(item, schema["properties"][key], f"{path}.{key}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += unknown_fields(item, schema["items"], f"{path}[{index}]")
    return found


def validate(policy: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    assert policy["apiVersion"] == "policy.sigstore.dev/v1beta1" and policy["kind"] == "ClusterImagePolicy"
    body = {k: v for k, v in policy.items() if k in ("spec", "status")}
    jsonschema.validate(body, schema)
    assert unknown_fields(body, schema) == []


def render(**values: Any) -> list[dict[str, Any]]:
    return render_chart(CHART, values, release="admission", namespace="shop")


def test_the_chart_renders_nothing_by_default() -> None:
    assert render() == []


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_no_environment_syncs_it_unless_enabled(environment: str) -> None:
    names = [d["metadata"]["name"] for d in render_apps(ROOT / "gitops" / "apps", environment)]
    assert not any("admission" in n for n in names)
    enabled = render_apps(ROOT / "gitops" / "apps", environment, {"admission": {"enabled": True}})
    [app] = [d for d in enabled if "admission" in d["metadata"]["name"]]
    [source] = app["spec"]["sources"]
    assert source["path"].endswith("platform/admission") and source["helm"]["valuesObject"]["enabled"] is True


def test_the_enabled_policy_is_valid_against_the_crd_schema() -> None:
    [policy] = render(enabled=True)
    validate(policy)


def test_the_validation_catches_a_misspelt_field() -> None:
    """Control: the check is not vacuous."""
    [policy] = render(enabled=True)
    policy["spec"]["authorities"][0]["keyless"]["identity"] = policy["spec"]["authorities"][0]["keyless"].pop(
        "identities")
    with pytest.raises(AssertionError):
        validate(policy)
    policy["spec"]["authorities"][0]["keyless"]["identities"] = "not a list"
    with pytest.raises(jsonschema.ValidationError):
        validate(policy)


def test_it_requires_the_release_workflow_and_every_evidence_type() -> None:
    [policy] = render(enabled=True)
    [authority] = policy["spec"]["authorities"]
    assert authority["keyless"]["identities"] == [{
        "issuer": "https://token.actions.githubusercontent.com",
        "subject": "https://github.com/techitfactory/techitfactory-shop/.github/workflows/release.yml@refs/heads/main"}]
    required = {a["predicateType"] for a in authority["attestations"]}
    attested = {k.predicate_type for k in EvidenceKind if k is not EvidenceKind.SIGNATURE}
    assert required == attested
    verdicts = {a["name"]: a.get("policy", {}).get("data", "") for a in authority["attestations"]}
    assert 'verdict: "PASSED"' in verdicts["vulnerabilities"] and 'result: "PASSED"' in verdicts["verification"]
    assert policy["spec"]["mode"] == "enforce"
