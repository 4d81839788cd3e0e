"""Documents that arrive as data (devops.domain.documents): UTF-8, size, YAML depth, aliases and
expansion, JSON depth and numbers. Each refusal is a BadInput (exit 2) naming the file; each
bound is tested on both sides of its edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from devops.domain import documents
from devops.domain.documents import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES
from devops.errors import BadInput, ExitCode

# -- reading bytes --------------------------------------------------------------------------------


def test_read_text_returns_the_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "devops.yaml"
    path.write_bytes("name: café ☕\n".encode())
    assert documents.read_text(path) == "name: café ☕\n"


def test_a_file_that_cannot_be_read_is_bad_input_naming_it(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match=r"^pipelines/devops\.yaml: cannot read: No such file or directory$") as refused:
        documents.read_text(tmp_path / "missing.yaml", "pipelines/devops.yaml")
    assert refused.value.exit_code == ExitCode.BAD_INPUT
    with pytest.raises(BadInput, match=f"^{tmp_path}: cannot read: Is a directory$"):
        documents.read_text(tmp_path)  # the path itself is shown when no name is given


def test_the_size_limit_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_bytes(b"x" * 1024)
    assert len(documents.read_text(path, limit=1024)) == 1024  # control: exactly the limit
    path.write_bytes(b"x" * 1025)
    with pytest.raises(BadInput, match=r"^values\.yaml: larger than 1 KiB; this is not a file devops reads$"):
        documents.read_text(path, "values.yaml", limit=1024)


def test_the_default_limit_is_max_bytes() -> None:
    assert documents.decode(b"a" * MAX_BYTES, "f") == "a" * MAX_BYTES
    with pytest.raises(BadInput, match=f"larger than {MAX_BYTES // 1024} KiB"):
        documents.decode(b"a" * (MAX_BYTES + 1), "f")


@pytest.mark.parametrize("data,byte", [(b"ok: \xff\n", 4), (b"\xc3(", 0), (b"name: caf\xe9", 9),
                                       (b"\xed\xa0\x80", 0)])  # the last: a UTF-16 surrogate, not UTF-8
def test_text_that_is_not_utf8_is_refused_naming_the_byte(data: bytes, byte: int) -> None:
    with pytest.raises(BadInput, match=f"^record.json: not UTF-8 text \\(byte {byte}\\); save it as UTF-8$"):
        documents.decode(data, "record.json")


def test_control_utf8_with_a_bom_or_multibyte_characters_decodes() -> None:
    assert documents.decode("ü€😀".encode(), "f") == "ü€😀"
    assert documents.decode(b"", "f") == ""


# -- YAML -----------------------------------------------------------------------------------------


def nested_mappings(levels: int) -> str:
    """`levels` block mappings inside each other; the innermost holds one scalar."""
    return "\n".join("  " * i + f"k{i}:" for i in range(levels)) + "\n" + "  " * levels + "v\n"


def test_block_nesting_up_to_the_depth_limit_loads() -> None:
    # 63 mappings and the scalar inside them are 64 levels of nodes.
    data = documents.load_yaml(nested_mappings(MAX_DEPTH - 1), "deep.yaml")
    for i in range(MAX_DEPTH - 1):
        data = data[f"k{i}"]
    assert data == "v"


@pytest.mark.parametrize("levels", [MAX_DEPTH, 100])
def test_block_nesting_beyond_the_limit_is_refused(levels: int) -> None:
    with pytest.raises(BadInput, match=f"^deep.yaml: nested deeper than {MAX_DEPTH} levels$"):
        documents.load_yaml(nested_mappings(levels), "deep.yaml")


def test_nesting_deep_enough_to_exhaust_the_parser_is_bad_input_not_a_crash() -> None:
    # ruamel's composer recurses per level: the RecursionError is turned into a refusal. 1000
    # block sequences inside each other, each indented by one more space.
    text = "".join(" " * i + "-\n" for i in range(1000)) + " " * 1000 + "x\n"
    with pytest.raises(BadInput, match=f"^deep.yaml: nested too deeply \\(more than {MAX_DEPTH} levels\\)$"):
        documents.compose_yaml(text, "deep.yaml")


def test_flow_nesting_is_refused_by_brackets_before_parsing() -> None:
    assert documents.load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH, "f.yaml") is not None  # control
    with pytest.raises(BadInput, match=f"^f.yaml: nested deeper than {MAX_DEPTH} levels of \\[ \\] or {{ }}$"):
        documents.load_yaml("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "f.yaml")
    with pytest.raises(BadInput, match="nested deeper than"):
        documents.compose_yaml("a: " + "{b: " * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), "f.yaml")


def test_a_yaml_document_larger_than_max_bytes_is_refused_before_parsing() -> None:
    with pytest.raises(BadInput, match=f"^big.yaml: larger than {MAX_BYTES // 1024} KiB"):
        documents.compose_yaml("#" * (MAX_BYTES + 1), "big.yaml")


def flat_aliases(count: int) -> str:
    return "[&a x" + ", *a" * count + "]"


def spread_aliases(count: int) -> str:
    return "- &a x\n" + "- [*a]\n" * count


@pytest.mark.parametrize("document", [flat_aliases, spread_aliases], ids=["one-list", "many-lists"])
def test_at_most_max_aliases(document) -> None:  # type: ignore[no-untyped-def]
    assert len(documents.load_yaml(document(MAX_ALIASES), "f.yaml")) > 0  # control: exactly the limit
    with pytest.raises(BadInput, match=f"^f.yaml: uses more than {MAX_ALIASES} YAML aliases; refusing it$"):
        documents.load_yaml(document(MAX_ALIASES + 1), "f.yaml")


def laughs(levels: int) -> str:
    """The "billion laughs" document: each level lists the previous one ten times."""
    text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, levels):
        text += f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]\n"
    return text


def test_a_document_that_expands_through_aliases_is_refused() -> None:
    # 334 bytes, a million values once walked.
    text = laughs(6)
    assert len(text) < 400
    with pytest.raises(BadInput, match=f"^bomb.yaml: expands to more than {MAX_EXPANDED_NODES} values through YAML "
                                       "aliases; refusing it"):
        documents.load_yaml(text, "bomb.yaml")


def test_control_a_few_levels_of_aliases_load_and_share_their_values() -> None:
    data = documents.load_yaml(laughs(3), "f.yaml")  # ~1100 values expanded
    assert len(data["l2"]) == 10 and data["l2"][9][9] == data["l0"] == ["x"] * 10


@pytest.mark.parametrize("text", ["a: &a [*a]", "a: &a\n  b: *a\n", "- &s\n  - x\n  - *s\n", "&r {k: *r}"])
def test_a_recursive_alias_is_refused(text: str) -> None:
    with pytest.raises(BadInput, match="^f.yaml: a YAML alias refers to a node that contains it"):
        documents.load_yaml(text, "f.yaml")


@pytest.mark.parametrize("text,line,problem", [
    ("a: [1, 2\n", 2, "expected ',' or ']'"),
    ("a: 1\nb: 2\na: 3\n", 3, 'found duplicate key "a"'),
    ("a:\n  - x\n y: 1\n", 3, ""),
    ("a: 'open\n", 2, "found unexpected end of stream"),
    ("\t- x\n", 1, "found character '\\t'"),
])
def test_invalid_yaml_is_refused_naming_file_and_line(text: str, line: int, problem: str) -> None:
    with pytest.raises(BadInput, match=f"^values.yaml:{line}: not valid YAML: ") as refused:
        documents.load_yaml(text, "values.yaml")
    assert problem in str(refused.value) and "\n" not in str(refused.value)


@pytest.mark.parametrize("text", ["a: 2026-02-30", "a: 0000-01-01", "a: 2026-13-01 10:00:00"])
def test_a_value_python_cannot_hold_is_refused(text: str) -> None:
    for typ in ("rt", "safe"):
        with pytest.raises(BadInput, match="^f.yaml: a value YAML cannot convert: "):
            documents.load_yaml(text, "f.yaml", typ=typ)


def test_a_python_tag_never_constructs_an_object() -> None:
    text = "a: !!python/object/apply:os.system [echo pwned]\n"
    with pytest.raises(BadInput, match="could not determine a constructor"):
        documents.load_yaml(text, "f.yaml", typ="safe")
    loaded = documents.load_yaml(text, "f.yaml")  # round trip: kept as tagged data, nothing runs
    assert list(loaded["a"]) == ["echo pwned"]


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n"])
def test_an_empty_document_is_none(text: str) -> None:
    assert documents.compose_yaml(text, "f.yaml") is None
    assert documents.load_yaml(text, "f.yaml") is None
    assert documents.load_yaml("---\n" + text, "f.yaml") is None  # an explicit but empty document


def test_round_trip_loading_keeps_line_numbers_and_safe_loading_gives_plain_data() -> None:
    text = "services:\n  cart:\n    port: 8080\n    ratio: 0.5\n    on: yes\n"
    rt = documents.load_yaml(text, "f.yaml")
    assert rt["services"].lc.key("cart") == (1, 2)
    safe = documents.load_yaml(text, "f.yaml", typ="safe")
    assert safe == {"services": {"cart": {"port": 8080, "ratio": 0.5, "on": "yes"}}} and type(safe) is dict


# -- JSON -----------------------------------------------------------------------------------------


def test_json_nesting_up_to_max_depth_loads_and_beyond_is_refused() -> None:
    assert documents.load_json("[" * MAX_DEPTH + "]" * MAX_DEPTH, "r.json") is not None
    with pytest.raises(BadInput, match=f"^r.json: nested more than {MAX_DEPTH} levels deep; refusing it$"):
        documents.load_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "r.json")
    with pytest.raises(BadInput, match="nested more than 2 levels"):
        documents.load_json('{"a": {"b": [1]}}', "r.json", max_depth=2)
    assert documents.load_json('{"a": {"b": 1}}', "r.json", max_depth=2) == {"a": {"b": 1}}


def test_brackets_inside_json_strings_do_not_count_as_depth() -> None:
    text = json.dumps({"message": "[" * 500 + '\\"{' * 100, "b": ["]"]})
    assert documents.load_json(text, "r.json", max_depth=2)["b"] == ["]"]


def test_a_json_document_larger_than_max_bytes_is_refused() -> None:
    with pytest.raises(BadInput, match=f"^r.json: larger than {MAX_BYTES // 1024} KiB"):
        documents.load_json(" " * (MAX_BYTES + 1), "r.json")


@pytest.mark.parametrize("text,message", [
    ("NaN", "NaN is not a number JSON allows"),
    ('{"replicas": Infinity}', "Infinity is not a number JSON allows"),
    ("[-Infinity]", "-Infinity is not a number JSON allows"),
    ('{"cost": 1e400}', "1e400 is too large to be a finite number"),
    ("-1E999", "-1E999 is too large to be a finite number"),
    ("9" * 5000, "Exceeds the limit"),
])
def test_non_finite_and_unholdable_numbers_are_refused(text: str, message: str) -> None:
    with pytest.raises(BadInput, match=f"^r.json: not valid JSON: {message}"):
        documents.load_json(text, "r.json")


@pytest.mark.parametrize("text,expected", [("1.7976931348623157e308", 1.7976931348623157e308), ("-0.0", -0.0),
                                           ("1e-400", 0.0), ("12345678901234567890", 12345678901234567890),
                                           ('{"a": [true, null, "☕"]}', {"a": [True, None, "☕"]})])
def test_control_finite_json_numbers_and_values(text: str, expected: object) -> None:
    assert documents.load_json(text, "r.json") == expected


@pytest.mark.parametrize("text,line", [("", 1), ('{"a": 1,}', 1), ('{"a": 1}\n{"b": 2}', 2), ("{\n\n'a': 1}", 3)])
def test_invalid_json_is_refused_naming_file_and_line(text: str, line: int) -> None:
    with pytest.raises(BadInput, match=f"^r.json:{line}: not valid JSON: ") as refused:
        documents.load_json(text, "r.json")
    assert refused.value.exit_code == ExitCode.BAD_INPUT


@pytest.mark.parametrize("text,limit,depth", [("", 64, 0), ("[]{}", 64, 1), ("[{[]}]", 64, 3), ("]]]][[", 64, 2),
                                              ("[" * 200, 10, 11), ("{a: [b, {c: d}]}", 64, 3)])
def test_bracket_depth_never_goes_negative_and_stops_past_the_limit(text: str, limit: int, depth: int) -> None:
    assert documents.bracket_depth(text, limit) == depth
