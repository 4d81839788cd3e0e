"""The byte-preserving scalar patcher: only the targeted scalars' text changes."""

from __future__ import annotations

import pytest

from devops.domain.gitops.change import ImageRef
from devops.domain.gitops.values import patch_scalars, read_image, set_image
from devops.errors import BadInput
from tests.gitops.conftest import ALPHA_VALUES, DIGEST_A, DIGEST_B

IMAGE = ImageRef("docker.io/test/alpha", "sha-abc1234", DIGEST_A)


def test_everything_outside_the_image_scalars_is_byte_identical() -> None:
    out = set_image(ALPHA_VALUES, "alpha.yaml", IMAGE)
    expected = (ALPHA_VALUES
                .replace('tag: ""        #', 'tag: "sha-abc1234"        #')
                .replace('digest: ""     #', f'digest: "{DIGEST_A}"     #'))
    assert out == expected  # quoting kept ("" stays "..."), trailing comments and spacing kept
    assert read_image(out, "alpha.yaml") == IMAGE


def test_crlf_line_endings_and_document_markers_survive() -> None:
    text = ALPHA_VALUES.replace("\n", "\r\n") + "...\r\n"
    out = set_image(text, "alpha.yaml", IMAGE)
    assert out.count("\r\n") == text.count("\r\n") and "\n" not in out.replace("\r\n", "")
    assert out.startswith("---\r\n# alpha in dev.") and out.endswith("replicaCount: 1\r\n...\r\n")
    assert out.replace('"sha-abc1234"', '""').replace(f'"{DIGEST_A}"', '""') == text


@pytest.mark.parametrize(("line", "value", "written"), [
    ("tag: v1", "sha-abc1234", "tag: sha-abc1234"),            # plain stays plain
    ("tag: v1", "1.0", 'tag: "1.0"'),                          # plain would read as a float: quoted
    ("tag: v1", "true", 'tag: "true"'),                        # ... or a bool
    ("tag: 'v1'", "it's", "tag: 'it''s'"),                     # single quotes kept, quote doubled
    ('tag: "v1"', 'a"b', 'tag: "a\\"b"'),                      # double quotes kept, escaped
    ("tag:", "v2", "tag: v2"),                                 # empty (null) value filled
    ("tag:   # none yet", "v2", "tag: v2   # none yet"),       # ... before its comment
    ("tag: !!str v1", "v2", "tag: !!str v2"),                  # an explicit tag stays
])
def test_quoting_style_is_kept(line: str, value: str, written: str) -> None:
    text = f"image:\n  repository: r\n  {line}\n  digest: x\n"
    out = patch_scalars(text, "v.yaml", {("image", "tag"): value})
    assert out == f"image:\n  repository: r\n  {written}\n  digest: x\n"


def test_flow_mapping_and_indentless_layout() -> None:
    text = "# flow\nimage: {repository: r, tag: '', digest: \"\"}   # one line\nlist:\n- a\n- b\n"
    out = set_image(text, "v.yaml", ImageRef("docker.io/x/y", "v1.2.3", DIGEST_B))
    assert out == (f"# flow\nimage: {{repository: docker.io/x/y, tag: 'v1.2.3', digest: \"{DIGEST_B}\"}}"
                   "   # one line\nlist:\n- a\n- b\n")


def test_unchanged_values_return_the_same_text() -> None:
    once = set_image(ALPHA_VALUES, "alpha.yaml", IMAGE)
    assert set_image(once, "alpha.yaml", IMAGE) == once


def test_missing_key_names_file_and_key_path() -> None:
    with pytest.raises(BadInput) as caught:
        set_image("image:\n  repository: r\n  tag: v1\n", "env/dev/values/alpha.yaml", IMAGE)
    assert "env/dev/values/alpha.yaml: key image.digest is missing" in str(caught.value)


def test_missing_image_block_names_file_and_key() -> None:
    with pytest.raises(BadInput, match=r"alpha.yaml: key image is missing"):
        set_image("replicaCount: 1\n", "alpha.yaml", IMAGE)


def test_image_that_is_not_a_mapping() -> None:
    with pytest.raises(BadInput, match=r"alpha.yaml: image is not a mapping, cannot set image.repository"):
        set_image("image: docker.io/x:1\n", "alpha.yaml", IMAGE)


def test_block_scalar_is_refused() -> None:
    with pytest.raises(BadInput, match=r"image.tag is a block scalar"):
        set_image("image:\n  repository: r\n  tag: |\n    v1\n  digest: x\n", "a.yaml", IMAGE)


def test_value_shared_through_an_anchor_is_refused() -> None:
    text = "image:\n  repository: &repo docker.io/x\n  tag: v1\n  digest: d\nmirror: *repo\n"
    with pytest.raises(BadInput, match=r"image.repository is shared through a YAML anchor"):
        set_image(text, "a.yaml", ImageRef("docker.io/other", "v1", DIGEST_A))


def test_image_block_that_is_an_alias_is_refused() -> None:
    text = "base: &img\n  repository: r\n  tag: v1\n  digest: d\nimage: *img\n"
    with pytest.raises(BadInput, match=r"shared through a YAML anchor"):
        set_image(text, "a.yaml", IMAGE)


def test_invalid_yaml_names_the_line() -> None:
    with pytest.raises(BadInput, match=r"a.yaml:3: not valid YAML: expected "):
        set_image("image:\n  tag: [unclosed\n", "a.yaml", IMAGE)


def test_non_string_value_in_values_file() -> None:
    with pytest.raises(BadInput, match=r"a.yaml: image.digest: expected a string"):
        read_image("image:\n  repository: r\n  tag: v\n  digest: [1]\n", "a.yaml")


def test_empty_digest_reads_as_not_released() -> None:
    assert read_image(ALPHA_VALUES, "alpha.yaml") is None


def test_reparse_guard_refuses_an_edit_that_changed_anything_else() -> None:
    from devops.domain.gitops.values import _check_only_targets_changed

    before = "image:\n  tag: v1\n  digest: d\nreplicaCount: 1\n"
    _check_only_targets_changed(before, before.replace("v1", "v2"), "a.yaml", {("image", "tag"): "v2"})
    with pytest.raises(BadInput, match=r"a.yaml: editing image.tag in place would change other values"):
        _check_only_targets_changed(before, before.replace("v1", "v2").replace("1\n", "2\n"), "a.yaml",
                                    {("image", "tag"): "v2"})


def test_a_mapping_where_a_string_belongs_and_an_empty_file_are_refused() -> None:
    with pytest.raises(BadInput, match=r"a.yaml: image.tag is a mapping, expected a string"):
        set_image("image:\n  repository: r\n  tag: {a: 1}\n  digest: d\n", "a.yaml", IMAGE)
    with pytest.raises(BadInput, match=r"a.yaml: the file is empty; it must hold an `image:` block"):
        set_image("# nothing yet\n", "a.yaml", IMAGE)


@pytest.mark.parametrize(("value", "plain"), [("sha-abc1234", True), ("1.0", False), ("true", False),
                                              ("a b", False), ("- x", False), ("*alias", False), ("x: y", False),
                                              ("a:", False), ("...", False)])  # "..." does not even parse
def test_a_value_is_written_plain_only_when_it_reads_back_as_the_same_string(value: str, plain: bool) -> None:
    from devops.domain.gitops.values import _plain_ok

    assert _plain_ok(value) is plain
