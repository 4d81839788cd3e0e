"""`devops build` on an in-memory engine: skips by identity, builds, never raises for one service."""

from __future__ import annotations

from dataclasses import replace

import pytest

from devops.app.build import BuildSettings, build_services, built_earlier, use_buildx
from devops.domain.images.plan import ServicePlan
from devops.domain.images.reference import BaseSource, ResolvedBase
from devops.domain.images.results import Status
from devops.errors import BadInput, ExternalError
from tests.app.images.support import COMMIT, RELEASE, plan
from tests.fakes.docker import FakeEngine


def settings(**changes: object) -> BuildSettings:
    values: dict[str, object] = {"revision": COMMIT, "source_url": "https://github.com/acme/shop", "use_buildx": False,
                                 "parallelism": 2, "timeout": 60, "created": "2026-01-01T00:00:00Z"}
    return BuildSettings(**{**values, **changes})  # type: ignore[arg-type]


def test_builds_what_is_missing_with_every_tag_and_label() -> None:
    engine, events = FakeEngine(), []
    alpha = plan("alpha")
    [result] = build_services([alpha], engine, settings(revision=RELEASE), on_event=lambda s, m: events.append((s, m)))
    assert result.status is Status.BUILT and result.error == ""
    assert result.tags == [f"{alpha.repository}:{t}" for t in (alpha.inputs.tag, "sha-0123456", "1.2.3", "1.2", "1")]
    spec, buildx = engine.builds[0]
    assert not buildx and spec.tags == tuple(result.tags) and spec.build_args == {"A": "1"}
    assert spec.labels["org.opencontainers.image.version"] == "1.2.3" and spec.cache_from == ()
    assert events == [("alpha", "building"), ("alpha", "built")]


def test_an_image_with_these_inputs_is_not_built_again_but_gets_the_new_tags() -> None:
    alpha = plan("alpha")
    engine = FakeEngine(images={alpha.image: "sha256:1", f"{alpha.repository}:sha-0123456": "sha256:1"})
    [result] = build_services([alpha], engine, settings(revision=RELEASE))
    assert (result.status, result.reason) == (Status.SKIPPED, "image with these inputs exists locally")
    assert engine.builds == [] and engine.images[f"{alpha.repository}:1.2.3"] == "sha256:1"


def test_the_registry_is_asked_when_the_build_will_be_pushed() -> None:
    alpha, beta = plan("alpha"), plan("beta")
    asked = []

    def remote(repository: str, tag: str) -> bool:
        asked.append((repository, tag))
        return repository.endswith("alpha")

    engine = FakeEngine(has_buildx=True)
    results = build_services([alpha, beta], engine, settings(use_buildx=True, registry_cache=True,
                                                             remote_exists=remote, platforms=("linux/amd64",)))
    assert [(r.service, r.status, r.reason) for r in results] == [
        ("alpha", Status.SKIPPED, "image with these inputs exists in the registry"), ("beta", Status.BUILT, "")]
    spec, buildx = engine.builds[0]
    assert buildx and spec.platforms == ("linux/amd64",)
    assert spec.cache_from == ("type=registry,ref=registry.test/acme/beta:buildcache",)
    assert spec.cache_to == "type=registry,ref=registry.test/acme/beta:buildcache,mode=max"


def test_no_cache_reaches_the_build_and_the_registry_cache_needs_buildx() -> None:
    engine = FakeEngine()
    build_services([plan("alpha")], engine, settings(no_cache=True, registry_cache=True, remote_exists=lambda r, t: False))
    spec, _ = engine.builds[0]
    assert spec.no_cache and spec.cache_from == () and spec.cache_to is None


def test_a_failed_build_is_reported_and_the_others_go_on() -> None:
    engine = FakeEngine(fail_builds={"alpha": "step 3/4: exit 1"})
    ticks = iter([0.0, 2.5, 10.0, 11.0])
    results = build_services([plan("alpha"), plan("beta")], engine, settings(parallelism=1),
                             clock=lambda: next(ticks))
    assert [(r.service, r.status) for r in results] == [("alpha", Status.FAILED), ("beta", Status.BUILT)]
    assert "step 3/4: exit 1" in results[0].error and results[0].seconds == 2.5


def test_builder_choice() -> None:
    assert use_buildx("auto", True) and not use_buildx("auto", False)
    assert use_buildx("buildx", True) and not use_buildx("classic", True)
    with pytest.raises(BadInput, match="build.builder is buildx but `docker buildx` is not installed"):
        use_buildx("buildx", False)


def test_a_push_without_a_build_needs_the_image_of_the_current_inputs() -> None:
    alpha = plan("alpha")
    engine = FakeEngine(images={alpha.image: "sha256:1", f"{alpha.repository}:sha-0123456": "sha256:1"})
    [result] = built_earlier([alpha], engine, RELEASE)
    assert (result.status, result.reason) == (Status.SKIPPED, "built earlier")
    assert result.tags == [alpha.image, f"{alpha.repository}:sha-0123456"]  # only the tags it has
    with pytest.raises(BadInput, match=r"^beta: no local image .* for the current inputs"):
        built_earlier([plan("beta")], engine, COMMIT)


def with_base(service: str, reference: str, digest: str, source: BaseSource = BaseSource.REGISTRY) -> ServicePlan:
    p = plan(service)
    return replace(p, inputs=replace(p.inputs, base_images=(reference,),
                                     bases=(ResolvedBase(reference, digest, source),)))


def test_nothing_to_build_asks_the_engine_once_and_never_for_buildx() -> None:
    alpha, beta = plan("alpha"), plan("beta")
    engine = FakeEngine(images={p.image: "sha256:1" for p in (alpha, beta)})
    asked = []
    results = build_services([alpha, beta], engine, settings(use_buildx=lambda: asked.append(1) or False))
    assert [r.status for r in results] == [Status.SKIPPED, Status.SKIPPED]
    assert engine.inspections == 1 and asked == []  # one `docker image inspect`, no `docker buildx version`


def test_a_registry_base_is_pulled_by_its_digest_when_the_local_copy_is_another() -> None:
    digest = "sha256:" + "d" * 64
    moved = with_base("alpha", "localhost:5000/base/debian:12", digest)
    engine = FakeEngine(images={"localhost:5000/base/debian:12": "sha256:old"})  # the copy before the re-push
    [result] = build_services([moved], engine, settings())
    assert result.status is Status.BUILT
    assert engine.pulls == [f"localhost:5000/base/debian@{digest}"]  # exactly what the identity names
    assert engine.images["localhost:5000/base/debian:12"] == engine.images[f"localhost:5000/base/debian@{digest}"]
    # Control: a local copy that is that digest is used as it is.
    engine.pulls.clear()
    build_services([with_base("beta", "localhost:5000/base/debian:12", digest)], engine, settings())
    assert engine.pulls == []


def test_local_and_pinned_bases_are_never_pulled() -> None:
    engine = FakeEngine()
    build_services([with_base("alpha", "mine/base:1", "sha256:" + "e" * 64, BaseSource.LOCAL),
                    with_base("beta", "debian@sha256:" + "f" * 64, "sha256:" + "f" * 64, BaseSource.PINNED)],
                   engine, settings())
    assert engine.pulls == [] and len(engine.builds) == 2


def test_a_base_that_cannot_be_pulled_fails_its_services_only() -> None:
    engine = FakeEngine()

    def refuse(reference: str, *, timeout: float = 900) -> str:
        raise ExternalError(f"docker pull {reference}: manifest unknown")

    engine.pull = refuse  # type: ignore[method-assign]
    results = build_services([with_base("alpha", "localhost:5000/base/debian:12", "sha256:" + "d" * 64), plan("beta")],
                             engine, settings())
    assert [(r.service, r.status) for r in results] == [("alpha", Status.FAILED), ("beta", Status.BUILT)]
    assert "base image localhost:5000/base/debian:12@sha256:dddd" in results[0].error
