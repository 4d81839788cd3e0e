"""`devops plan` on in-memory build inputs and base images: changed by image, by git base, or
unchecked; base images by digest."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.plan import make_plan, parse_build_args, service_image_ref, service_inputs
from devops.domain.images.identity import MissingAt
from devops.domain.images.results import SOURCE_LABEL
from devops.errors import BadInput, UnknownName
from tests.app.config import ROOT, make_config
from tests.fakes.docker import FakeBases, FakeEngine, FakeInputs

ALPHA, BETA = ROOT / "services" / "alpha", ROOT / "services" / "beta"


@pytest.fixture
def inputs() -> FakeInputs:
    reader = FakeInputs()
    reader.put(ALPHA, ("app.txt", "alpha v1"))
    reader.put(BETA, ("app.txt", "beta v1"))
    return reader


def test_identity_follows_the_inputs_and_the_build_arguments(inputs: FakeInputs) -> None:
    config, bases = make_config(build={"build_args": {"A": "0"}}), FakeBases()
    first = service_inputs(config, "alpha", {}, inputs, bases)
    assert first.build_args == {"A": "0"} and first.context == ALPHA and first.dockerfile == ALPHA / "Dockerfile"
    assert service_inputs(config, "alpha", {"A": "1"}, inputs, bases).digest != first.digest
    inputs.put(ALPHA, ("app.txt", "alpha v2"))
    assert service_inputs(config, "alpha", {}, inputs, bases).digest != first.digest
    assert service_image_ref(config, "alpha", {}, inputs, bases).startswith("registry.test/acme/alpha:in-")


def test_the_identity_includes_the_digest_each_base_resolves_to(inputs: FakeInputs) -> None:
    config, bases = make_config(), FakeBases()
    first = service_inputs(config, "alpha", {}, inputs, bases)
    assert [(b.reference, b.digest) for b in first.bases] == [("debian", bases.digest("debian"))]
    bases.move("debian", "re-pushed under the same tag")
    moved = service_inputs(config, "alpha", {}, inputs, bases)
    assert moved.digest != first.digest and moved.source_digest == first.source_digest  # only the base moved
    bases.move("debian", "re-pushed under the same tag")
    assert service_inputs(config, "alpha", {}, inputs, bases).digest == moved.digest  # control: same digest, same id


def test_every_service_is_read_and_every_base_resolved_in_one_call(inputs: FakeInputs) -> None:
    bases = FakeBases()
    make_plan(make_config(), reader=inputs, bases=bases)
    assert inputs.calls == 1 and bases.asked == ["debian", "debian"]


def test_without_a_base_an_existing_image_means_unchanged(inputs: FakeInputs) -> None:
    config, bases = make_config(), FakeBases()
    alpha = service_image_ref(config, "alpha", {}, inputs, bases)
    engine = FakeEngine(images={alpha: "sha256:1"})
    plan = make_plan(config, reader=inputs, bases=bases, images=engine)
    assert [(s.service, s.changed, s.reason) for s in plan.services] == [
        ("alpha", False, "image with these inputs exists"), ("beta", True, "no image with these inputs")]
    assert engine.inspections == 1  # one look-up for every service
    unchecked = make_plan(config, ["beta"], reader=inputs, bases=bases)
    assert [(s.service, s.changed, s.reason) for s in unchecked.services] == [("beta", True, "not checked")]


def test_a_base_that_moved_under_the_same_tag_is_named_as_the_change(inputs: FakeInputs) -> None:
    config, bases = make_config(), FakeBases()
    before = {name: service_inputs(config, name, {}, inputs, bases) for name in ("alpha", "beta")}
    engine = FakeEngine()
    for name, built in before.items():  # the images of both, labelled as builds label them
        engine.images[f"registry.test/acme/{name}:{built.tag}"] = f"sha256:{name}"
        engine.labels[f"sha256:{name}"] = {SOURCE_LABEL: built.source_digest}
    bases.move("debian", "patched upstream")
    inputs.put(BETA, ("app.txt", "beta v2"))  # beta also changed its own files
    plan = make_plan(config, reader=inputs, bases=bases, images=engine)
    assert [(s.service, s.changed, s.reason) for s in plan.services] == [
        ("alpha", True, "base image changed"), ("beta", True, "no image with these inputs")]


def test_against_a_base_every_kind_of_change(inputs: FakeInputs) -> None:
    config = make_config(services=("alpha", "beta", "gamma", "delta"))
    inputs.put(ROOT / "services" / "gamma", ("x", "1"))
    inputs.put(ROOT / "services" / "delta", ("x", "1"))
    inputs.at["main"] = {"services/alpha": inputs.trees[ALPHA], "services/beta": inputs.put(Path("/old"), ("app.txt", "beta v0")),
                         "services/delta": MissingAt.DOCKERFILE}
    plan = make_plan(config, reader=inputs, bases=FakeBases(), base="main")
    assert [(s.service, s.changed, s.reason) for s in plan.services] == [
        ("alpha", False, "inputs unchanged since main"), ("beta", True, "inputs changed since main"),
        ("gamma", True, "new since main"), ("delta", True, "no Dockerfile at main")]
    assert plan.base == "main" and [s.service for s in plan.changed] == ["beta", "gamma", "delta"]
    assert inputs.calls == 2  # the working tree once, the base once


def test_unknown_names_fail_before_anything_is_read(inputs: FakeInputs) -> None:
    with pytest.raises(UnknownName):
        make_plan(make_config(), ["alpha", "nope"], reader=inputs, bases=FakeBases())
    assert inputs.reads == []


def test_build_arguments_from_the_command_line_override_the_environment() -> None:
    assert parse_build_args(["A=1", "B=x=y"], environ={"DEVOPS_BUILD_ARGS": "A=0  C=3"}) == \
        {"A": "1", "B": "x=y", "C": "3"}
    assert parse_build_args([], environ={}) == {}
    with pytest.raises(BadInput, match=r"^\$DEVOPS_BUILD_ARGS: build argument 'oops'"):
        parse_build_args([], environ={"DEVOPS_BUILD_ARGS": "oops"})
    with pytest.raises(BadInput, match=r"^--build-arg: build argument '1A=x'"):
        parse_build_args(["1A=x"], environ={})
