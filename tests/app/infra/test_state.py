"""`output` and `unlock` on the fakes."""

from __future__ import annotations

import pytest

from devops.app import infra
from devops.domain.infra.terraform import LockInfo
from devops.errors import BadInput
from tests.app.infra.conftest import BUCKET, TABLE, World
from tests.fakes.terraform import PASSWORD

LOCK_ID = f"{BUCKET}/dev/terraform.tfstate"
ALICE = LockInfo("4f6d1c2a-0000-4000-8000-00000000beef", "alice@laptop", "OperationTypeApply", "2026-11-25T10:00:00Z")


def test_outputs_hide_sensitive_values_unless_asked(world: World) -> None:
    world.bootstrapped()
    assert infra.outputs(world.config, "dev", world.ports).values == {}
    infra.plan(world.config, "dev", world.ports)
    infra.apply(world.config, "dev", world.ports)
    hidden = infra.outputs(world.config, "dev", world.ports)
    assert hidden.values["db_password"] == "(sensitive)" and len(hidden.values["network_id"]) == 36
    shown = infra.outputs(world.config, "dev", world.ports, show_sensitive=True)
    assert shown.values["db_password"] == PASSWORD and shown.show_sensitive is True


def test_unlock_releases_only_the_held_lock(world: World) -> None:
    world.bootstrapped()
    assert infra.unlock(world.config, "dev", ALICE.id, world.ports).held is False  # nothing held
    world.aws.hold_lock(TABLE, LOCK_ID, ALICE)
    wrong = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(BadInput, match=r"the state lock of dev is 4f6d1c2a-0000-4000-8000-00000000beef \(held by "
                                       r"alice@laptop since 2026-11-25T10:00:00Z\), not 0{8}-"):
        infra.unlock(world.config, "dev", wrong, world.ports)
    dry = infra.unlock(world.config, "dev", ALICE.id, world.ports, dry_run=True)
    assert dry.held is True and dry.released is False
    assert world.aws.tables[TABLE][LOCK_ID] == ALICE
    done = infra.unlock(world.config, "dev", ALICE.id, world.ports)
    assert done.released is True and LOCK_ID not in world.aws.tables[TABLE]
    assert infra.plan(world.config, "dev", world.ports).has_changes is True


def test_a_lock_without_who_or_since_is_named_by_its_id(world: World) -> None:
    world.bootstrapped()
    world.aws.hold_lock(TABLE, LOCK_ID, LockInfo("abc"))
    with pytest.raises(BadInput, match=r"the state lock of dev is abc \(held\), not xyz"):
        infra.unlock(world.config, "dev", "xyz", world.ports)
