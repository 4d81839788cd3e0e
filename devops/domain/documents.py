"""Reading YAML and JSON documents that arrive as data, with bounds.

pipelines/devops.yaml, the values files and release records of the GitOps repository, and the
ignore files are written by whoever can push to a branch. A few hundred bytes of YAML aliases
("billion laughs") expand to gigabytes once anything walks the data, and deep nesting makes the
parsers recurse until Python gives up. So every such document is read here, and refused (a
`BadInput` naming the file, exit 2) when it is not UTF-8, larger than `MAX_BYTES`, nested deeper
than `MAX_DEPTH`, uses more than `MAX_ALIASES` aliases, would expand to more than
`MAX_EXPANDED_NODES` nodes, or (JSON) holds NaN, Infinity or a number too large to be finite.
"""

from __future__ import annotations

import json
import math
import re
import threading
from pathlib import Path
from typing import Any

from devops.errors import BadInput

# Far above any real config, values file or record (the shop's config is ~600 nodes, 20 KB).
MAX_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 1000
MAX_EXPANDED_NODES = 200_000


def read_text(path: Path, shown: str | None = None, *, limit: int = MAX_BYTES) -> str:
    """The UTF-8 text of `path`; BadInput naming it when unreadable, too large or not UTF-8."""
    shown = shown or str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise BadInput(f"{shown}: cannot read: {exc.strerror or exc}") from None
    return decode(data, shown, limit=limit)


def decode(data: bytes, shown: str, *, limit: int = MAX_BYTES) -> str:
    if len(data) > limit:
        raise BadInput(f"{shown}: larger than {limit // 1024} KiB; this is not a file devops reads")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(f"{shown}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


# -- YAML --------------------------------------------------------------------------------------

def _yaml_problem(exc: Exception, shown: str) -> BadInput:
    mark = getattr(exc, "problem_mark", None)
    where = f":{mark.line + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return BadInput(f"{shown}{where}: not valid YAML: {problem}")


def compose_yaml(text: str, shown: str) -> Any:
    """The node graph of a YAML document (ruamel round-trip composer), bounded; None when empty."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if len(text) > MAX_BYTES:
        raise BadInput(f"{shown}: larger than {MAX_BYTES // 1024} KiB; this is not a file devops reads")
    if bracket_depth(text) > MAX_DEPTH:  # strings included: an over-estimate, never an under-estimate
        raise BadInput(f"{shown}: nested deeper than {MAX_DEPTH} levels of [ ] or {{ }}")
    try:
        node = YAML(typ="rt").compose(text)
    except YAMLError as exc:
        raise _yaml_problem(exc, shown) from None
    except RecursionError:
        raise BadInput(f"{shown}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    if node is not None:
        check_yaml_bounds(node, shown)
    return node


_FAST = threading.local()


def _fast_safe_data(text: str, shown: str) -> tuple[bool, Any]:
    """(True, data) through libyaml's parser (ruamel.yaml.clib) with ruamel's own resolver and
    constructor, under the same bounds; (False, None) when that parser is not installed or did
    not accept the document, so the pure parser answers (with its messages). About 7x faster:
    `devops status` reads a values file per service and environment."""
    from ruamel.yaml import YAML

    if len(text) > MAX_BYTES or bracket_depth(text) > MAX_DEPTH:
        return False, None
    yaml = getattr(_FAST, "yaml", None)
    if yaml is None:
        yaml = YAML(typ="safe")
        _FAST.yaml = yaml
    if "CParser" not in getattr(yaml.Parser, "__name__", ""):
        return False, None
    try:
        node = yaml.compose(text)
        if node is None:
            return True, None
        check_yaml_bounds(node, shown)
        return True, yaml.constructor.construct_document(node)
    except BadInput:
        raise
    except Exception:  # noqa: BLE001 - any refusal of the C parser: the pure parser decides and words it
        _FAST.yaml = None  # a parser left mid-document is not reused
        return False, None


def load_yaml(text: str, shown: str, *, typ: str = "rt") -> Any:
    """The data of a YAML document after `compose_yaml`'s bounds; `typ` "rt" keeps line numbers,
    "safe" (plain data) goes through libyaml when it is installed."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    if typ == "safe":
        done, data = _fast_safe_data(text, shown)
        if done:
            return data
    node = compose_yaml(text, shown)
    if node is None:
        return None
    yaml = YAML(typ=typ, pure=True)
    try:
        return yaml.constructor.construct_document(node)
    except YAMLError as exc:
        raise _yaml_problem(exc, shown) from None
    except RecursionError:
        raise BadInput(f"{shown}: nested too deeply (more than {MAX_DEPTH} levels)") from None
    except (ValueError, TypeError, OverflowError) as exc:
        # The constructors raise these for values YAML's grammar allows but Python cannot hold,
        # e.g. an unquoted 2026-02-30 or a timestamp in year 0.
        raise BadInput(f"{shown}: a value YAML cannot convert: {exc}") from None


def check_yaml_bounds(root: Any, shown: str) -> None:
    """Refuse a node graph that is too deep, uses too many aliases, or expands too far.

    Aliases make the graph a DAG (or, with a recursive alias, a cycle); its expanded size is
    computed per node once (memoised), so the check itself is linear in the text."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    aliases = 0
    # Iterative post-order walk: (node, depth, children pushed?)
    stack: list[tuple[Any, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            children = _children(node, MappingNode, SequenceNode)
            total = 1 + sum(sizes[id(child)] for child in children)
            sizes[key] = total
            if total > MAX_EXPANDED_NODES:
                raise BadInput(f"{shown}: expands to more than {MAX_EXPANDED_NODES} values through YAML "
                               "aliases; refusing it (write the values out, or use fewer aliases)")
            continue
        if key in sizes:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise BadInput(f"{shown}: uses more than {MAX_ALIASES} YAML aliases; refusing it")
            continue
        if key in on_path:
            raise BadInput(f"{shown}: a YAML alias refers to a node that contains it (recursive alias)")
        if depth > MAX_DEPTH:
            raise BadInput(f"{shown}: nested deeper than {MAX_DEPTH} levels")
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node, MappingNode, SequenceNode):
            if id(child) in sizes:
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise BadInput(f"{shown}: uses more than {MAX_ALIASES} YAML aliases; refusing it")
            elif id(child) in on_path:
                raise BadInput(f"{shown}: a YAML alias refers to a node that contains it (recursive alias)")
            else:
                stack.append((child, depth + 1, False))


def _children(node: Any, mapping: Any, sequence: Any) -> list[Any]:
    if isinstance(node, mapping):
        return [part for pair in node.value for part in pair]
    if isinstance(node, sequence):
        return list(node.value)
    return []


# -- JSON --------------------------------------------------------------------------------------

def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large to be a finite number")
    return value


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def load_json(text: str, shown: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text: bounded size and depth, no NaN/Infinity, finite numbers only."""
    if len(text) > MAX_BYTES:
        raise BadInput(f"{shown}: larger than {MAX_BYTES // 1024} KiB; this is not a file devops reads")
    if bracket_depth(_JSON_STRING.sub('""', text), max_depth) > max_depth:
        raise BadInput(f"{shown}: nested more than {max_depth} levels deep; refusing it")
    try:
        return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{shown}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        # parse_constant/parse_float, or an integer beyond Python's digit limit.
        raise BadInput(f"{shown}: not valid JSON: {exc}") from None


def bracket_depth(text: str, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of [ and { in `text` (up to `limit` + 1), counting every bracket.

    An upper bound of the nesting of a YAML flow collection or a JSON document, found in one
    regex pass before any parser runs: ruamel's scanner is quadratic in flow depth and the
    parsers recurse, so depth must be refused before parsing, not after."""
    depth = deepest = 0
    for match in _BRACKETS.finditer(text):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limit:
                break  # enough to refuse; do not walk megabytes of brackets
        else:
            depth = max(0, depth - 1)
    return deepest


_BRACKETS = re.compile(r"[\[\]{}]")
