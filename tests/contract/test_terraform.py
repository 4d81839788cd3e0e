"""The Terraform and Probe ports (devops/app/infra/ports.py): the same assertions against the
in-memory fakes (tests/fakes/terraform.py, tests/fakes/aws_probe.py) and against the real
adapters: the `terraform` binary (1.11) with the S3 backend and DynamoDB locking on a moto
server, and `BackendProbe` on the same server. The real side runs the fixture roots of
tests/infra/fixtures (built-in `terraform_data` resources: no provider download) with an
empty TF_CLI_CONFIG_FILE, and is marked slow (not in `nox -s unit`)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devops.app.infra.ports import Probe, Terraform
from devops.domain.infra.backend import BackendSettings
from devops.domain.infra.plan_summary import summarise
from devops.domain.infra.terraform import BackendMissing, LockInfo, StateLocked, TerraformFailed
from tests.fakes.aws_probe import ACCOUNT, FakeAws, FakeProbe
from tests.fakes.terraform import APP, BOOTSTRAP, PASSWORD, FakeTerraform

FIXTURES = Path(__file__).resolve().parents[1] / "infra" / "fixtures"
REGION = "ap-south-1"
BUCKET, TABLE, KMS_ALIAS = f"shop-tfstate-{ACCOUNT}", "shop-tflock", "alias/shop-tfstate"
APP_ADDRESSES = {"terraform_data.network", "terraform_data.nodes", "terraform_data.cluster",
                 "terraform_data.credentials"}
SOMEONE = LockInfo("4f6d1c2a-0000-4000-8000-00000000beef", "alice@laptop", "OperationTypeApply",
                   "2026-11-25T10:00:00Z", f"{BUCKET}/dev/terraform.tfstate")


@dataclass
class Side:
    """One implementation of the ports, with what the assertions need around it."""

    name: str
    work: Path
    probe: Probe
    backend: BackendSettings
    aws: FakeAws | None = None  # the fake side's account

    def terraform(self, fixture: str = "app") -> Terraform:
        root = self.work / fixture
        if not root.exists():
            shutil.copytree(FIXTURES / fixture, root)
        if self.aws is not None:
            return FakeTerraform(root, self.aws, BOOTSTRAP if fixture == "bootstrap" else APP)
        from devops.adapters.terraform import Terraform as Real

        return Real(root, timeout=300)

    def backend_file(self) -> Path:
        path = self.work / "backend.hcl"
        path.write_text(self.backend.hcl())
        return path

    def variables(self, **values: Any) -> Path:
        path = self.work / "vars.tfvars.json"
        base = {"environment": "dev", "region": REGION, "cluster_name": "shop-dev", "state_bucket": BUCKET,
                "lock_table": TABLE, "state_kms_alias": KMS_ALIAS}
        path.write_text(json.dumps({**base, **values}))
        return path

    def create_backend(self) -> None:
        if self.aws is not None:
            self.aws.create_backend(BUCKET, TABLE)
        else:
            from tests.infra.conftest import create_backend

            create_backend(BUCKET, TABLE)

    def hold_lock(self, lock: LockInfo) -> None:
        if self.aws is not None:
            self.aws.hold_lock(TABLE, self.backend.lock_id, lock)
            return
        import boto3

        info = {"ID": lock.id, "Operation": lock.operation, "Info": "", "Who": lock.who, "Version": "1.11.4",
                "Created": lock.created, "Path": lock.path}
        boto3.client("dynamodb", region_name=REGION).put_item(
            TableName=TABLE, Item={"LockID": {"S": self.backend.lock_id}, "Info": {"S": json.dumps(info)}})


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.slow)])
def side(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Side]:
    options: tuple[tuple[str, bool], ...] = ()
    endpoint = None
    if request.param == "real":
        if not shutil.which("terraform"):
            pytest.skip("terraform is not installed (the machine image ships 1.11 at /usr/local/bin/terraform)")
        endpoint = request.getfixturevalue("aws_env")
        (tmp_path / "empty.tfrc").write_text("")
        monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "empty.tfrc"))
        options = (("use_path_style", True),)  # the one stand-in option moto needs (docs/infra.md)
    backend = BackendSettings(BUCKET, TABLE, KMS_ALIAS, REGION, "dev/terraform.tfstate", endpoint, options)
    if request.param == "fake":
        aws = FakeAws()
        yield Side("fake", tmp_path, FakeProbe(aws), backend, aws)
    else:
        from devops.adapters.aws.account import BackendProbe

        yield Side("real", tmp_path, BackendProbe(REGION), backend)


def test_the_probe_knows_the_account_and_an_absent_backend(side: Side) -> None:
    assert side.probe.account_id() == ACCOUNT
    assert side.probe.bucket_exists(BUCKET) is False and side.probe.table_exists(TABLE) is False
    side.create_backend()
    assert side.probe.bucket_exists(BUCKET) is True and side.probe.table_exists(TABLE) is True
    assert side.probe.object_exists(BUCKET, "dev/terraform.tfstate") is False
    assert side.probe.held_lock(TABLE, side.backend.lock_id) is None


def test_a_missing_state_bucket_says_to_bootstrap(side: Side) -> None:
    tf = side.terraform()
    with pytest.raises(BackendMissing, match=f"the state bucket {BUCKET} does not exist") as caught:
        tf.init(side.backend_file())
        tf.plan(side.work / "plan.tfplan", var_file=side.variables())
    assert "devops infra bootstrap" in str(caught.value)


def test_plan_apply_output_and_plan_again(side: Side) -> None:
    side.create_backend()
    tf = side.terraform()
    tf.init(side.backend_file())
    assert tf.state_stamp() is None
    plan = side.work / "plan.tfplan"
    result = tf.plan(plan, var_file=side.variables())
    assert result.has_changes is True and result.path == plan
    shown = tf.show_plan(plan)
    assert shown["variables"]["environment"]["value"] == "dev"
    creates = {rc["address"] for rc in shown["resource_changes"] if rc["change"]["actions"] == ["create"]}
    assert creates == APP_ADDRESSES
    assert shown["output_changes"]["db_password"]["after_sensitive"] is True
    summary = summarise(shown)  # sensitive values are marked so the summary hides them
    assert PASSWORD not in json.dumps(summary.to_dict())
    assert summary.counts == {"create": 4, "update": 0, "delete": 0, "replace": 0}
    assert tf.plan_stamp(plan) is None  # made against no state

    applied = tf.apply(plan)
    assert {line for line in applied.applied} == {f"create {address}" for address in APP_ADDRESSES}
    assert applied.summary["add"] == 4 and applied.summary["remove"] == 0
    assert applied.outputs["db_password"]["sensitive"] is True
    assert applied.outputs["network_id"]["sensitive"] is False
    stamp = tf.state_stamp()
    assert stamp is not None and stamp.serial >= 1 and stamp.lineage
    assert side.probe.object_exists(BUCKET, "dev/terraform.tfstate") is True
    assert side.probe.held_lock(TABLE, side.backend.lock_id) is None  # released after the apply

    outputs = tf.output()
    assert outputs["db_password"]["sensitive"] is True and outputs["db_password"]["value"] == PASSWORD
    assert len(outputs["network_id"]["value"]) == 36

    again = side.work / "again.tfplan"
    assert tf.plan(again, var_file=side.variables()).has_changes is False
    assert tf.plan_stamp(again) == tf.state_stamp() == stamp  # a plan carries the state it was made against


def test_updates_replacements_and_a_stale_plan(side: Side) -> None:
    side.create_backend()
    tf = side.terraform()
    tf.init(side.backend_file())
    first = side.work / "first.tfplan"
    tf.plan(first, var_file=side.variables())
    tf.apply(first)
    changed = side.work / "changed.tfplan"
    assert tf.plan(changed, var_file=side.variables(generation=2, size=3)).has_changes is True
    actions = {rc["address"]: rc["change"]["actions"] for rc in tf.show_plan(changed)["resource_changes"]}
    assert sorted(actions["terraform_data.cluster"]) == ["create", "delete"]
    assert actions["terraform_data.nodes"] == ["update"]
    assert summarise(tf.show_plan(changed)).counts == {"create": 0, "update": 1, "delete": 0, "replace": 1}
    # Someone applies another change after our plan: the saved plan is stale.
    other = side.work / "other.tfplan"
    tf.plan(other, var_file=side.variables(size=5))
    before = tf.state_stamp()
    tf.apply(other)
    after = tf.state_stamp()
    assert before is not None and after is not None and after.serial > before.serial
    assert after.lineage == before.lineage
    assert tf.plan_stamp(changed) == before != after
    with pytest.raises(TerraformFailed, match="Saved plan is stale"):
        tf.apply(changed)


def test_a_held_lock_is_reported_and_released_by_its_id(side: Side) -> None:
    side.create_backend()
    tf = side.terraform()
    tf.init(side.backend_file())
    side.hold_lock(SOMEONE)
    with pytest.raises(StateLocked) as caught:
        tf.plan(side.work / "plan.tfplan", var_file=side.variables())
    assert (caught.value.lock.id, caught.value.lock.who) == (SOMEONE.id, SOMEONE.who)
    assert f"held by {SOMEONE.who}" in caught.value.message
    assert f"--lock-id {SOMEONE.id}" in (caught.value.hint or "")
    held = side.probe.held_lock(TABLE, side.backend.lock_id)
    assert held is not None and (held.id, held.who, held.operation) == (SOMEONE.id, SOMEONE.who, SOMEONE.operation)
    tf.force_unlock(SOMEONE.id)
    assert side.probe.held_lock(TABLE, side.backend.lock_id) is None
    assert tf.plan(side.work / "plan.tfplan", var_file=side.variables()).has_changes is True


def test_a_failure_part_way_keeps_what_was_applied(side: Side) -> None:
    side.create_backend()
    tf = side.terraform()
    tf.init(side.backend_file())
    plan = side.work / "plan.tfplan"
    tf.plan(plan, var_file=side.variables(fail=True))
    with pytest.raises(TerraformFailed, match=r"terraform_data\.step\[0\]: local-exec provisioner error") as caught:
        tf.apply(plan)
    assert set(caught.value.applied) == {f"create {address}" for address in APP_ADDRESSES}
    assert side.probe.held_lock(TABLE, side.backend.lock_id) is None
    stamp = tf.state_stamp()
    assert stamp is not None and stamp.serial >= 1


def test_a_destroy_plan_deletes_everything(side: Side) -> None:
    side.create_backend()
    tf = side.terraform()
    tf.init(side.backend_file())
    plan = side.work / "plan.tfplan"
    tf.plan(plan, var_file=side.variables())
    tf.apply(plan)
    gone = side.work / "destroy.tfplan"
    assert tf.plan(gone, var_file=side.variables(), destroy=True).has_changes is True
    shown = tf.show_plan(gone)
    assert {rc["address"]: rc["change"]["actions"] for rc in shown["resource_changes"]} == {
        address: ["delete"] for address in APP_ADDRESSES}
    assert summarise(shown).counts == {"create": 0, "update": 0, "delete": 4, "replace": 0}
    applied = tf.apply(gone)
    assert set(applied.applied) == {f"delete {address}" for address in APP_ADDRESSES}
    assert applied.summary["remove"] == 4
    assert tf.output() == {}


def test_bootstrap_runs_on_local_state_then_moves_it_into_the_bucket(side: Side) -> None:
    tf = side.terraform("bootstrap")
    root = side.work / "bootstrap"
    local = side.work / "bootstrap.tfstate"
    override = root / "devops_backend_override.tf"
    override.write_text(f'terraform {{\n  backend "local" {{\n    path = {json.dumps(str(local))}\n  }}\n}}\n')
    variables = side.work / "bootstrap.tfvars.json"
    variables.write_text(json.dumps({"state_bucket": BUCKET, "lock_table": TABLE, "kms_alias": KMS_ALIAS,
                                     "region": REGION, "python": sys.executable}))
    tf.init(None)
    plan = side.work / "bootstrap.tfplan"
    tf.plan(plan, var_file=variables)
    tf.apply(plan)
    override.unlink()
    assert side.probe.bucket_exists(BUCKET) and side.probe.table_exists(TABLE)
    assert local.is_file()
    bootstrap = BackendSettings(BUCKET, TABLE, KMS_ALIAS, REGION, "bootstrap/terraform.tfstate",
                                side.backend.endpoint, side.backend.options)
    backend_file = side.work / "bootstrap.hcl"
    backend_file.write_text(bootstrap.hcl())
    tf.init(backend_file, migrate_state=True)
    assert side.probe.object_exists(BUCKET, "bootstrap/terraform.tfstate") is True
    stamp = tf.state_stamp()
    assert stamp is not None and stamp.lineage
