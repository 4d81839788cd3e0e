"""Every Argo CD object of gitops/ against the CRD schemas of ../shared/schemas (strict, with the
helpers tests/gitops_manifests uses, and with the schemas' own validate_manifests.py), and
Karpenter's NodePool/EC2NodeClass against shape schemas (tests/platform/schemas/README.md says
why they are not the CRDs)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

from tests.gitops_manifests.manifests import SchemaSet, load_docs, render_chart
from tests.platform.rules import Repo

ARGO_KINDS = {"Application", "AppProject", "ApplicationSet"}
SHAPES = Path(__file__).parent / "schemas"


def argo_documents(repo: Repo) -> list[tuple[str, dict[str, Any]]]:
    """(where, document) for every rendered child Application and every bootstrap document."""
    found: list[tuple[str, dict[str, Any]]] = []
    for env in repo.environments:
        found += [(f"gitops/apps ({env})", app) for app in repo.apps(env).values()]
        for doc in load_docs((repo.gitops / "bootstrap" / f"{env}.yaml").read_text()):
            found.append((f"gitops/bootstrap/{env}.yaml", doc))
    for path in sorted(repo.gitops.rglob("*.yaml")):
        if "templates" in path.parts or "bootstrap" in path.parts:
            continue
        for doc in load_docs(path.read_text()):
            if isinstance(doc, dict) and doc.get("kind") in ARGO_KINDS:
                found.append((str(path.relative_to(repo.root)), doc))
    return found


def test_every_application_project_and_applicationset_validates(repo: Repo, schema_dir: Path) -> None:
    schemas = SchemaSet(schema_dir, strict=True)
    docs = argo_documents(repo)
    kinds = {d["kind"] for _, d in docs}
    assert {"Application", "AppProject"} <= kinds
    problems = [p for where, doc in docs for p in schemas.errors(doc, label=where)]
    assert problems == []


def test_the_shared_validator_accepts_them_too(repo: Repo, schema_dir: Path, tmp_path: Path) -> None:
    docs = [doc for _, doc in argo_documents(repo)]
    out = tmp_path / "argo.yaml"
    out.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    result = subprocess.run([sys.executable, str(schema_dir / "validate_manifests.py"), str(out)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"checked {len(docs)} document(s): ok" in result.stdout


def test_control_a_broken_cluster_project_is_caught(repo: Repo, schema_dir: Path) -> None:
    schemas = SchemaSet(schema_dir, strict=True)
    project = copy.deepcopy(next(d for w, d in argo_documents(repo) if d["metadata"]["name"] == "cluster-prod"))
    project["spec"]["clusterResourceWhitelist"][0] = {"kind": "Namespace"}
    project["spec"]["destination"] = project["spec"].pop("destinations")
    problems = schemas.errors(project, label="bootstrap")
    assert "bootstrap AppProject/cluster-prod: $.spec.clusterResourceWhitelist[0]: 'group' is a required property" in problems
    assert any("('destination' was unexpected)" in p for p in problems), problems


# --- Karpenter (shape schemas) -------------------------------------------------------------------


def karpenter_objects(repo: Repo) -> list[dict[str, Any]]:
    values = repo.platform_values("prod", "karpenter-nodes")
    # The Terraform-derived values are empty until `devops cluster values` ran.
    values = {**values, "clusterName": "techitfactory-prod", "instanceProfile": "techitfactory-prod-karpenter-node"}
    return render_chart(repo.gitops / "platform" / "karpenter-nodes", values, release="karpenter-nodes",
                        namespace="kube-system")


def shape_errors(doc: dict[str, Any]) -> list[str]:
    group, version = doc["apiVersion"].rsplit("/", 1)
    schema = json.loads((SHAPES / f"{group}_{doc['kind']}_{version}.json").read_text())
    Draft7Validator.check_schema(schema)
    validator = Draft7Validator(schema)
    return sorted(f"{doc['kind']}/{doc['metadata']['name']}: {e.json_path}: {e.message}" for e in validator.iter_errors(doc))


def test_nodepool_and_ec2nodeclass_have_the_v1_shape(repo: Repo) -> None:
    docs = karpenter_objects(repo)
    assert sorted(d["kind"] for d in docs) == ["EC2NodeClass", "NodePool"]
    assert [p for d in docs for p in shape_errors(d)] == []
    nodepool = next(d for d in docs if d["kind"] == "NodePool")
    nodeclass = next(d for d in docs if d["kind"] == "EC2NodeClass")
    assert nodepool["spec"]["template"]["spec"]["nodeClassRef"]["name"] == nodeclass["metadata"]["name"]
    # IMDSv2 with one hop, as the managed node groups' launch template.
    assert nodeclass["spec"]["metadataOptions"]["httpTokens"] == "required"
    assert nodeclass["spec"]["metadataOptions"]["httpPutResponseHopLimit"] == 1


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["spec"]["disruption"].__setitem__("consolidationPolicy", "WhenUnderutilized"),
         "NodePool/default: $.spec.disruption.consolidationPolicy: 'WhenUnderutilized' is not one of"),
        (lambda d: d["spec"]["template"]["spec"].__setitem__("nodeClasRef", {}),
         "NodePool/default: $.spec.template.spec: Additional properties are not allowed ('nodeClasRef' was unexpected)"),
    ],
    ids=["v1beta1-policy", "misspelt-field"],
)
def test_control_a_broken_nodepool_is_caught(repo: Repo, mutate: Any, expected: str) -> None:
    nodepool = copy.deepcopy(next(d for d in karpenter_objects(repo) if d["kind"] == "NodePool"))
    mutate(nodepool)
    assert any(p.startswith(expected) for p in shape_errors(nodepool)), shape_errors(nodepool)


def test_control_a_nodeclass_with_role_and_instance_profile_is_caught(repo: Repo) -> None:
    nodeclass = copy.deepcopy(next(d for d in karpenter_objects(repo) if d["kind"] == "EC2NodeClass"))
    nodeclass["spec"]["role"] = "techitfactory-prod-karpenter-node"
    assert any("is valid under each of" in p or "should not be valid" in p or "is not valid under any" in p
               for p in shape_errors(nodeclass)), shape_errors(nodeclass)


def test_the_nodeclass_refuses_to_render_without_terraform_values(repo: Repo) -> None:
    import helm_python as helm

    with pytest.raises(helm.HelmRenderError, match=r"clusterName is empty: run `devops cluster values --env <env>`"):
        render_chart(repo.gitops / "platform" / "karpenter-nodes", repo.platform_values("prod", "karpenter-nodes"),
                     release="karpenter-nodes", namespace="kube-system")
