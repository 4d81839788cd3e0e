"""`destroy` on the fakes: protection (configured, or production by name), the typed
confirmation, a dry run."""

from __future__ import annotations

import pytest

from devops.app import infra
from devops.domain.infra.results import PlanReport
from devops.errors import BadInput, GateFailed
from tests.app.infra.conftest import World


def applied(world: World, env: str = "dev") -> World:
    world.bootstrapped()
    infra.plan(world.config, env, world.ports)
    infra.apply(world.config, env, world.ports)
    return world


def test_destroy_shows_the_plan_asks_for_the_name_then_applies_it(world: World) -> None:
    applied(world)
    shown: list[PlanReport] = []
    asked: list[str] = []

    def ask(env: str) -> str:
        asked.append(env)
        assert shown, "the plan is shown before the question"
        return " dev\n"

    report = infra.destroy(world.config, "dev", world.ports, show=shown.append, ask=ask)
    assert asked == ["dev"] and shown[0].destroy is True and shown[0].summary.count("delete") == 4
    assert report.applied is not None and len(report.applied.applied) == 4
    assert all(line.startswith("delete ") for line in report.applied.applied)
    state = world.state("dev")
    assert state is not None and state["resources"] == {}


def test_a_wrong_name_or_nobody_to_ask_destroys_nothing(world: World) -> None:
    applied(world)
    with pytest.raises(GateFailed, match="destroy dev: confirmation did not match; nothing destroyed"):
        infra.destroy(world.config, "dev", world.ports, ask=lambda env: "prod")
    with pytest.raises(BadInput, match="confirmation needed but nothing could be read from stdin; .* pass --yes"):
        infra.destroy(world.config, "dev", world.ports, ask=lambda env: None)
    state = world.state("dev")
    assert state is not None and len(state["resources"]) == 4


def test_a_dry_run_plans_and_stops(world: World) -> None:
    applied(world)
    report = infra.destroy(world.config, "dev", world.ports, dry_run=True, ask=lambda env: pytest.fail("asked"))
    assert report.applied is None and report.plan.summary.count("delete") == 4
    assert (world.work("dev") / "destroy.tfplan").is_file()
    state = world.state("dev")
    assert state is not None and len(state["resources"]) == 4


def test_a_protected_environment_needs_allow_prod(world: World) -> None:
    applied(world, "prod")
    with pytest.raises(GateFailed, match=r"refusing to destroy prod: it is protected "
                                         r"\(infra.environments.prod.protected\); add --allow-prod"):
        infra.destroy(world.config, "prod", world.ports)
    assert not (world.work("prod") / "destroy.tfplan").exists()  # refused before planning
    report = infra.destroy(world.config, "prod", world.ports, allow_prod=True)
    assert report.applied is not None and len(report.applied.applied) == 4


def test_production_is_protected_unless_the_configuration_says_otherwise(world: World) -> None:
    # `protected` unset: the one production rule (devops/domain/environments.py) decides.
    del world.infra["environments"]["prod"]["protected"]
    applied(world, "prod")
    with pytest.raises(GateFailed, match=r"refusing to destroy prod: it is protected \(production by name: "
                                         r"environment 'prod', cluster 'shop-prod'; set infra.environments.prod"
                                         r".protected to decide otherwise\)"):
        infra.destroy(world.config, "prod", world.ports)
    # Declared wins: `protected: false` lifts it, `protected: true` protects dev.
    world.infra["environments"]["prod"]["protected"] = False
    assert infra.destroy(world.config, "prod", world.ports).applied is not None
    world.infra["environments"]["dev"]["protected"] = True
    applied(world, "dev")
    with pytest.raises(GateFailed, match=r"refusing to destroy dev: it is protected"):
        infra.destroy(world.config, "dev", world.ports)


def test_dev_is_not_protected_by_default(world: World) -> None:
    applied(world, "dev")
    assert infra.target(world.config, "dev", world.ports).protected is False
    assert infra.destroy(world.config, "dev", world.ports).applied is not None
