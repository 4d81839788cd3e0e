"""A readable summary of `terraform show -json PLAN` (pure): actions, masking, outputs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from devops.domain.infra.plan_summary import SENSITIVE, UNKNOWN, mask, summarise
from devops.errors import ToolFailed


def _rc(address: str, actions: list[str], before: Any = None, after: Any = None, **change: Any) -> dict[str, Any]:
    return {"address": address, "mode": "managed", "type": address.split(".")[0], "name": address.split(".")[1],
            "change": {"actions": actions, "before": before, "after": after, **change}}


def _plan(*changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": list(changes), **extra}


def test_mask_hides_sensitive_parts_and_marks_unknown_ones() -> None:
    value = {"name": "db", "password": "hunter2", "nested": {"token": "t", "plain": 1}, "list": ["a", "b"]}
    masked = mask(value, {"password": True, "nested": {"token": True}, "list": [False, True]}, {"id": True})
    assert masked == {"name": "db", "password": SENSITIVE, "nested": {"plain": 1, "token": SENSITIVE},
                      "list": ["a", SENSITIVE], "id": UNKNOWN}
    assert mask("x", True) == SENSITIVE
    assert mask("x", False, True) == UNKNOWN
    assert mask(["a", "b"], None, [False]) == ["a", "b"]  # shorter marks: the rest is plain
    assert mask(None, None, {"a": False}) == UNKNOWN  # a block Terraform only knows after apply
    assert mask(None, None, [False]) == UNKNOWN
    assert mask(None, None, None) is None
    assert mask({"a": 1}, "odd", "odd") == {"a": 1}  # marks of another shape mark nothing


@pytest.mark.parametrize(("actions", "action"), [
    (["create"], "create"), (["update"], "update"), (["delete"], "delete"), (["read"], "read"),
    (["delete", "create"], "replace"), (["create", "delete"], "replace"),
])
def test_each_action_is_named(actions: list[str], action: str) -> None:
    summary = summarise(_plan(_rc("aws_s3_bucket.b", actions, before={"a": 1}, after={"a": 2})))
    assert [c.action for c in summary.changes] == [action]
    counts = summary.counts
    if action in counts and action != "replace":
        assert summary.headline() == (f"{counts['create']} to create, {counts['update']} to update, "
                                      f"{counts['delete']} to delete")


def test_no_ops_and_data_reads_are_not_changes() -> None:
    read = {**_rc("aws_region.current", ["read"]), "mode": "data"}
    summary = summarise(_plan(read, _rc("aws_s3_bucket.b", ["no-op"]), _rc("aws_s3_bucket.c", [])))
    assert summary.changes == () and summary.has_changes is False
    assert summary.headline() == "no infrastructure changes"


def test_changes_are_ordered_replacements_first_and_updates_list_their_attributes() -> None:
    summary = summarise(_plan(
        _rc("aws_s3_bucket.z", ["create"], after={"a": 1}),
        _rc("aws_db_instance.db", ["delete", "create"], before={"password": "old", "size": 1, "same": 0},
            after={"password": "new", "size": 2, "same": 0}, before_sensitive={"password": True},
            after_sensitive={"password": True}),
        _rc("aws_s3_bucket.a", ["update"], before={"tags": {}}, after={"tags": {"x": "y"}}),
        _rc("aws_s3_bucket.d", ["delete"], before={"a": 1}),
        {**_rc("aws_s3_bucket.r", ["read"]), "mode": "managed"},
        _rc("aws_s3_bucket.u", ["forget"], before={"a": 1}),  # an action Terraform may add one day
    ))
    assert [c.action for c in summary.changes] == ["replace", "delete", "create", "update", "read", "forget"]
    db = summary.changes[0]
    # Both passwords are masked alike: a secret change is not shown, not even as "changed".
    assert [(a.name, a.before, a.after) for a in db.attributes] == [("size", 1, 2)]
    assert summary.counts == {"create": 1, "update": 1, "delete": 1, "replace": 1}
    assert summary.headline() == ("1 to create, 1 to update, 1 to delete, 1 to REPLACE (destroyed, then created)")
    assert "old" not in json.dumps(summary.to_dict()) and "new" not in json.dumps(summary.to_dict())


def test_outputs_hide_sensitive_and_unknown_values() -> None:
    summary = summarise(_plan(output_changes={
        "secret": {"actions": ["update"], "after": "s3cr3t", "after_sensitive": True},
        "was_secret": {"actions": ["delete"], "before_sensitive": True},
        "endpoint": {"actions": ["create"], "after_unknown": True},
        "plain": {"actions": ["create"], "after": {"a": 1, "k": "v"}, "after_sensitive": {"k": True}},
        "same": {"actions": ["no-op"], "after": 1},
    }, variables={"environment": {"value": "dev"}}))
    assert {o.name: o.value for o in summary.outputs} == {
        "endpoint": UNKNOWN, "plain": {"a": 1, "k": SENSITIVE}, "secret": SENSITIVE, "was_secret": SENSITIVE}
    assert summary.has_changes is True and summary.changes == ()
    assert summary.headline() == "no infrastructure changes (4 output change(s))"
    assert summary.variables == {"environment": "dev"}
    assert "s3cr3t" not in json.dumps(summary.to_dict())


def test_a_plan_with_only_a_format_version_is_empty() -> None:
    summary = summarise({"format_version": "1.2"})
    assert summary.terraform_version == "?" and summary.changes == () and summary.outputs == ()


@pytest.mark.parametrize("plan", [{"values": {}}, {"format_version": "1.2", "resource_changes": {}}])
def test_json_that_is_not_a_plan_is_refused(plan: dict[str, Any]) -> None:
    with pytest.raises(ToolFailed, match="not a plan representation"):
        summarise(plan)
