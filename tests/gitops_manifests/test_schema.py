"""Every Application and AppProject of gitops/ against the Argo CD CRD schemas (../shared/schemas/)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.gitops_manifests.manifests import SchemaSet, load_docs


def test_rendered_applications_match_the_application_crd(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet
) -> None:
    problems: list[str] = []
    for env, docs in rendered.items():
        assert docs, f"gitops/apps rendered nothing for {env}"
        for doc in docs:
            assert doc["kind"] == "Application", f"{env}: gitops/apps renders only Applications, got {doc['kind']}"
            problems += schemas.errors(doc, label=f"gitops/apps ({env})")
    assert problems == []


def test_bootstrap_projects_and_root_application_match_their_crds(
    bootstrap: dict[str, list[dict[str, Any]]], schemas: SchemaSet
) -> None:
    problems: list[str] = []
    for env, docs in bootstrap.items():
        assert sorted(d["kind"] for d in docs) == ["AppProject", "AppProject", "AppProject", "Application"], env
        for doc in docs:
            problems += schemas.errors(doc, label=f"gitops/bootstrap/{env}.yaml")
    assert problems == []


def test_the_shared_validator_script_accepts_every_manifest(
    schema_dir: Path,
    gitops: Path,
    rendered: dict[str, list[dict[str, Any]]],
    bootstrap: dict[str, list[dict[str, Any]]],
    tmp_path: Path,
) -> None:
    """The helper that ships with the schemas, run as its README says, on the same files."""
    import yaml

    files = sorted(str(p) for p in (gitops / "bootstrap").glob("*.yaml"))
    for env, docs in rendered.items():
        out = tmp_path / f"apps-{env}.yaml"
        out.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        files.append(str(out))
    result = subprocess.run(
        [sys.executable, str(schema_dir / "validate_manifests.py"), *files],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(d) for d in rendered.values()) + sum(len(d) for d in bootstrap.values())
    assert f"checked {count} document(s): ok" in result.stdout


def test_strictness_keeps_the_upstream_valid_examples_valid(schema_dir: Path, schemas: SchemaSet) -> None:
    """Closing the objects must not reject anything the CRDs define (no false alarms)."""
    examples = sorted(schema_dir.glob("examples/App*-valid*.yaml"))
    assert examples, f"no Application/AppProject examples in {schema_dir / 'examples'}"
    for path in examples:
        for doc in load_docs(path.read_text()):
            if doc.get("kind") in {"Application", "AppProject"}:
                assert schemas.errors(doc, label=path.name) == []


# --- bad input: the check can fail, and says where -------------------------------------------


def _first_service_app(rendered: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return copy.deepcopy(next(d for d in rendered["dev"] if d["metadata"]["name"] == "product-dev"))


def test_a_misspelt_field_fails_and_the_message_names_it(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet, upstream_schemas: SchemaSet
) -> None:
    app = _first_service_app(rendered)
    app["spec"]["sorces"] = app["spec"].pop("sources")
    problems = schemas.errors(app, label="gitops/apps (dev)")
    assert "gitops/apps (dev) Application/product-dev: $.spec: Additional properties are not allowed " \
           "('sorces' was unexpected)" in problems
    # Why the check is strict: the CRD schema as converted leaves objects open and misses it
    # (the API server would refuse it; Argo CD would see an Application without a source).
    assert not any("sorces" in p for p in upstream_schemas.errors(app))


def test_a_misspelt_nested_field_fails_with_its_path(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet
) -> None:
    app = _first_service_app(rendered)
    app["spec"]["syncPolicy"]["retry"]["backof"] = app["spec"]["syncPolicy"]["retry"].pop("backoff")
    assert schemas.errors(app) == [
        "Application/product-dev: $.spec.syncPolicy.retry: Additional properties are not allowed "
        "('backof' was unexpected)"
    ]


def test_a_misspelt_metadata_field_fails(rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet) -> None:
    app = _first_service_app(rendered)
    app["metadata"]["anotations"] = app["metadata"].pop("annotations")
    assert schemas.errors(app) == [
        "Application/product-dev: $.metadata: Additional properties are not allowed ('anotations' was unexpected)"
    ]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda a: a["spec"].pop("project"), "$.spec: 'project' is a required property"),
        (
            lambda a: a["spec"]["syncPolicy"]["retry"].__setitem__("limit", "five"),
            "$.spec.syncPolicy.retry.limit: 'five' is not of type 'integer'",
        ),
        (lambda a: a.__setitem__("apiVersion", "argoproj.io/v1beta1"), "no schema argoproj.io_Application_v1beta1.json"),
    ],
    ids=["missing-project", "wrong-type", "unknown-version"],
)
def test_other_bad_applications_fail(
    rendered: dict[str, list[dict[str, Any]]], schemas: SchemaSet, mutate: Any, expected: str
) -> None:
    app = _first_service_app(rendered)
    mutate(app)
    problems = schemas.errors(app)
    assert any(expected in p for p in problems), problems


def test_the_shared_validator_script_fails_on_a_broken_file(
    schema_dir: Path, tmp_path: Path, bootstrap: dict[str, list[dict[str, Any]]]
) -> None:
    import yaml

    docs = copy.deepcopy(bootstrap["dev"])
    docs[0]["spec"]["destinations"] = "oops"
    broken = tmp_path / "dev.yaml"
    broken.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    result = subprocess.run(
        [sys.executable, str(schema_dir / "validate_manifests.py"), str(broken)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "AppProject/shop-dev-root: $.spec.destinations" in result.stdout
