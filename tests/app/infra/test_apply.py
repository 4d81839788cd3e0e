"""`apply` on the fakes: exactly the saved plan, after every refusal of the guards; what a
failure part-way applied; what an interruption left of the lock."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from devops.app import infra
from devops.domain.infra.terraform import ApplyResult, TerraformFailed
from devops.errors import BadInput, ExitCode, GateFailed, ToolTimeout
from tests.app.infra.conftest import BUCKET, TABLE, World
from tests.fakes.terraform import FakeTerraform

LOCK_ID = f"{BUCKET}/dev/terraform.tfstate"


def planned(world: World, env: str = "dev") -> Path:
    world.bootstrapped()
    return infra.plan(world.config, env, world.ports).plan


def test_apply_applies_the_saved_plan_then_spends_it(world: World) -> None:
    plan = planned(world)
    report = infra.apply(world.config, "dev", world.ports)
    assert sorted(report.applied) == ["create terraform_data.cluster", "create terraform_data.credentials",
                                      "create terraform_data.network", "create terraform_data.nodes"]
    assert report.counts["add"] == 4 and report.dry_run is False
    assert report.outputs["db_password"] == "(sensitive)" and len(report.outputs["network_id"]) == 36
    state = world.state("dev")
    assert state is not None and len(state["resources"]) == 4
    assert not plan.exists() and not (plan.parent / "plan.tfplan.meta.json").exists()
    with pytest.raises(BadInput, match=r"no saved plan for dev; run `devops infra plan --env dev` first"):
        infra.apply(world.config, "dev", world.ports)


def test_a_dry_run_checks_everything_and_applies_nothing(world: World) -> None:
    plan = planned(world)
    report = infra.apply(world.config, "dev", world.ports, dry_run=True)
    assert report.dry_run is True and report.applied == ()
    assert report.counts == {"create": 4, "update": 0, "delete": 0, "replace": 0}
    assert world.state("dev") is None and plan.is_file()
    assert "apply" not in world.factory.calls


def test_a_stale_plan_is_refused(world: World) -> None:
    planned(world)
    infra.apply(world.config, "dev", world.ports)
    world.variables("dev", size=2)
    stale = infra.plan(world.config, "dev", world.ports).plan
    kept = stale.read_bytes(), (stale.parent / "plan.tfplan.meta.json").read_bytes()
    world.variables("dev", size=5)  # someone else plans and applies another change
    infra.plan(world.config, "dev", world.ports)
    infra.apply(world.config, "dev", world.ports)
    stale.write_bytes(kept[0])
    (stale.parent / "plan.tfplan.meta.json").write_bytes(kept[1])
    with pytest.raises(GateFailed) as caught:
        infra.apply(world.config, "dev", world.ports)
    message = str(caught.value)
    assert "refusing to apply a stale plan: it was made against serial 1" in message
    assert "the state is now serial 2" in message and "run `devops infra plan --env dev` again" in message
    assert "apply" not in world.factory.made[-1].calls


def test_a_plan_for_another_environment_is_refused_even_with_its_record_rewritten(world: World) -> None:
    prod_plan = planned(world, "prod")
    with pytest.raises(GateFailed, match="the plan was made for environment 'prod', not 'dev'"):
        infra.apply(world.config, "dev", world.ports, plan_file=prod_plan)
    record = prod_plan.parent / "plan.tfplan.meta.json"
    meta = json.loads(record.read_text())
    meta.update(environment="dev", key="dev/terraform.tfstate")
    record.write_text(json.dumps(meta))
    with pytest.raises(GateFailed, match="the plan's environment variable is 'prod', not 'dev'"):
        infra.apply(world.config, "dev", world.ports, plan_file=prod_plan)
    assert world.state("dev") is None and world.state("prod") is None


def test_an_altered_plan_is_refused(world: World) -> None:
    plan = planned(world)
    with plan.open("ab") as handle:
        handle.write(b" ")
    with pytest.raises(GateFailed, match="the plan file changed after it was made"):
        infra.apply(world.config, "dev", world.ports)


@pytest.mark.parametrize("record", [None, "not json", "[1, 2]"])
def test_a_plan_without_a_readable_record_is_refused(world: World, record: str | None) -> None:
    plan = planned(world)
    meta = plan.parent / "plan.tfplan.meta.json"
    if record is None:
        meta.unlink()
    else:
        meta.write_text(record)
    with pytest.raises(GateFailed, match="its record plan.tfplan.meta.json is missing or unreadable"):
        infra.apply(world.config, "dev", world.ports)


def test_a_plan_of_another_kind_is_refused(world: World) -> None:
    plan = planned(world)
    shutil.copy(plan, world.work("dev") / "destroy.tfplan")
    shutil.copy(plan.parent / "plan.tfplan.meta.json", world.work("dev") / "destroy.tfplan.meta.json")
    with pytest.raises(GateFailed, match="refusing to apply: it is not a destroy plan"):
        infra.apply(world.config, "dev", world.ports, destroy=True)


def test_a_failure_part_way_says_what_was_applied(world: World) -> None:
    world.bootstrapped()
    world.variables("dev", fail=True)
    infra.plan(world.config, "dev", world.ports)
    with pytest.raises(TerraformFailed) as caught:
        infra.apply(world.config, "dev", world.ports)
    message = str(caught.value)
    assert "terraform_data.step[0]: local-exec provisioner error" in message
    assert "applied before the failure: create terraform_data.cluster, create terraform_data.credentials" in message
    assert "fix the error and run `devops infra plan --env dev` again" in message
    assert caught.value.exit_code == ExitCode.EXTERNAL and len(caught.value.applied) == 4
    assert world.aws.tables[TABLE] == {}  # Terraform released its lock


@pytest.mark.parametrize("keeps_lock", [True, False])
def test_an_interrupted_apply_says_what_became_of_the_lock(world: World, keeps_lock: bool) -> None:
    world.bootstrapped()
    world.factory.interrupt_keeps_lock = keeps_lock
    world.variables("dev", sleep_seconds=60)
    infra.plan(world.config, "dev", world.ports)
    with pytest.raises(infra.ApplyInterrupted) as caught:
        infra.apply(world.config, "dev", world.ports)
    message = str(caught.value)
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert message.startswith("terraform apply for dev interrupted: ")
    assert re.search(r"check what changed with `devops infra plan --env dev` \(ran \d+ s\)$", message)
    held = world.aws.tables[TABLE].get(LOCK_ID)
    if keeps_lock:
        assert held is not None
        assert f"the state lock {held.id} is still held" in message
        assert f"`devops infra unlock --env dev --lock-id {held.id}`" in message
        assert f"force-unlock {held.id}" in message
        # The command it names works.
        assert infra.unlock(world.config, "dev", held.id, world.ports).released is True
        assert world.aws.tables[TABLE] == {}
    else:
        assert held is None and "the state lock was released" in message


def test_an_interruption_with_the_lock_table_unreadable_says_it_may_be_held(world: World) -> None:
    world.bootstrapped()
    world.variables("dev", sleep_seconds=60)
    infra.plan(world.config, "dev", world.ports)
    world.aws.failing.add("held_lock")
    with pytest.raises(infra.ApplyInterrupted, match="the state lock may still be held .the lock table could not "
                                                     r"be read.; if a plan says so, release it with `devops infra "
                                                     r"unlock --env dev --lock-id <ID>`"):
        infra.apply(world.config, "dev", world.ports)


def test_a_timed_out_apply_is_reported_as_such(world: World) -> None:
    class Slow(FakeTerraform):
        def apply(self, plan: Path, *, lock_timeout: str = "0s") -> ApplyResult:
            raise ToolTimeout("terraform apply: killed after 3600 s")

    plan = planned(world)
    world.factory.made.clear()
    ports = infra.InfraPorts(lambda root: Slow(root, world.aws), world.probe)
    with pytest.raises(infra.ApplyInterrupted, match="terraform apply for dev timed out and was killed: "
                                                     "the state lock was released"):
        infra.apply(world.config, "dev", ports, plan_file=plan)
