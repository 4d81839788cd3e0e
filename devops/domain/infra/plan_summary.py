"""A readable summary of `terraform show -json PLAN`.

Reads Terraform's JSON plan representation (format 1.x): `resource_changes[].change.actions`
says what happens to each resource; `["delete", "create"]` or `["create", "delete"]` is a
replacement, called out on its own because it destroys something. Sensitive values (marked in
`before_sensitive`/`after_sensitive`, or whole outputs marked sensitive) never appear; values
Terraform only knows after apply are shown as such.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devops.errors import ToolFailed

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
ACTION_ORDER = ("replace", "delete", "create", "update", "read")


@dataclass(frozen=True)
class AttributeChange:
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ResourceChange:
    address: str
    type: str
    action: str  # create | update | delete | replace | read
    reason: str | None = None
    attributes: tuple[AttributeChange, ...] = ()
    after: Mapping[str, Any] = field(default_factory=dict)  # masked values after the change
    before: Mapping[str, Any] = field(default_factory=dict)  # masked values before it


@dataclass(frozen=True)
class OutputChange:
    name: str
    action: str
    value: Any


@dataclass(frozen=True)
class PlanSummary:
    terraform_version: str
    changes: tuple[ResourceChange, ...]
    outputs: tuple[OutputChange, ...]
    variables: Mapping[str, Any]

    def count(self, action: str) -> int:
        return sum(1 for change in self.changes if change.action == action)

    @property
    def has_changes(self) -> bool:
        return bool(self.changes) or bool(self.outputs)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ("create", "update", "delete", "replace")}

    def headline(self) -> str:
        c = self.counts
        if not self.changes:
            return "no infrastructure changes" + (f" ({len(self.outputs)} output change(s))" if self.outputs else "")
        text = f"{c['create']} to create, {c['update']} to update, {c['delete']} to delete"
        if c["replace"]:
            text += f", {c['replace']} to REPLACE (destroyed, then created)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "terraform_version": self.terraform_version,
            "counts": self.counts,
            "headline": self.headline(),
            "changes": [
                {
                    "address": c.address,
                    "type": c.type,
                    "action": c.action,
                    "reason": c.reason,
                    "attributes": [{"name": a.name, "before": a.before, "after": a.after} for a in c.attributes],
                }
                for c in self.changes
            ],
            "outputs": [{"name": o.name, "action": o.action, "value": o.value} for o in self.outputs],
        }


def _action(actions: Sequence[str]) -> str:
    acts = list(actions)
    if acts in (["delete", "create"], ["create", "delete"]):
        return "replace"
    if acts in (["no-op"], []):
        return "no-op"
    return acts[0]


def mask(value: Any, sensitive: Any, unknown: Any = None) -> Any:
    """`value` with every sensitive part replaced and unknown parts marked.

    `sensitive`/`unknown` mirror the value's shape (Terraform's `*_sensitive`/`after_unknown`):
    `true` at a position marks everything below it.
    """
    if sensitive is True:
        return SENSITIVE
    if unknown is True:
        return UNKNOWN
    if isinstance(value, Mapping):
        s = sensitive if isinstance(sensitive, Mapping) else {}
        u = unknown if isinstance(unknown, Mapping) else {}
        keys = set(value) | {k for k, v in u.items() if v is True}
        return {k: mask(value.get(k), s.get(k), u.get(k)) for k in sorted(keys)}
    if isinstance(value, list):
        s_list = sensitive if isinstance(sensitive, list) else []
        u_list = unknown if isinstance(unknown, list) else []
        return [
            mask(item, s_list[i] if i < len(s_list) else None, u_list[i] if i < len(u_list) else None)
            for i, item in enumerate(value)
        ]
    if value is None and isinstance(unknown, Mapping | list):
        return UNKNOWN
    return value


def summarise(plan: Mapping[str, Any]) -> PlanSummary:
    """Summarise a plan's JSON representation; `ToolFailed` when it is not shaped like one."""
    if "format_version" not in plan or not isinstance(plan.get("resource_changes", []), list):
        raise ToolFailed("terraform show -json: not a plan representation (no format_version/resource_changes)")
    changes: list[ResourceChange] = []
    for rc in plan.get("resource_changes", []):
        if rc.get("mode") == "data":
            continue  # reads of data sources change nothing
        change = rc.get("change", {})
        action = _action(change.get("actions", []))
        if action == "no-op":
            continue
        before = mask(change.get("before") or {}, change.get("before_sensitive"))
        after = mask(change.get("after") or {}, change.get("after_sensitive"), change.get("after_unknown"))
        attributes: tuple[AttributeChange, ...] = ()
        if action in ("update", "replace") and isinstance(before, dict) and isinstance(after, dict):
            attributes = tuple(
                AttributeChange(name, before.get(name), after.get(name))
                for name in sorted(set(before) | set(after))
                if before.get(name) != after.get(name)
            )
        changes.append(
            ResourceChange(
                address=str(rc.get("address", "?")),
                type=str(rc.get("type", "?")),
                action=action,
                reason=rc.get("action_reason"),
                attributes=attributes,
                after=after if isinstance(after, dict) else {},
                before=before if isinstance(before, dict) else {},
            )
        )
    changes.sort(key=lambda c: (ACTION_ORDER.index(c.action) if c.action in ACTION_ORDER else 99, c.address))
    outputs = []
    for name, oc in sorted((plan.get("output_changes") or {}).items()):
        action = _action(oc.get("actions", []))
        if action == "no-op":
            continue
        if oc.get("after_sensitive") is True or oc.get("before_sensitive") is True:
            value: Any = SENSITIVE
        elif oc.get("after_unknown") is True:
            value = UNKNOWN
        else:
            value = mask(oc.get("after"), oc.get("after_sensitive"), oc.get("after_unknown"))
        outputs.append(OutputChange(name, action, value))
    variables = {name: v.get("value") for name, v in (plan.get("variables") or {}).items()}
    return PlanSummary(str(plan.get("terraform_version", "?")), tuple(changes), tuple(outputs), variables)
