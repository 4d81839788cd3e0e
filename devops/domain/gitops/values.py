"""Byte-preserving edits of YAML scalars: the values files keep every comment, anchor, quote,
indentation and line ending that a person wrote; only the targeted scalars' text changes.

How: ruamel.yaml composes the document (each node knows where its text starts and ends), the
text of exactly that scalar is replaced (keeping its quoting style), and the result is parsed
again to check that the targeted paths, and nothing else, changed. Anything that cannot be
edited that way (a block scalar, an alias, a missing key) is a `BadInput` naming the file and
the key path; nothing is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from devops.domain import documents
from devops.domain.gitops import image_block
from devops.domain.gitops.change import ImageRef
from devops.errors import BadInput

# Mapping keys, and list indexes as ints (`domainFilters.0`).
KeyPath = tuple[str | int, ...]
IMAGE_KEYS = ("repository", "tag", "digest")
# Plain scalars we are willing to write unquoted; anything else is double-quoted.
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_./][A-Za-z0-9_./:@+-]*$")


def _compose(text: str, file: str) -> Any:
    # Bounded: a values file comes from the GitOps repository, which anyone with push access
    # writes; aliases that expand to gigabytes or deep nesting are refused (exit 2).
    return documents.compose_yaml(text, file)


def _plain_data(text: str, file: str) -> Any:
    return documents.load_yaml(text, file, typ="safe")


def _dotted(path: KeyPath) -> str:
    return ".".join(str(part) for part in path)


def _find(root: Any, path: KeyPath, file: str) -> tuple[Any, Any, list[Any]]:
    """(key node, value node, the nodes on the way) at `path` in a composed document; an int in
    `path` is an index into a sequence (the key node is then None)."""
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    node = root
    key_node = None
    passed: list[Any] = []
    for depth, key in enumerate(path):
        passed.append(node)
        if isinstance(key, int):
            if not isinstance(node, SequenceNode) or not 0 <= key < len(node.value):
                raise BadInput(f"{file}: {_dotted(path[:depth + 1])}: no list item {key} there, cannot set "
                               f"{_dotted(path)}", hint="devops edits values, it does not add structure")
            key_node, node = None, node.value[key]
            continue
        if not isinstance(node, MappingNode):
            where = _dotted(path[:depth]) or "the document"
            raise BadInput(f"{file}: {where} is not a mapping, cannot set {_dotted(path)}",
                           hint="the values file must hold an `image:` block with repository, tag and digest")
        for k, v in node.value:
            if k.value == key:
                key_node, node = k, v
                break
        else:
            raise BadInput(f"{file}: key {_dotted(path[:depth + 1])} is missing",
                           hint="add it (image: {repository: ..., tag: \"\", digest: \"\"}); devops edits values, "
                                "it does not add structure")
    return key_node, node, passed[1:] + [node]


def _count_refs(root: Any, target: Any) -> int:
    from ruamel.yaml.nodes import MappingNode, SequenceNode

    count, stack, seen = 0, [root], set()
    while stack:
        node = stack.pop()
        if node is target:
            count += 1
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.extend((k, v))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return count


def _scalar_span(text: str, key_node: Any, node: Any, path: KeyPath, file: str) -> tuple[int, int, str | None]:
    """Start and end offsets of the scalar's own text (after any &anchor or !tag), and its style."""
    from ruamel.yaml.nodes import ScalarNode

    if not isinstance(node, ScalarNode):
        raise BadInput(f"{file}: {_dotted(path)} is a {'mapping' if hasattr(node, 'value') else 'node'}, "
                       "expected a string")
    if node.style in ("|", ">"):
        raise BadInput(f"{file}: {_dotted(path)} is a block scalar ({node.style}); write it as a one-line string")
    start, end = node.start_mark.index, node.end_mark.index
    if start == end and key_node is None:
        raise BadInput(f"{file}: {_dotted(path)} is an empty list item; write \"\" as its placeholder")
    if start == end:  # an empty (null) value: write right after the key's colon
        colon = text.index(":", key_node.end_mark.index)
        return colon + 1, colon + 1, None
    # Skip an &anchor and/or a !tag in front of the scalar.
    while text[start] in "&!":
        space = start
        while space < end and text[space] not in " \t\r\n":
            space += 1
        while space < end and text[space] in " \t\r\n":
            space += 1
        start = space
    return start, end, node.style


def _render(value: str, style: str | None, *, empty_slot: bool) -> str:
    if style == "'":
        out = "'" + value.replace("'", "''") + "'"
    elif style == '"' or not _plain_ok(value):
        out = json.dumps(value, ensure_ascii=False)
    else:
        out = value
    return " " + out if empty_slot else out


def _plain_ok(value: str) -> bool:
    """True when `value` written plain reads back as the same string (not a number, bool, null)."""
    if not _PLAIN_SAFE.fullmatch(value):
        return False
    from ruamel.yaml import YAML

    try:
        return YAML(typ="safe", pure=True).load(value) == value
    except Exception:
        return False


def read_scalars(text: str, file: str, paths: tuple[KeyPath, ...]) -> dict[KeyPath, Any]:
    """The values at `paths` (None when a path is missing)."""
    data = _plain_data(text, file)
    found: dict[KeyPath, Any] = {}
    for path in paths:
        node: Any = data
        for key in path:
            if isinstance(key, int):
                node = node[key] if isinstance(node, list) and 0 <= key < len(node) else None
            else:
                node = node.get(key) if isinstance(node, Mapping) else None
        found[path] = node
    return found


def patch_scalars(text: str, file: str, changes: Mapping[KeyPath, str]) -> str:
    """`text` with the string scalars at `changes`' paths replaced, every other byte kept.

    Raises BadInput (nothing changed) when a path is missing, not a one-line string scalar,
    shared through an anchor, or when the re-parsed result differs anywhere else.
    """
    root = _compose(text, file)
    if root is None:
        raise BadInput(f"{file}: the file is empty; it must hold an `image:` block")
    edits: list[tuple[int, int, str]] = []
    for path, value in changes.items():
        key_node, node, on_path = _find(root, path, file)
        if any(getattr(n, "anchor", None) or _count_refs(root, n) > 1 for n in on_path):
            raise BadInput(f"{file}: {_dotted(path)} is shared through a YAML anchor/alias; "
                           "editing it would change other keys too, give it its own value")
        start, end, style = _scalar_span(text, key_node, node, path, file)
        if node.value == value and node.tag.endswith(":str"):
            continue
        edits.append((start, end, _render(value, style, empty_slot=start == end)))
    if not edits:
        return text
    patched = text
    for start, end, new in sorted(edits, reverse=True):
        patched = patched[:start] + new + patched[end:]
    _check_only_targets_changed(text, patched, file, changes)
    return patched


def _check_only_targets_changed(before: str, after: str, file: str, changes: Mapping[KeyPath, str]) -> None:
    old, new = _plain_data(before, file), _plain_data(after, file)
    expected = _set_paths(old, changes)
    if json.loads(json.dumps(new, default=str)) != expected:
        raise BadInput(f"{file}: editing {', '.join(_dotted(p) for p in changes)} in place would change other "
                       "values; edit the file by hand (nothing was written)")


def _set_paths(data: Any, changes: Mapping[KeyPath, str]) -> Any:
    # A JSON round trip, not deepcopy: aliases must become independent copies here, or setting
    # the target would silently set its aliases too and hide the very change we look for.
    result = json.loads(json.dumps(data, default=str))
    for path, value in changes.items():
        node = result
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return result


def read_image(text: str, file: str) -> ImageRef | None:
    """The image a values file holds; None when its digest is empty (never released)."""
    fast = image_block.scan(text)  # most values files: one pass, no YAML parser
    if fast is not None:
        repository, tag, digest = fast
    else:
        values = read_scalars(text, file, tuple(("image", k) for k in IMAGE_KEYS))
        repository, tag, digest = (values[("image", k)] for k in IMAGE_KEYS)
    for key, value in zip(IMAGE_KEYS, (repository, tag, digest), strict=True):
        if value is not None and not isinstance(value, str):
            raise BadInput(f"{file}: image.{key}: expected a string, got {value!r}")
    if not digest:
        return None
    return ImageRef(repository or "", tag or "", digest)


def set_image(text: str, file: str, image: ImageRef) -> str:
    """`text` with image.repository/tag/digest set to `image`, byte-preserving the rest."""
    return patch_scalars(text, file, {
        ("image", "repository"): image.repository,
        ("image", "tag"): image.tag,
        ("image", "digest"): image.digest,
    })
