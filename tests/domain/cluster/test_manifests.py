"""Manifests as bootstrap applies them (devops/domain/cluster/manifests.py)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from devops.domain.cluster import manifests
from devops.errors import BadInput

REPO = Path(__file__).resolve().parents[3]


def test_the_bootstrap_files_parse_into_projects_then_the_root_application() -> None:
    for env in ("dev", "prod"):
        found = manifests.parse_documents((REPO / f"gitops/bootstrap/{env}.yaml").read_text(), env)
        ordered = manifests.install_order(found)
        assert [o["kind"] for o in ordered] == ["AppProject"] * 3 + ["Application"]
        assert ordered[-1]["metadata"]["name"] == f"shop-{env}"


@pytest.mark.parametrize(("text", "message"), [
    ("a: [1, 2", "not valid YAML"),
    ("- 1\n- 2\n", "document 1 is not a Kubernetes object"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "document 1 is not a Kubernetes object"),
    ("---\n---\napiVersion: v1\nkind: ConfigMap\n", "document 2 is not"),
    ("a: &a [x]\nb: [" + ", ".join(["*a"] * 1100) + "]", "aliases"),
])
def test_what_is_not_a_list_of_objects_is_bad_input(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        manifests.parse_documents(text, "gitops/bootstrap/dev.yaml")


def test_size_limits_and_empty_documents() -> None:
    with pytest.raises(BadInput, match="larger than"):
        manifests.parse_documents("x" * 2000, "chart", limit=1000)
    with pytest.raises(BadInput, match="nested too deeply"):
        manifests.parse_documents("a: " + "[" * 2000 + "]" * 2000, "chart", limit=10**7)
    assert manifests.parse_documents("---\n# only a comment\n---\n", "chart") == []


def test_namespaces_are_given_to_namespaced_kinds_only() -> None:
    role = manifests.with_namespace({"kind": "ClusterRole", "metadata": {"name": "x", "namespace": "oops"}}, "argocd")
    assert "namespace" not in role["metadata"]
    config = manifests.with_namespace({"kind": "ConfigMap", "metadata": {"name": "x"}}, "argocd")
    assert config["metadata"]["namespace"] == "argocd"
    kept = manifests.with_namespace({"kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}, "argocd")
    assert kept["metadata"]["namespace"] == "other"


def test_install_order_is_helms_with_crds_first_and_argo_cd_kinds_last() -> None:
    kinds = ["Application", "Deployment", "Widget", "Namespace", "CustomResourceDefinition", "AppProject",
             "ServiceAccount"]
    ordered = manifests.install_order([{"kind": k} for k in kinds])
    assert [o["kind"] for o in ordered] == ["CustomResourceDefinition", "Namespace", "ServiceAccount", "Deployment",
                                            "Widget", "AppProject", "Application"]


def test_values_coalesce_like_helm() -> None:
    merged = manifests.merge_values({"a": {"b": 1, "c": 2}, "d": [1], "e": 1}, None,
                                    {"a": {"b": 3, "c": None}, "d": [2], "e": None}, {"f": {"g": 1}})
    assert merged == {"a": {"b": 3}, "d": [2], "f": {"g": 1}}


def test_contains_is_every_wanted_field_live() -> None:
    live = {"spec": {"replicas": 2, "template": {"labels": {"a": "b", "x": "y"}}, "ports": [{"port": 80, "p": "TCP"}]},
            "status": {"ready": True}, "flag": True}
    assert manifests.contains(live, {"spec": {"replicas": 2, "ports": [{"port": 80}]}})
    assert manifests.contains(live, {"spec": {"replicas": "2"}})  # a quantity as text
    assert not manifests.contains(live, {"spec": {"replicas": 3}})
    assert not manifests.contains(live, {"spec": {"missing": 1}})
    assert not manifests.contains(live, {"spec": {"ports": [{"port": 80}, {"port": 443}]}})
    assert not manifests.contains(live, {"spec": {"template": ["x"]}})
    assert not manifests.contains(live, {"flag": 1})
    assert manifests.contains(live, {"flag": True})
    assert not manifests.contains("text", {"a": 1})


def test_a_secret_string_data_compares_with_its_base64_data() -> None:
    wanted = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"token": "abc"}, "data": {"x": "eA=="}}
    live = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "uid": "1"},
            "data": {"token": base64.b64encode(b"abc").decode(), "x": "eA=="}}
    assert manifests.plan(wanted, live, "chart").action == "unchanged"
    assert manifests.plan(wanted, {**live, "data": {"token": "eHl6"}}, "chart").action == "update"


def test_plan_says_create_update_or_unchanged() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "argocd"},
           "data": {"a": "1"}}
    assert manifests.plan(obj, None, "x").action == "create"
    made = manifests.plan(obj, {**obj, "metadata": {**obj["metadata"], "uid": "u"}}, "x")
    assert made.action == "unchanged" and made.ref == "ConfigMap argocd/cm"
    assert manifests.plan(obj, {**obj, "data": {"a": "2"}}, "x").action == "update"
    scoped = manifests.plan({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "argocd"}}, None, "x")
    assert scoped.ref == "Namespace argocd" and scoped.namespace == ""


def test_an_object_defined_twice_is_bad_input() -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "argocd"}}
    manifests.check_unique([cm, {**cm, "metadata": {"name": "cm", "namespace": "other"}}], "x")
    with pytest.raises(BadInput, match="ConfigMap argocd/cm is defined twice"):
        manifests.check_unique([cm, dict(cm)], "chart and bootstrap")
