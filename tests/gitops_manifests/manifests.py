"""Helpers of the gitops/ manifest tests: Helm rendering, CRD schema checks, value layering.

Rendering goes through Helm's own engine (PyPI helm-python-sdk binds Helm's Go SDK), the schema
checks through the Argo CD CRD schemas in ../shared/schemas/ (draft-07, converted from the CRDs).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

# The API server validates metadata itself; the CRD schemas only say `type: object`. This is
# the part of ObjectMeta a manifest in git may set (status-like fields are the server's).
_DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_META: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "maxLength": 253, "pattern": _DNS_SUBDOMAIN},
        "namespace": {"type": "string", "maxLength": 63, "pattern": _DNS_LABEL},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": {"type": "string"}},
    },
}


def close_objects(schema: Any) -> Any:
    """A copy of `schema` in which every object that lists `properties` and says nothing about
    `additionalProperties` refuses unknown keys.

    The converted CRD schemas keep the CRDs' open objects, so a misspelt field (`spec.sorce`)
    passes them, while the API server with strict field validation (kubectl's default) refuses
    it. Objects the CRD leaves free-form (no `properties`, e.g. `helm.valuesObject`) stay open.
    """
    schema = copy.deepcopy(schema)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return schema


@dataclass(frozen=True)
class SchemaSet:
    """Validators by (apiVersion, kind), from the folder of converted CRD schemas."""

    folder: Path
    strict: bool = True

    def validator(self, api_version: str, kind: str) -> Draft7Validator:
        group, version = api_version.rsplit("/", 1)
        path = self.folder / f"{group}_{kind}_{version}.json"
        if not path.is_file():
            raise LookupError(f"no schema {path.name} for apiVersion {api_version} kind {kind}")
        return _validator(path, self.strict)

    def errors(self, doc: Mapping[str, Any], label: str = "") -> list[str]:
        """One line per problem: `<label> <Kind>/<name>: <json path>: <message>`."""
        kind = str(doc.get("kind"))
        name = (doc.get("metadata") or {}).get("name")
        where = f"{label} {kind}/{name}".strip()
        try:
            validator = self.validator(str(doc.get("apiVersion", "")), kind)
        except (LookupError, ValueError) as exc:
            return [f"{where}: {exc}"]
        problems = sorted(validator.iter_errors(dict(doc)), key=lambda e: (e.json_path, e.message))
        return [f"{where}: {err.json_path}: {err.message}" for err in problems]


_CACHE: dict[tuple[Path, bool], Draft7Validator] = {}


def _validator(path: Path, strict: bool) -> Draft7Validator:
    key = (path, strict)
    if key not in _CACHE:
        schema = json.loads(path.read_text(encoding="utf-8"))
        if strict:
            schema = close_objects(schema)
            schema["properties"]["metadata"] = OBJECT_META
            schema.setdefault("required", [])
            if "metadata" not in schema["required"]:
                schema["required"].append("metadata")
        Draft7Validator.check_schema(schema)
        _CACHE[key] = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    return _CACHE[key]


def load_docs(text: str) -> list[dict[str, Any]]:
    """The non-empty YAML documents of a (multi-document) manifest."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def render_apps(chart_dir: Path, environment: str, extra: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Render gitops/apps with values-<environment>.yaml (and `extra` on top) through Helm."""
    values = load_values(chart_dir / f"values-{environment}.yaml")
    if extra:
        values = deep_merge(values, extra)
    return render_chart(chart_dir, values, release=f"shop-{environment}", namespace="argocd")


def render_chart(chart_dir: Path, values: Mapping[str, Any], *, release: str, namespace: str) -> list[dict[str, Any]]:
    """Every object the chart renders with `values` layered on its defaults (as `helm template`)."""
    import helm_python as helm

    with helm.Chart.load(str(chart_dir)) as chart:
        rendered = chart.render(values=dict(values), name=release, namespace=namespace)
    docs: list[dict[str, Any]] = []
    for name in sorted(rendered):
        if name.endswith(".yaml") or name.endswith(".yml"):
            docs.extend(load_docs(rendered[name]))
    return docs


def load_values(path: Path) -> dict[str, Any]:
    """A Helm values file as a dict (an empty file is `{}`)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a values file must be a mapping, got {type(data).__name__}")
    return data


def deep_merge(base: Mapping[str, Any], *layers: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's layering of `-f a.yaml -f b.yaml`: maps merge key by key, anything else is
    replaced by the later layer, and null deletes the key."""
    result: dict[str, Any] = copy.deepcopy(dict(base))
    for layer in layers:
        for key, value in layer.items():
            if value is None:
                result.pop(key, None)
            elif isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
                result[key] = deep_merge(result[key], value)
            else:
                result[key] = copy.deepcopy(value)
    return result


def applications(docs: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The Application objects by name."""
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Application"}


def projects(docs: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The AppProject objects by name."""
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == "AppProject"}


def sources(app: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """An Application's sources, single- or multi-source."""
    spec = app["spec"]
    if "sources" in spec:
        return list(spec["sources"])
    return [spec["source"]]
