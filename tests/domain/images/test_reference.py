"""Image references as Docker normalises them (the base images of the build identity)."""

from __future__ import annotations

import pytest

from devops.domain.images.reference import BaseSource, ImageReference, ResolvedBase, parse_reference

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(("text", "expected"), [
    ("debian", ImageReference("docker.io", "library/debian", "latest")),
    ("debian:12-slim", ImageReference("docker.io", "library/debian", "12-slim")),
    ("acme/app:1", ImageReference("docker.io", "acme/app", "1")),
    ("index.docker.io/library/node:20", ImageReference("docker.io", "library/node", "20")),
    ("localhost/x", ImageReference("localhost", "x", "latest")),
    ("localhost:5000/standin/debian:bookworm", ImageReference("localhost:5000", "standin/debian", "bookworm")),
    ("ghcr.io/o/r/x", ImageReference("ghcr.io", "o/r/x", "latest")),
    (f"debian:12@{DIGEST}", ImageReference("docker.io", "library/debian", "12", DIGEST)),
    ("[::1]:5000/a:b", ImageReference("[::1]:5000", "a", "b")),
])
def test_docker_normalisation(text: str, expected: ImageReference) -> None:
    assert parse_reference(text) == expected


def test_what_is_asked_and_shown() -> None:
    assert parse_reference("debian:12").reference == "12"
    assert parse_reference(f"debian@{DIGEST}").reference == DIGEST
    assert str(parse_reference("debian:12")) == "docker.io/library/debian:12"
    assert str(parse_reference(f"debian@{DIGEST}")) == f"docker.io/library/debian@{DIGEST}"
    assert parse_reference("127.0.0.1:5000/a").loopback and parse_reference("localhost:5000/a").loopback
    assert parse_reference("127.0.0.2:5000/a").loopback and not parse_reference("ghcr.io/a").loopback


@pytest.mark.parametrize(("text", "why"), [
    ("", "not an image reference"),
    ("debian 12", "not an image reference"),
    ("${BASE}", "unresolved build argument"),
    ("debian@sha256:12", "is not sha256:<64 hex>"),
    ("debian:-bad", "is not a valid tag"),
    ("Debian", "is not a valid name"),
    ("bad_host.:5000/x", "is not a host name"),
    ("a" * 600, "not an image reference"),
])
def test_malformed_references(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why.replace("<", "<").replace("$", r"\$")):
        parse_reference(text)


def test_what_a_resolved_base_puts_in_the_identity() -> None:
    assert ResolvedBase("debian", DIGEST, BaseSource.REGISTRY).identity == f"registry:{DIGEST}"
    assert ResolvedBase("mine", DIGEST, BaseSource.LOCAL).identity == f"local:{DIGEST}"
