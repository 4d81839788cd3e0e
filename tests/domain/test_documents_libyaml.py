"""Plain-data YAML through libyaml (issue 18: `devops status` parses a values file per service and
environment): the same data as the pure parser, under the same bounds, the pure parser's
messages where libyaml refuses."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from devops.domain import documents
from devops.domain.documents import MAX_BYTES, load_yaml
from devops.errors import BadInput

pytestmark = pytest.mark.unit

DOCUMENTS = [
    "image:\n  repository: r/a\n  tag: ''\n  digest: \"sha256:00\"\nreplicaCount: 1\n",
    "defaults: &d {cpu: 100m, memory: 128Mi}\nresources: *d\nhosts: [a, 'b', \"c\"]\nflag: yes\nn: 0x10\n",
    "---\n# only a comment\n",
    "when: 2026-02-01\nlist:\n- 1.5\n- ~\n- true\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_libyaml_reads_the_same_data_as_the_pure_parser(text: str) -> None:
    assert load_yaml(text, "f.yaml", typ="safe") == YAML(typ="safe", pure=True).load(text)
    assert "CParser" in documents._FAST.yaml.Parser.__name__, "the fast path answered"


def test_the_bounds_hold_on_the_fast_path() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n" for i in range(6))
    with pytest.raises(BadInput, match=r"bomb.yaml: expands to more than"):
        load_yaml(bomb, "bomb.yaml", typ="safe")
    deep = "a: " + "[" * 70 + "]" * 70 + "\n"
    with pytest.raises(BadInput, match=r"deep.yaml: nested deeper than 64"):
        load_yaml(deep, "deep.yaml", typ="safe")
    with pytest.raises(BadInput, match=r"big.yaml: larger than"):
        load_yaml("a: " + "x" * MAX_BYTES, "big.yaml", typ="safe")


def test_what_libyaml_refuses_is_worded_by_the_pure_parser() -> None:
    with pytest.raises(BadInput, match=r"^bad.yaml:2: not valid YAML"):
        load_yaml("a: 1\n  b: [\n", "bad.yaml", typ="safe")
    with pytest.raises(BadInput, match=r"^date.yaml: a value YAML cannot convert"):
        load_yaml("when: 2026-02-30\n", "date.yaml", typ="safe")
    with pytest.raises(BadInput, match=r"dup.yaml:2: not valid YAML: found duplicate key"):
        load_yaml("a: 1\na: 2\n", "dup.yaml", typ="safe")
    assert load_yaml("a: 1\n", "ok.yaml", typ="safe") == {"a": 1}, "the parser is usable after a refusal"


def test_without_libyaml_the_pure_parser_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents._FAST, "yaml", YAML(typ="safe", pure=True), raising=False)
    assert load_yaml("a: [1, 2]\n", "f.yaml", typ="safe") == {"a": [1, 2]}
    with pytest.raises(BadInput, match=r"^bad.yaml:2: not valid YAML"):
        load_yaml("a: 1\n  b: [\n", "bad.yaml", typ="safe")
