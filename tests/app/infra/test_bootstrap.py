"""`bootstrap` on the fakes: once per account, local state first, then moved into the bucket."""

from __future__ import annotations

import pytest

from devops.app import infra
from devops.domain.infra.terraform import TerraformFailed
from devops.errors import ConfigError, ExternalError
from tests.app.infra.conftest import BUCKET, TABLE, World
from tests.fakes.aws_probe import FakeProbe
from tests.fakes.terraform import FakeRoot, Resource


def test_bootstrap_creates_the_backend_and_moves_its_state_into_it(world: World) -> None:
    dry = infra.bootstrap(world.config, world.ports, dry_run=True)
    assert (dry.created, dry.dry_run, dry.needed) == (False, True, True)
    assert dry.bucket == BUCKET and dry.lock_table == TABLE and dry.state_key == "bootstrap/terraform.tfstate"
    assert dry.steps[1] == f"move the bootstrap state to s3://{BUCKET}/bootstrap/terraform.tfstate"
    assert world.factory.made == [] and world.aws.buckets == {}

    report = infra.bootstrap(world.config, world.ports)
    assert report.created is True and report.steps == dry.steps
    assert "bootstrap/terraform.tfstate" in world.aws.buckets[BUCKET]
    assert world.aws.buckets[BUCKET]["bootstrap/terraform.tfstate"]["resources"]
    work = world.root / ".devops" / "infra" / "bootstrap"
    assert not (work / "bootstrap.tfstate").exists()  # the local state was moved, then removed
    assert not (world.root / "infra" / "bootstrap" / infra.OVERRIDE_FILE).exists()
    assert world.factory.calls == ["init", "plan", "apply", "init"]

    again = infra.bootstrap(world.config, world.ports)
    assert (again.created, again.needed) == (False, False) and "nothing to do" in again.steps[0]
    assert infra.plan(world.config, "dev", world.ports).has_changes is True


@pytest.mark.parametrize(("bucket", "table", "present", "absent"), [
    (True, False, f"bucket {BUCKET}", f"table {TABLE}"),
    (False, True, f"table {TABLE}", f"bucket {BUCKET}"),
])
def test_a_partial_bootstrap_stops_for_a_person(world: World, bucket: bool, table: bool, present: str,
                                                absent: str) -> None:
    if bucket:
        world.aws.buckets[BUCKET] = {}
    if table:
        world.aws.tables[TABLE] = {}
    with pytest.raises(ExternalError, match=f"partially bootstrapped: {present} exists but {absent} does not") as e:
        infra.bootstrap(world.config, world.ports)
    assert "docs/runbooks/aws-bootstrap.md" in str(e.value)
    assert world.factory.made == []


def test_the_override_is_removed_when_the_first_apply_fails(world: World) -> None:
    world.factory.roots["bootstrap"] = FakeRoot(lambda v: {"terraform_data.backend": Resource({}, fails=True)})
    with pytest.raises(TerraformFailed):
        infra.bootstrap(world.config, world.ports)
    assert not (world.root / "infra" / "bootstrap" / infra.OVERRIDE_FILE).exists()


def test_state_that_did_not_reach_the_bucket_is_an_error(world: World) -> None:
    class Blind(FakeProbe):
        def object_exists(self, bucket: str, key: str) -> bool:
            return False

    ports = infra.InfraPorts(world.factory, Blind(world.aws))
    with pytest.raises(TerraformFailed, match=f"the bootstrap state did not reach s3://{BUCKET}/bootstrap/"
                                              "terraform.tfstate; it is still in .*bootstrap.tfstate"):
        infra.bootstrap(world.config, ports)
    assert (world.root / ".devops" / "infra" / "bootstrap" / "bootstrap.tfstate").is_file()


def test_a_bootstrap_root_that_is_not_a_folder(world: World) -> None:
    (world.root / "infra" / "bootstrap").rmdir()
    (world.root / "infra" / "bootstrap").write_text("")
    with pytest.raises(ConfigError, match=r"infra.bootstrap.root: .* is not a folder"):
        infra.bootstrap(world.config, world.ports)
