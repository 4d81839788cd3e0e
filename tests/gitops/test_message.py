"""Commit messages: subject, old -> new body, trailers that real git parses."""

from __future__ import annotations

import subprocess

from devops.domain.gitops.change import ChangeSet, ImageUpdate, ServiceChange
from devops.domain.gitops.message import commit_message, parse_trailers, subject
from tests.gitops.conftest import DIGEST_A, DIGEST_B, SOURCE

CHANGE = ChangeSet("dev", (ImageUpdate("product", "docker.io/t/product", "sha-abc1234", DIGEST_A),
                           ImageUpdate("cart", "docker.io/t/cart", "sha-def5678", DIGEST_B)),
                   source_commit=SOURCE, action="release")
CHANGES = (ServiceChange("product", "", f"docker.io/t/product:sha-abc1234@{DIGEST_A}"),
           ServiceChange("cart", f"docker.io/t/cart:old@{DIGEST_A}", f"docker.io/t/cart:sha-def5678@{DIGEST_B}"))


def test_subject_names_action_environment_and_tags() -> None:
    assert subject(CHANGE, CHANGES) == "release(dev): product sha-abc1234, cart sha-def5678"
    assert subject(CHANGE, CHANGES[:1]) == "release(dev): product sha-abc1234"


def test_message_body_and_trailers_parsed_by_git() -> None:
    message = commit_message(CHANGE, CHANGES)
    assert f"cart: docker.io/t/cart:old@{DIGEST_A} -> docker.io/t/cart:sha-def5678@{DIGEST_B}" in message
    assert "product: (none) -> docker.io/t/product" in message
    parsed = subprocess.run(["git", "interpret-trailers", "--parse"], input=message, capture_output=True,
                            text=True, check=True).stdout.splitlines()
    assert parsed == ["Devops-Environment: dev", "Devops-Action: release", f"Devops-Source-Commit: {SOURCE}",
                      f"Devops-Image: product=docker.io/t/product@{DIGEST_A}",
                      f"Devops-Image: cart=docker.io/t/cart@{DIGEST_B}"]
    assert parse_trailers(message)["Devops-Image"][1] == f"cart=docker.io/t/cart@{DIGEST_B}"


def test_only_changed_services_get_trailers() -> None:
    message = commit_message(CHANGE, CHANGES[1:])
    assert "product" not in message
