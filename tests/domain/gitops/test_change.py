"""SERVICE=REPOSITORY:TAG@DIGEST parsing and ChangeSet checks."""

from __future__ import annotations

import pytest

from devops.domain.gitops.change import ChangeSet, ImageUpdate, parse_image_spec
from devops.errors import BadInput
from tests.gitops.conftest import DIGEST_A


@pytest.mark.parametrize(("spec", "expected"), [
    (f"product=docker.io/techitfactory/product:sha-abc1234@{DIGEST_A}",
     ImageUpdate("product", "docker.io/techitfactory/product", "sha-abc1234", DIGEST_A)),
    (f"cart=127.0.0.1:5000/techitfactory/cart:v1.2.3@{DIGEST_A}",
     ImageUpdate("cart", "127.0.0.1:5000/techitfactory/cart", "v1.2.3", DIGEST_A)),
    (f"order=localhost:5000/shop/order@{DIGEST_A}", ImageUpdate("order", "localhost:5000/shop/order", "", DIGEST_A)),
])
def test_valid_specs(spec: str, expected: ImageUpdate) -> None:
    assert parse_image_spec(spec) == expected


@pytest.mark.parametrize(("spec", "message"), [
    ("product", "expected SERVICE=REPOSITORY:TAG@sha256:<64 hex>"),
    ("product=docker.io/x/product:v1", "the digest is missing"),
    ("product=docker.io/x/product:v1@sha256:abc", "has 3 hex characters, expected 64"),
    ("product=docker.io/x/product:v1@md5:" + "a" * 64, "must start with sha256:"),
    (f"product=Docker.IO/x:v1@{DIGEST_A}", "is not a valid image repository"),
    (f"product=docker.io/x:-v1@{DIGEST_A}", "is not a valid image tag"),
])
def test_malformed_specs(spec: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        parse_image_spec(spec)


def test_changeset_refuses_a_service_twice_and_unknown_actions() -> None:
    update = ImageUpdate("a", "r", "t", DIGEST_A)
    with pytest.raises(BadInput, match="named twice"):
        ChangeSet("dev", (update, update))
    with pytest.raises(BadInput, match="ChangeSet.action"):
        ChangeSet("dev", (update,), action="deploy")


def test_changeset_checks_digests_and_expected_digests() -> None:
    with pytest.raises(BadInput, match=r"a: digest 'sha256:abc' is not sha256:<64 hex>"):
        ChangeSet("dev", (ImageUpdate("a", "r", "t", "sha256:abc"),))
    with pytest.raises(BadInput, match="only a change that writes the release record can expect digests"):
        ChangeSet("dev", (), expected_digests=(("a", DIGEST_A),))
    both = ChangeSet("dev", (ImageUpdate("b", "r", "", DIGEST_A), ImageUpdate("a", "r", "", DIGEST_A)))
    assert both.services == ("a", "b")


def test_image_refs_as_values_files_and_charts_use_them() -> None:
    from devops.domain.gitops.change import ImageRef, PublishResult, ServiceChange

    assert str(ImageRef("r", "v1", DIGEST_A)) == f"r:v1@{DIGEST_A}" and ImageRef("r", "", DIGEST_A).pinned == \
        f"r@{DIGEST_A}"
    assert str(ImageRef("r", "v1", "")) == "r:v1" and str(ImageRef("r", "", "")) == "r"
    result = PublishResult("committed", (ServiceChange("a", "", "r@x"),), "c", "main", files=("f",))
    assert result.to_dict()["changes"] == ({"service": "a", "old": "", "new": "r@x"},)
    assert result.to_dict()["files"] == ("f",)
