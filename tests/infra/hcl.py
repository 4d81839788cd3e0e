"""Read a Terraform folder with python-hcl2 into plain data the tests can assert on.

python-hcl2 (8.x) keeps HCL's quotes on block labels and string literals and adds
`__comments__`/`__is_block__` markers; `load_dir` removes both, so a string literal reads
`"10.0.1.0/24"` and an expression keeps its `${...}` form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {_unquote(k): plain(v) for k, v in node.items() if not (isinstance(k, str) and k.startswith("__"))}
    if isinstance(node, list):
        return [plain(item) for item in node]
    return _unquote(node)


def load_dir(folder: Path) -> dict[str, Any]:
    """All `*.tf` of one folder merged: {"resource": {type: {name: body}}, "variable": {...}, ...}."""
    import hcl2

    merged: dict[str, Any] = {"resource": {}, "data": {}, "variable": {}, "output": {}, "module": {},
                              "locals": {}, "terraform": [], "provider": []}
    for path in sorted(folder.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            doc = plain(hcl2.load(handle))
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        merged[kind].setdefault(rtype, {})[name] = body
        for kind in ("variable", "output", "module"):
            for block in doc.get(kind, []):
                merged[kind].update(block)
        for block in doc.get("locals", []):
            merged["locals"].update(block)
        merged["terraform"] += doc.get("terraform", [])
        merged["provider"] += doc.get("provider", [])
    return merged


def default(doc: dict[str, Any], variable: str) -> Any:
    return doc["variable"][variable].get("default")
