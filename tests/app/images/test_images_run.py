"""`devops build [--push]` and `devops push` as one use case, on in-memory ports."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import pytest

from devops.app.images_run import (
    ImagesPorts,
    ImagesRequest,
    ImagesSettings,
    RegistryLogin,
    build_and_push,
    login,
    no_progress,
)
from devops.app.push import RetrySettings
from devops.domain.images.results import Status
from devops.errors import BadInput, UnknownName
from tests.app.config import ROOT, make_config
from tests.app.images.support import COMMIT
from tests.fakes.docker import FakeBases, FakeEngine, FakeInputs
from tests.fakes.registry import FakeRegistry

CONFIG = make_config()
HUB = RegistryLogin("docker.io", None, None, docker_hub=True)
LOCAL = RegistryLogin("registry.test", None, None, docker_hub=False)


class Progress:
    """The progress port: what each verb reported for each item."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    @contextmanager
    def __call__(self, verb: str, items: Sequence[str]) -> Iterator[Callable[[str, str], None]]:
        yield lambda item, message: self.seen.append((verb, item, message))


class World:
    def __init__(self, credentials: RegistryLogin = LOCAL) -> None:
        self.engine = FakeEngine()
        self.registry = FakeRegistry()
        self.inputs = FakeInputs()
        self.bases = FakeBases()
        self.inputs.put(ROOT / "services" / "alpha", ("app.txt", "alpha"))
        self.inputs.put(ROOT / "services" / "beta", ("app.txt", "beta"))
        self.progress = Progress()
        self.made: list[str] = []
        self.credentials = credentials

    def _engine(self) -> FakeEngine:
        self.made.append("engine")
        return self.engine

    def _registry(self) -> FakeRegistry:
        self.made.append("registry")
        return self.registry

    def ports(self) -> ImagesPorts:
        settings = ImagesSettings(builder="auto", parallelism=2, timeout=60, revision=COMMIT, source_url="src",
                                  retry=RetrySettings(attempts=2, backoff_seconds=0, deadline_seconds=5),
                                  registry_path=lambda s: f"acme/{s}")
        return ImagesPorts(engine=self._engine, registry=self._registry, reader=self.inputs, bases=lambda: self.bases,
                           settings=lambda: settings, credentials=lambda: self.credentials, progress=self.progress)


def confirm_pushes(world: World) -> None:
    """The registry has what the engine pushed (as a real registry would)."""
    original = world.engine.push

    def push(reference: str, *, timeout: float) -> str:
        digest = original(reference, timeout=timeout)
        repository, tag = reference.removeprefix("registry.test/").rsplit(":", 1)
        world.registry.put(repository, tag, digest)
        return digest

    world.engine.push = push  # type: ignore[method-assign]


def test_an_unknown_service_is_bad_input_before_docker_is_asked() -> None:
    world = World()
    with pytest.raises(UnknownName):
        build_and_push(CONFIG, ImagesRequest(["alpha", "nope"], {}, build=True, push=False), world.ports())
    assert world.made == []


def test_build_then_push_and_report() -> None:
    world = World()
    confirm_pushes(world)
    outcome = build_and_push(CONFIG, ImagesRequest([], {"A": "1"}, build=True, push=True), world.ports())
    assert outcome.report is not None and outcome.exit_code == 0
    assert [(o.plan.service, o.build.status if o.build else None, bool(o.push and o.push.ok))
            for o in outcome.report.outcomes] == [("alpha", Status.BUILT, True), ("beta", Status.BUILT, True)]
    assert world.made == ["engine", "registry"] and world.engine.logins == []  # no credentials, not Docker Hub
    verbs = {(verb, item) for verb, item, _ in world.progress.seen}
    assert verbs == {("build", "alpha"), ("build", "beta"), ("push", "alpha"), ("push", "beta")}
    assert all(spec.build_args == {"A": "1"} for spec, _ in world.engine.builds)
    # One push per image (the identity tag); the commit tag is added in the registry.
    assert sorted(world.engine.pushes) == sorted(o.plan.image for o in outcome.report.outcomes)
    assert all(world.registry.repositories[f"acme/{s}"]["sha-0123456"] == world.registry.repositories[f"acme/{s}"][
        o.plan.inputs.tag] for s, o in zip(("alpha", "beta"), outcome.report.outcomes, strict=True))


def test_a_build_with_nothing_to_do_asks_the_engine_once() -> None:
    world = World()
    build_and_push(CONFIG, ImagesRequest([], {}, build=True, push=False), world.ports())
    world.engine.inspections = 0
    again = build_and_push(CONFIG, ImagesRequest([], {}, build=True, push=False), world.ports())
    assert again.report is not None and again.report.counts() == {"skipped": 2}
    assert world.engine.inspections == 1 and len(world.engine.builds) == 2


def test_a_dry_run_plans_and_changes_nothing() -> None:
    world = World(RegistryLogin("registry.test", "bot", "t0k3n", docker_hub=False))
    outcome = build_and_push(CONFIG, ImagesRequest(["beta"], {}, build=True, push=True, dry_run=True), world.ports())
    assert outcome.report is None and outcome.exit_code == 0
    assert [s.service for s in outcome.plan.services] == ["beta"]
    assert world.engine.builds == [] and world.engine.pushes == []
    assert world.engine.logins == [("registry.test", "bot", "t0k3n")]  # a dry run still checks the login


def test_a_push_needs_the_earlier_build_of_the_current_inputs() -> None:
    world = World()
    with pytest.raises(BadInput, match="no local image"):
        build_and_push(CONFIG, ImagesRequest(["alpha"], {}, build=False, push=True), world.ports())


def test_a_failed_build_is_exit_3_and_is_not_pushed() -> None:
    world = World()
    confirm_pushes(world)
    world.engine.fail_builds = {"alpha": "exit 1"}
    outcome = build_and_push(CONFIG, ImagesRequest([], {}, build=True, push=True), world.ports())
    assert outcome.exit_code == 3 and outcome.report is not None
    assert [o.plan.service for o in outcome.report.failed] == ["alpha"]
    assert not any("alpha" in p for p in world.engine.pushes)


def test_docker_hub_without_credentials_is_bad_input() -> None:
    with pytest.raises(BadInput, match=r"pushing to docker.io needs \$DOCKERHUB_USERNAME and \$DOCKERHUB_TOKEN"):
        login(FakeEngine(), HUB)
    login(FakeEngine(), LOCAL)  # control: a local registry without credentials is fine


def test_no_progress_is_silent(capsys: pytest.CaptureFixture[str]) -> None:
    with no_progress("build", ["a"]) as sink:
        sink("a", "building")
    assert capsys.readouterr() == ("", ""), "no progress means nothing printed"


def test_a_build_alone_never_asks_the_registry() -> None:
    world = World()
    outcome = build_and_push(CONFIG, ImagesRequest(["alpha"], {}, build=True, push=False), world.ports())
    assert outcome.report is not None and [o.push for o in outcome.report.outcomes] == [None]
    assert world.made == ["engine"] and world.registry.requests == []
