"""Resolving FROM images for the build identity (devops/app/base_images.py) on in-memory
registries and engine: pinned, asked once per run, the local engine only for what a registry
does not have, and never a base left out."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from devops.app.base_images import BaseResolver
from devops.domain.images.reference import BaseSource, ImageReference
from devops.errors import BadInput, ExternalError, HttpError

DIGEST = "sha256:" + "a" * 64


class Registries:
    def __init__(self, answers: dict[str, str | None | Exception]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def manifest_digest(self, image: ImageReference) -> str | None:
        self.asked.append(str(image))
        answer = self.answers.get(str(image))
        if isinstance(answer, Exception):
            raise answer
        return answer


class Local:
    def __init__(self, ids: dict[str, str]) -> None:
        self.ids = ids
        self.asked: list[list[str]] = []

    def image_ids(self, references: Sequence[str]) -> dict[str, str]:
        self.asked.append(list(references))
        return {r: self.ids[r] for r in references if r in self.ids}


def test_a_tag_resolves_to_what_its_registry_answers_once_per_run() -> None:
    registries = Registries({"docker.io/library/debian:12": DIGEST})
    resolver = BaseResolver(registries, Local({}))
    first = resolver.resolve(["debian:12", "debian:12"])
    again = resolver.resolve(["debian:12"])
    assert first["debian:12"].digest == DIGEST and first["debian:12"].source is BaseSource.REGISTRY
    assert again == {"debian:12": first["debian:12"]}
    assert registries.asked == ["docker.io/library/debian:12"] and resolver.requests == 1


def test_pinned_bases_and_scratch_ask_nothing() -> None:
    registries = Registries({})
    resolved = BaseResolver(registries).resolve([f"debian@{DIGEST}", "scratch"])
    assert resolved[f"debian@{DIGEST}"].source is BaseSource.PINNED and resolved[f"debian@{DIGEST}"].digest == DIGEST
    assert resolved["scratch"].identity == "pinned:" and registries.asked == []


def test_a_base_its_registry_lacks_counts_by_the_local_image_id() -> None:
    local = Local({"localhost:5000/mine/base:1": "sha256:" + "b" * 64})
    resolved = BaseResolver(Registries({"localhost:5000/mine/base:1": None}), local).resolve(
        ["localhost:5000/mine/base:1"])
    assert resolved["localhost:5000/mine/base:1"].source is BaseSource.LOCAL
    assert resolved["localhost:5000/mine/base:1"].identity == "local:sha256:" + "b" * 64
    assert local.asked == [["localhost:5000/mine/base:1"]]


def test_a_base_found_nowhere_is_exit_3_naming_the_dockerfile() -> None:
    resolver = BaseResolver(Registries({"localhost:5000/gone:1": None}), Local({}))
    with pytest.raises(ExternalError, match=r"^services/alpha/Dockerfile: base image localhost:5000/gone:1 is neither "
                                            r"in its registry \(localhost:5000\) nor in the local Docker engine") as err:
        resolver.resolve(["localhost:5000/gone:1"], {"localhost:5000/gone:1": "services/alpha/Dockerfile"})
    assert err.value.exit_code == 3


def test_a_registry_that_cannot_be_asked_is_exit_3_never_the_local_copy() -> None:
    local = Local({"ghcr.io/acme/base:1": "sha256:" + "c" * 64})
    registries = Registries({"ghcr.io/acme/base:1": HttpError("GET https://ghcr.io/v2/...: connection refused")})
    with pytest.raises(ExternalError, match=r"base image ghcr.io/acme/base:1: cannot ask ghcr.io: .*connection refused"):
        BaseResolver(registries, local).resolve(["ghcr.io/acme/base:1"])
    assert local.asked == []  # an unreachable registry is not evidence that the base is local


def test_a_malformed_reference_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"^Dockerfile: FROM 'Debian:12': repository 'library/Debian'"):
        BaseResolver(Registries({})).resolve(["Debian:12"])
    with pytest.raises(BadInput, match=r"an unresolved build argument"):
        BaseResolver(Registries({})).resolve(["${BASE}"])


def test_many_bases_are_asked_side_by_side() -> None:
    answers: dict[str, str | None | Exception] = {f"docker.io/library/b{i}:1": DIGEST for i in range(6)}
    registries = Registries(answers)
    resolved = BaseResolver(registries, parallelism=4).resolve([f"b{i}:1" for i in range(6)])
    assert len(resolved) == 6 and sorted(registries.asked) == sorted(answers)
