"""`plan` and the resolution of an environment's root, on the fakes."""

from __future__ import annotations

import json

import pytest

from devops.app import infra
from devops.domain.infra.terraform import BackendMissing, Diagnostic, LockInfo, StateLocked
from devops.errors import ConfigError, UnknownName
from tests.app.infra.conftest import BUCKET, TABLE, World
from tests.fakes.terraform import PASSWORD, FakeRoot, Resource


def test_plan_saves_the_plan_its_record_and_the_backend_it_was_made_with(world: World) -> None:
    world.bootstrapped()
    report = infra.plan(world.config, "dev", world.ports)
    assert report.has_changes is True and report.destroy is False
    assert report.summary.counts == {"create": 4, "update": 0, "delete": 0, "replace": 0}
    assert report.plan == world.work("dev") / "plan.tfplan" and report.plan.is_file()
    assert (report.backend.bucket, report.backend.key) == (BUCKET, "dev/terraform.tfstate")
    record = json.loads((world.work("dev") / "plan.tfplan.meta.json").read_text())
    assert record["environment"] == "dev" and record["bucket"] == BUCKET and record["destroy"] is False
    assert record["state"] is None and record["counts"]["create"] == 4 and len(record["sha256"]) == 64
    assert "terraform_data.network" in (world.work("dev") / "plan.json").read_text()
    backend = (world.work("dev") / "backend.hcl").read_text()
    assert f'bucket = "{BUCKET}"' in backend and f'dynamodb_table = "{TABLE}"' in backend
    assert "endpoints" not in backend  # no endpoint given: AWS itself
    assert PASSWORD not in json.dumps(report.summary.to_dict())
    # A second plan after the apply: nothing to do, and the record names the state it saw.
    infra.apply(world.config, "dev", world.ports)
    again = infra.plan(world.config, "dev", world.ports)
    assert again.has_changes is False and again.summary.headline() == "no infrastructure changes"
    state = world.state("dev")
    assert state is not None
    saved = json.loads((world.work("dev") / "plan.tfplan.meta.json").read_text())["state"]
    assert saved == {"lineage": state["lineage"], "serial": state["serial"]}


def test_devops_variables_win_over_configured_ones_and_the_endpoint_reaches_the_backend(world: World) -> None:
    world.bootstrapped()
    world.variables("dev", environment="prod", cluster_name="other", size=3)
    world.endpoint = "http://127.0.0.1:5001"
    infra.plan(world.config, "dev", world.ports)
    given = json.loads((world.work("dev") / "variables.tfvars.json").read_text())
    assert given["environment"] == "dev" and given["cluster_name"] == "shop-dev" and given["size"] == 3
    assert given["state_bucket"] == BUCKET and given["region"] == "ap-south-1"
    backend = (world.work("dev") / "backend.hcl").read_text()
    assert 'endpoints = { s3 = "http://127.0.0.1:5001", dynamodb = "http://127.0.0.1:5001" }' in backend


def test_the_account_is_asked_only_when_a_name_needs_it(world: World) -> None:
    world.infra["state"] = {"bucket": "fixed-state-bucket"}
    world.aws.create_backend("fixed-state-bucket", TABLE)
    infra.plan(world.config, "dev", world.ports)
    assert "account_id" not in world.aws.calls
    # Control: the default template names the account.
    world.infra["state"] = {}
    world.bootstrapped()
    infra.plan(world.config, "dev", world.ports)
    assert "account_id" in world.aws.calls


def test_plans_are_priced_in_the_clusters_region_and_its_warnings_come_first(world: World) -> None:
    world.bootstrapped()
    world.factory.roots["dev"] = FakeRoot(
        lambda v: {"aws_nat_gateway.a": Resource({"connectivity_type": "public"})},
        warnings=(Diagnostic("warning", "Deprecated attribute", "use_lockfile replaces dynamodb_table", "x.y"),))
    world.infra["environments"]["dev"]["root"] = "infra/dev"
    world.clusters_region = "eu-west-1"
    report = infra.plan(world.config, "dev", world.ports)
    assert report.cost.region == "eu-west-1" and report.cost.monthly_delta == 32.85
    assert len(report.warnings) == 2
    assert report.warnings[0].startswith("region eu-west-1") and "nat_gateway" in report.warnings[0]
    assert report.warnings[1] == "x.y: Deprecated attribute: use_lockfile replaces dynamodb_table"


def test_a_held_lock_names_the_unlock_command_of_this_environment(world: World) -> None:
    world.bootstrapped()
    lock = LockInfo("4f6d1c2a-0000-4000-8000-00000000beef", "alice@laptop", "OperationTypeApply", "2026-11-25")
    world.aws.hold_lock(TABLE, f"{BUCKET}/dev/terraform.tfstate", lock)
    with pytest.raises(StateLocked) as caught:
        infra.plan(world.config, "dev", world.ports)
    assert "devops infra unlock --env dev --lock-id 4f6d1c2a-0000-4000-8000-00000000beef" in str(caught.value)
    assert "<env>" not in str(caught.value)
    assert not (world.work("dev") / "plan.tfplan.meta.json").exists()  # no record: nothing to apply
    # The lock of dev does not block prod.
    assert infra.plan(world.config, "prod", world.ports).has_changes is True


def test_a_half_made_plan_never_keeps_an_old_record(world: World) -> None:
    world.bootstrapped()
    infra.plan(world.config, "dev", world.ports)
    record = world.work("dev") / "plan.tfplan.meta.json"
    assert record.is_file()
    world.aws.hold_lock(TABLE, f"{BUCKET}/dev/terraform.tfstate", LockInfo("someone"))
    with pytest.raises(StateLocked):
        infra.plan(world.config, "dev", world.ports)
    assert not record.exists()


def test_no_backend_says_to_bootstrap(world: World) -> None:
    with pytest.raises(BackendMissing, match=f"the state bucket {BUCKET} does not exist"):
        infra.plan(world.config, "dev", world.ports)


def test_an_unknown_environment_is_bad_input(world: World) -> None:
    with pytest.raises(UnknownName, match="unknown environment 'staging'; known: dev, prod"):
        infra.plan(world.config, "staging", world.ports)
    assert world.factory.made == []


def test_an_environment_without_a_root(world: World) -> None:
    del world.infra["environments"]["prod"]
    with pytest.raises(UnknownName, match=r"environment 'prod' has no Terraform root under infra.environments "
                                          r"\(configured: dev\)"):
        infra.plan(world.config, "prod", world.ports)


def test_a_root_that_is_not_a_folder(world: World) -> None:
    (world.root / "infra" / "dev").rmdir()
    (world.root / "infra" / "dev").write_text("not a folder")
    with pytest.raises(ConfigError, match=r"infra.environments.dev.root: .* is not a folder"):
        infra.plan(world.config, "dev", world.ports)
