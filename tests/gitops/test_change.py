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
