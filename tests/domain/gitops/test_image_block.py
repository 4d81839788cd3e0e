"""The narrow scanner of a values file's `image:` block: where it answers, it answers what the
YAML parser reads (the oracle here is `read_scalars`, ruamel with its bounds); everything outside
its grammar returns None, so the parser reads the file as before (and words its errors)."""

from __future__ import annotations

import pytest

from devops.domain.gitops import image_block
from devops.domain.gitops.values import IMAGE_KEYS, read_image, read_scalars
from devops.errors import BadInput
from tests.gitops.conftest import ALPHA_VALUES, BETA_VALUES, DIGEST_A

RELEASED = f"""\
# svc in dev. The image block is written by `devops release`; everything else is yours.
image:
  repository: 127.0.0.1:5000/ns/svc001   # where the chart pulls from
  tag: "sha-abc1234"        # human-readable
  digest: '{DIGEST_A}'

replicaCount: 1  # edited by hand
resources:
    limits:
        cpu: 100m
    requests:
        memory: 64Mi
service:
  port:
ingress:
  enabled: _off
"""

ANSWERED = {
    "released": RELEASED,
    "beta": BETA_VALUES,
    "plain digest": f"image:\n  repository: docker.io/x/y\n  tag: v1\n  digest: {DIGEST_A}\n",
    "empty keys": "image:\n  repository:\n  tag:\n  digest:\nother: x/y\n",
    "no image": "replicaCount: 1\nname: shop\n",
    "image last, nested before": "a:\n  b:\n    c: d\n  e: f\nimage:\n  digest: \"x\"\n",
    "image not a mapping": "image: registry/x\n",
    "only comments": "# nothing yet\n\n",
    "empty key then sibling": "image:\n  tag:\n  digest: abc\n",
    "empty key then dedent": "image:\n  repository: a/b\n  digest:\nkind: values\n",
    "empty top key then sibling": "service:\nimage:\n  digest: sha256:1\n",
}

REFUSED = {
    "alpha: anchors, flow, sequences": ALPHA_VALUES,
    "tab": "image:\n\trepository: x\n",
    "crlf": "image:\r\n  digest: x\r\n",
    "bom": "\ufeffimage:\n  digest: x\n",
    "document marker": "---\nimage:\n  digest: x\n",
    "first key indented": "  image:\n    digest: x\n",
    "number": "image:\n  tag: 1.5\n",
    "boolean": "image:\n  tag: true\n",
    "null word": "image:\n  tag: null\n",
    "date": "image:\n  tag: 2026-02-30\n",
    "key is a word": "yes: 1\nimage:\n  digest: x\n",
    "key with a slash": "a/b: c\n",
    "duplicate key": "image:\n  digest: a\n  digest: b\n",
    "duplicate top key": "image:\n  digest: a\nimage:\n  digest: b\n",
    "bad dedent": "a:\n    b: c\n  d: e\n",
    "deeper after a value": "a: b\n  c: d\n",
    "image key is a mapping": "image:\n  digest:\n    sha: x\n",
    "escape in quotes": 'image:\n  digest: "a\\"b"\n',
    "block scalar": "image:\n  digest: |\n    x\n",
    "sequence": "hosts:\n- a\n",
    "value ending in a colon": "image:\n  tag: v1:\n",
    "comment without a space": "image:\n  tag: v1#x\n",
    "a date elsewhere": "image:\n  digest: x\ncreated: 2026-02-30\n",
    "a huge number elsewhere": "image:\n  digest: x\nreplicas: " + "9" * 5000 + "\n",
}


def oracle(text: str) -> tuple[object, ...]:
    found = read_scalars(text, "values.yaml", tuple(("image", k) for k in IMAGE_KEYS))
    return tuple(found[("image", k)] for k in IMAGE_KEYS)


@pytest.mark.parametrize("name", sorted(ANSWERED))
def test_where_it_answers_it_reads_what_the_parser_reads(name: str) -> None:
    text = ANSWERED[name]
    assert image_block.scan(text) is not None, "inside the grammar"
    assert image_block.scan(text) == oracle(text)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_outside_its_grammar_it_leaves_the_file_to_the_parser(name: str) -> None:
    assert image_block.scan(REFUSED[name]) is None


def test_too_deep_or_too_large_is_left_to_the_parser() -> None:
    deep = "".join(f"{'  ' * depth}k{depth}:\n" for depth in range(70)) + f"{'  ' * 70}v: x\n"
    assert image_block.scan(deep) is None
    assert image_block.scan("a: b\n" * 500_000) is None


def test_read_image_gives_the_same_answer_either_way_and_the_parser_still_refuses() -> None:
    image = read_image(RELEASED, "svc.yaml")
    assert image is not None and image.digest == DIGEST_A and image.tag == "sha-abc1234"
    assert image.repository == "127.0.0.1:5000/ns/svc001"
    assert read_image(BETA_VALUES, "beta.yaml") is None  # empty digest: never released
    with pytest.raises(BadInput, match=r"svc.yaml: image.tag: expected a string"):
        read_image(REFUSED["number"], "svc.yaml")  # the parser reads it and refuses, as before
    with pytest.raises(BadInput, match=r"svc.yaml"):
        read_image(REFUSED["duplicate key"], "svc.yaml")
