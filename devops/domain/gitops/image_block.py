"""The `image:` block of a values file, read by a narrow line scanner (issue 18).

`devops status` over 20 environments reads 2 000 values files; composing each with a YAML parser
was most of what remained of its time. Most values files are plain block mappings of one-line
scalars, the shape `devops release` writes and people keep; for those this scanner finds
image.repository/tag/digest in one pass. It answers only when the whole document is inside a
grammar it knows to be valid YAML with those exact values: block mappings (consistent
indentation, no duplicate keys, at most MAX_DEPTH levels), one-line plain or quoted scalars
without escapes, comments and blank lines. Anything else (a sequence, a flow collection, an
anchor, an alias, a tag, a block scalar, a tab, CRLF, a `---`, a plain value YAML would read as
a number, a boolean, null or a date) returns None, and the YAML parser with its bounds
(devops/domain/documents.py) reads the file and words any error, as before.
"""

from __future__ import annotations

import re

from devops.domain.documents import MAX_BYTES, MAX_DEPTH

IMAGE_KEYS = ("repository", "tag", "digest")
_LINE = re.compile(
    r"(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_.-]*):"
    r"(?: +(?P<value>\"[^\"\\]*\"|'[^']*'|[A-Za-z0-9_/][A-Za-z0-9_./:@+-]*(?<!:)))?"
    r"(?: +#.*)? *")
_COMMENT = re.compile(r" *(?:#.*)?")
# Words YAML (1.2, or 1.1) reads as a boolean or null. A plain scalar is surely a string when it
# starts with a letter and is not one of them, or holds a `/` (no number or date does).
_WORDS = re.compile(r"(?i:true|false|null|yes|no|on|off|y|n)")


# Any other plain scalar of the grammar is valid YAML (an int, a float, `100m`), except a date the
# parser cannot build (2026-02-30) or an integer longer than Python converts: the parser decides.
_RISKY = re.compile(r"[0-9]{4}-.*|[0-9+-].{63,}")


def _string(plain: str) -> bool:
    return "/" in plain or (plain[0].isalpha() or plain[0] == "_") and not _WORDS.fullmatch(plain)


def scan(text: str) -> tuple[str | None, str | None, str | None] | None:
    """(repository, tag, digest) of the `image:` block, None for a key that is absent or empty;
    None when the document is outside the scanner's grammar (the caller parses it then)."""
    if len(text) > MAX_BYTES or "\t" in text or "\r" in text or text.startswith("\ufeff"):
        return None
    found: dict[str, str | None] = {}
    levels: list[int] = []  # indentation of each open mapping
    keys: list[set[str]] = []  # keys seen at each level
    path: list[str] = []  # the key that opened each level below the top
    opening = False  # the previous key had no value: a deeper line opens its mapping
    for line in text.split("\n"):
        match = _LINE.fullmatch(line)
        if match is None:
            if _COMMENT.fullmatch(line):
                continue
            return None
        indent, key, value = len(match["indent"]), match["key"], match["value"]
        if not _string(key) or "/" in key:
            return None
        if opening and levels and indent > levels[-1] or not levels:
            if not levels and indent:
                return None
            if len(levels) >= MAX_DEPTH:
                return None
            levels.append(indent)
            keys.append(set())
        else:
            if opening:
                path.pop()  # the previous key was empty (null): it opened nothing
            while levels and levels[-1] > indent:
                levels.pop()
                keys.pop()
                path.pop()
            if not levels or levels[-1] != indent:
                return None
        if key in keys[-1]:
            return None
        keys[-1].add(key)
        where = (*path, key)
        if len(where) == 3 and where[0] == "image" and where[1] in IMAGE_KEYS:
            return None  # image.<key> is a mapping: the parser says what is wrong
        if value is None:
            path.append(key)
            opening = True
            if len(where) == 2 and where[0] == "image" and key in IMAGE_KEYS:
                found[key] = None
            continue
        opening = False
        image_key = len(where) == 2 and where[0] == "image" and key in IMAGE_KEYS
        if value[0] in "\"'":
            value = value[1:-1]
        elif image_key and not _string(value) or _RISKY.fullmatch(value):
            return None  # an image key YAML would not read as a string, or a value it may refuse
        if image_key:
            found[key] = value
    return found.get("repository"), found.get("tag"), found.get("digest")
