"""The refusals of `devops infra` (pure): which plan may be applied, which environment may be
destroyed, which lock may be released. Each refusal has its passing control next to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devops.domain.infra import guards
from devops.domain.infra.terraform import LockInfo, StateStamp
from devops.errors import BadInput, ExitCode, GateFailed

PLAN = Path("/work/.devops/infra/dev/plan.tfplan")
RECORD = {"environment": "dev", "bucket": "b", "key": "dev/terraform.tfstate", "sha256": "abc", "destroy": False}
EXPECTED = {"environment": "dev", "bucket": "b", "key": "dev/terraform.tfstate", "sha256": "abc", "destroy": False}


def check(record: dict[str, Any], **overrides: Any) -> None:
    guards.check_record(record, PLAN, **{**EXPECTED, **overrides})


def test_a_record_that_agrees_passes() -> None:
    check(RECORD)
    check({**RECORD, "destroy": True}, destroy=True)


@pytest.mark.parametrize(("change", "message"), [
    ({"environment": "prod"}, "the plan was made for environment 'prod', not 'dev'"),
    ({"environment": None}, "the plan was made for environment None, not 'dev'"),
    ({"key": "prod/terraform.tfstate"}, "the plan was made against state s3://b/prod/terraform.tfstate, this "
                                        "environment's state is s3://b/dev/terraform.tfstate"),
    ({"bucket": "other"}, "s3://other/dev/terraform.tfstate"),
    ({"sha256": "def"}, "the plan file changed after it was made; plan again"),
    ({"destroy": True}, "refusing to apply: it is a destroy plan"),
])
def test_a_record_that_disagrees_is_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(GateFailed) as caught:
        check({**RECORD, **change})
    assert message in str(caught.value) and str(caught.value).startswith(f"{PLAN}: refusing to apply")
    assert caught.value.exit_code == ExitCode.GATE_FAILED


def test_a_destroy_asked_of_a_normal_plan_is_refused() -> None:
    with pytest.raises(GateFailed, match="it is not a destroy plan"):
        check(RECORD, destroy=True)


def test_the_plans_own_environment_variable() -> None:
    guards.check_plan_variable({"variables": {"environment": {"value": "dev"}}}, PLAN, "dev")
    guards.check_plan_variable({}, PLAN, "dev")  # a root without the variable: the record decides
    with pytest.raises(GateFailed, match="the plan's environment variable is 'prod', not 'dev'"):
        guards.check_plan_variable({"variables": {"environment": {"value": "prod"}}}, PLAN, "dev")


@pytest.mark.parametrize(("planned", "current", "same"), [
    (None, None, True),
    (None, StateStamp("", 0), True),  # an empty state is no state
    (None, StateStamp("L", 1), False),
    (StateStamp("L", 1), None, False),
    (StateStamp("L", 1), StateStamp("L", 1), True),
    (StateStamp("L", 1), StateStamp("L", 2), False),
    (StateStamp("L", 1), StateStamp("M", 1), False),
])
def test_same_state(planned: StateStamp | None, current: StateStamp | None, same: bool) -> None:
    assert guards.same_state(planned, current) is same


def test_a_stale_plan_says_what_moved_and_what_to_run() -> None:
    guards.check_fresh(StateStamp("L", 1), StateStamp("L", 1), PLAN, environment="dev", created="t")
    with pytest.raises(GateFailed) as caught:
        guards.check_fresh(StateStamp("lineage-1", 1), StateStamp("lineage-1", 2), PLAN, environment="dev",
                           created="2026-11-25T10:00:00+00:00")
    assert str(caught.value) == (
        f"{PLAN}: refusing to apply a stale plan: it was made against serial 1 (lineage lineage-), the state is "
        "now serial 2 (lineage lineage-) (changed since 2026-11-25T10:00:00+00:00); run `devops infra plan "
        "--env dev` again")
    with pytest.raises(GateFailed, match="made against no state, the state is now serial 3 .* since the plan"):
        guards.check_fresh(None, StateStamp("L", 3), PLAN, environment="dev", created=None)
    with pytest.raises(GateFailed, match="made against serial 3 .*, the state is now no state"):
        guards.check_fresh(StateStamp("L", 3), None, PLAN, environment="dev", created=None)


def test_missing_plans_and_records() -> None:
    missing = guards.missing_plan(PLAN, "dev", destroy=False)
    assert isinstance(missing, BadInput)
    assert str(missing) == f"{PLAN}: no saved plan for dev; run `devops infra plan --env dev` first"
    assert "no destroy plan for dev" in str(guards.missing_plan(PLAN, "dev", destroy=True))
    unreadable = guards.unreadable_record(PLAN, "plan.tfplan.meta.json")
    assert isinstance(unreadable, GateFailed) and "plan.tfplan.meta.json is missing or unreadable" in str(unreadable)


@pytest.mark.parametrize(("env", "declared", "cluster", "protected"), [
    ("prod", None, None, True),
    ("dev", None, "shop-dev", False),
    ("eu", None, "shop-production-eks", True),  # the cluster says production
    ("prod", False, "shop-prod", False),  # declared wins
    ("dev", True, None, True),
    ("product", None, None, False),  # one word, not "prod"
])
def test_protection_follows_the_one_production_rule_unless_declared(env: str, declared: bool | None,
                                                                    cluster: str | None, protected: bool) -> None:
    guard = guards.protection(env, declared=declared, cluster=cluster)
    assert guard.protected is protected
    if declared is not None:
        assert guard.reason == f"infra.environments.{env}.protected"
    else:
        assert guard.reason.startswith(f"production by name: environment {env!r}")


def test_destroying_a_protected_environment_needs_allow_prod() -> None:
    guards.check_destroy("dev", guards.protection("dev", declared=None), allow_prod=False)
    prod = guards.protection("prod", declared=True)
    guards.check_destroy("prod", prod, allow_prod=True)
    with pytest.raises(GateFailed, match=r"refusing to destroy prod: it is protected \(infra.environments.prod."
                                         r"protected\); add --allow-prod if you really mean it"):
        guards.check_destroy("prod", prod, allow_prod=False)


def test_the_typed_confirmation() -> None:
    guards.check_confirmation("dev", "dev")
    guards.check_confirmation("dev", "  dev\n")
    with pytest.raises(GateFailed, match="confirmation did not match; nothing destroyed"):
        guards.check_confirmation("dev", "prod")
    with pytest.raises(BadInput, match="pass --yes"):
        guards.check_confirmation("dev", None)


def test_only_the_held_lock_id_releases_it() -> None:
    held = LockInfo("abc", "alice@laptop", created="2026-11-25")
    guards.check_lock_id("dev", held, "abc")
    with pytest.raises(BadInput, match=r"the state lock of dev is abc \(held by alice@laptop since 2026-11-25\), "
                                       r"not xyz; check the ID"):
        guards.check_lock_id("dev", held, "xyz")
    with pytest.raises(BadInput, match=r"is abc \(held\), not xyz"):
        guards.check_lock_id("dev", LockInfo("abc"), "xyz")
