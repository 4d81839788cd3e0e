"""`devops plan` on in-memory build inputs: changed by image, by git base, or unchecked."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.plan import make_plan, parse_build_args, service_image_ref, service_inputs
from devops.domain.images.identity import MissingAt
from devops.errors import BadInput, UnknownName
from tests.app.config import ROOT, make_config
from tests.fakes.docker import FakeInputs

ALPHA, BETA = ROOT / "services" / "alpha", ROOT / "services" / "beta"


@pytest.fixture
def inputs() -> FakeInputs:
    reader = FakeInputs()
    reader.put(ALPHA, ("app.txt", "alpha v1"))
    reader.put(BETA, ("app.txt", "beta v1"))
    return reader


def test_identity_follows_the_inputs_and_the_build_arguments(inputs: FakeInputs) -> None:
    config = make_config(build={"build_args": {"A": "0"}})
    first = service_inputs(config, "alpha", {}, inputs)
    assert first.build_args == {"A": "0"} and first.context == ALPHA and first.dockerfile == ALPHA / "Dockerfile"
    assert service_inputs(config, "alpha", {"A": "1"}, inputs).digest != first.digest
    inputs.put(ALPHA, ("app.txt", "alpha v2"))
    assert service_inputs(config, "alpha", {}, inputs).digest != first.digest
    assert service_image_ref(config, "alpha", {}, inputs).startswith("registry.test/acme/alpha:in-")


def test_without_a_base_an_existing_image_means_unchanged(inputs: FakeInputs) -> None:
    config = make_config()
    alpha = service_image_ref(config, "alpha", {}, inputs)
    plan = make_plan(config, reader=inputs, image_exists=lambda ref: ref == alpha)
    assert [(s.service, s.changed, s.reason) for s in plan.services] == [
        ("alpha", False, "image with these inputs exists"), ("beta", True, "no image with these inputs")]
    unchecked = make_plan(config, ["beta"], reader=inputs)
    assert [(s.service, s.changed, s.reason) for s in unchecked.services] == [("beta", True, "not checked")]


def test_against_a_base_every_kind_of_change(inputs: FakeInputs) -> None:
    config = make_config(services=("alpha", "beta", "gamma", "delta"))
    inputs.put(ROOT / "services" / "gamma", ("x", "1"))
    inputs.put(ROOT / "services" / "delta", ("x", "1"))
    inputs.at["main"] = {"services/alpha": inputs.trees[ALPHA], "services/beta": inputs.put(Path("/old"), ("app.txt", "beta v0")),
                         "services/delta": MissingAt.DOCKERFILE}
    plan = make_plan(config, reader=inputs, base="main")
    assert [(s.service, s.changed, s.reason) for s in plan.services] == [
        ("alpha", False, "inputs unchanged since main"), ("beta", True, "inputs changed since main"),
        ("gamma", True, "new since main"), ("delta", True, "no Dockerfile at main")]
    assert plan.base == "main" and [s.service for s in plan.changed] == ["beta", "gamma", "delta"]


def test_unknown_names_fail_before_anything_is_read(inputs: FakeInputs) -> None:
    with pytest.raises(UnknownName):
        make_plan(make_config(), ["alpha", "nope"], reader=inputs)
    assert inputs.reads == []


def test_build_arguments_from_the_command_line_override_the_environment() -> None:
    assert parse_build_args(["A=1", "B=x=y"], environ={"DEVOPS_BUILD_ARGS": "A=0  C=3"}) == \
        {"A": "1", "B": "x=y", "C": "3"}
    assert parse_build_args([], environ={}) == {}
    with pytest.raises(BadInput, match=r"^\$DEVOPS_BUILD_ARGS: build argument 'oops'"):
        parse_build_args([], environ={"DEVOPS_BUILD_ARGS": "oops"})
    with pytest.raises(BadInput, match=r"^--build-arg: build argument '1A=x'"):
        parse_build_args(["1A=x"], environ={})
