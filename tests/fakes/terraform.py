"""Terraform in memory: the `Terraform` port (devops/app/infra/ports.py) on a `FakeAws`.

A root is a `FakeRoot`: the resources and outputs its variables describe. `APP` mirrors
tests/infra/fixtures/app (network, nodes, a cluster replaced when `generation` changes,
credentials holding a sensitive password, a `step` that fails with `fail` or is interrupted
with `sleep_seconds`); `BOOTSTRAP` mirrors tests/infra/fixtures/bootstrap (it creates the state
bucket and lock table). Plans are JSON files carrying the state they were made against;
state and locks live in the `FakeAws`, so `FakeProbe` sees what this Terraform did.

It behaves as the real binary does where the workflow can tell (tests/contract/test_terraform.py
runs the same assertions against both): -detailed-exitcode, `show -json` shapes, sensitive
markings, serial and lineage, a stale saved plan refused, the lock taken by plan and apply, a
failure part-way that keeps what was applied, a missing bucket at init.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devops.domain.infra.terraform import (
    ApplyResult,
    BackendMissing,
    Diagnostic,
    LockInfo,
    PlanResult,
    StateLocked,
    StateStamp,
    TerraformFailed,
)
from tests.fakes.aws_probe import FakeAws

VERSION = "1.11.4"
UNKNOWN = "(known after apply)"
PASSWORD = "fixture-password-not-a-secret"


@dataclass(frozen=True)
class Resource:
    attrs: dict[str, Any]
    sensitive: dict[str, Any] = field(default_factory=dict)  # Terraform's *_sensitive shape
    triggers: tuple[Any, ...] = ()  # a change replaces the resource
    fails: bool = False  # its provisioner fails
    interrupts: bool = False  # the run is interrupted while it is created


@dataclass(frozen=True)
class FakeRoot:
    resources: Callable[[Mapping[str, Any]], dict[str, Resource]]
    # name -> (value, sensitive), from the variables and the ids of what exists
    outputs: Callable[[Mapping[str, Any], Mapping[str, str]], dict[str, tuple[Any, bool]]] = lambda v, ids: {}
    # what creating a resource does outside Terraform (the bootstrap root makes the backend)
    on_create: Callable[[str, Mapping[str, Any], FakeAws], None] = lambda addr, v, aws: None
    # what `terraform plan` warns of (deprecations, ...)
    warnings: tuple[Diagnostic, ...] = ()


def _app_resources(v: Mapping[str, Any]) -> dict[str, Resource]:
    env = v["environment"]
    found = {
        "terraform_data.network": Resource({"input": {"environment": env, "cidr": "10.0.0.0/16"}}),
        "terraform_data.nodes": Resource({"input": {"size": v.get("size", 1)}}),
        "terraform_data.cluster": Resource({"input": {"name": f"fixture-{env}"}}, triggers=(v.get("generation", 1),)),
        "terraform_data.credentials": Resource({"input": {"password": v.get("db_password", PASSWORD)}},
                                               sensitive={"input": True}),
    }
    if v.get("fail") or v.get("sleep_seconds", 0) > 0:
        found["terraform_data.step[0]"] = Resource({"input": None}, fails=bool(v.get("fail")),
                                                   interrupts=not v.get("fail"))
    return found


APP = FakeRoot(
    _app_resources,
    lambda v, ids: {"network_id": (ids.get("terraform_data.network"), False),
                    "db_password": (v.get("db_password", PASSWORD), True)},
)
BOOTSTRAP = FakeRoot(
    lambda v: {"terraform_data.backend": Resource({"input": {"bucket": v["state_bucket"], "table": v["lock_table"],
                                                             "kms_alias": v["kms_alias"]}})},
    lambda v, ids: {"state_bucket": (v["state_bucket"], False)},
    lambda addr, v, aws: aws.create_backend(v["state_bucket"], v["lock_table"]),
)


def _hcl_attributes(text: str) -> dict[str, Any]:
    """`name = value` lines of a generated backend file."""
    found = {}
    for name, value in re.findall(r"^(\w+) = (.+)$", text, re.MULTILINE):
        try:
            found[name] = json.loads(value)
        except ValueError:
            found[name] = value
    return found


class FakeTerraform:
    """One root on a `FakeAws`. `interrupt_keeps_lock`: an interrupted apply leaves its lock."""

    def __init__(self, root: Path, aws: FakeAws, definition: FakeRoot = APP, *,
                 interrupt_keeps_lock: bool = True) -> None:
        self.root = root
        self.aws = aws
        self.definition = definition
        self.interrupt_keeps_lock = interrupt_keeps_lock
        self.backend: dict[str, Any] | None = None  # {"bucket", "key", "table"}; None: local
        self.local: Path = root / "terraform.tfstate"
        self.calls: list[str] = []

    # -- where the state is ---------------------------------------------------------------
    def _read_state(self) -> dict[str, Any] | None:
        if self.backend is None:
            return json.loads(self.local.read_text()) if self.local.is_file() else None
        return self.aws.buckets[self.backend["bucket"]].get(self.backend["key"])

    def _write_state(self, state: dict[str, Any]) -> None:
        if self.backend is None:
            self.local.write_text(json.dumps(state))
        else:
            self.aws.buckets[self.backend["bucket"]][self.backend["key"]] = state

    def _lock(self, command: str, operation: str) -> str | None:
        """Take the state lock as Terraform does (remote state only); its ID."""
        if self.backend is None:
            return None
        table, lock_id = self.backend["table"], f"{self.backend['bucket']}/{self.backend['key']}"
        if table not in self.aws.tables:
            raise BackendMissing(f"{command}: the state lock table does not exist",
                                 hint="run `devops infra bootstrap` once for this account")
        held = self.aws.tables[table].get(lock_id)
        if held is not None:
            who = f"by {held.who} " if held.who else ""
            since = f"since {held.created} " if held.created else ""
            raise StateLocked(
                f"{command}: the state lock is held {who}{since}(lock ID {held.id}, {held.operation or 'operation'})",
                lock=held,
                hint=f"wait for that run to finish; if it died, release it with "
                     f"`devops infra unlock --env <env> --lock-id {held.id}` (terraform force-unlock {held.id})")
        mine = str(uuid.uuid4())
        self.aws.tables[table][lock_id] = LockInfo(mine, "fake@devops", operation, "now", lock_id)
        return mine

    def _unlock(self) -> None:
        if self.backend is not None:
            self.aws.tables[self.backend["table"]].pop(f"{self.backend['bucket']}/{self.backend['key']}", None)

    def _command(self, name: str) -> str:
        return f"terraform {name} ({self.root})"

    # -- the port -------------------------------------------------------------------------
    def init(self, backend_config: Path | None, *, migrate_state: bool = False) -> None:
        self.calls.append("init")
        if backend_config is None:
            override = self.root / "devops_backend_override.tf"
            match = re.search(r'path = (".*")', override.read_text()) if override.is_file() else None
            self.local = Path(json.loads(match.group(1))) if match else self.root / "terraform.tfstate"
            self.backend = None
            return
        values = _hcl_attributes(backend_config.read_text())
        if values["bucket"] not in self.aws.buckets:
            raise BackendMissing(f"{self._command('init')}: the state bucket {values['bucket']} does not exist",
                                 hint="run `devops infra bootstrap` once for this account")
        local = self._read_state() if migrate_state and self.backend is None else None
        self.backend = {"bucket": values["bucket"], "key": values["key"], "table": values["dynamodb_table"]}
        if local is not None:
            self._write_state(local)

    def plan(self, out: Path, *, var_file: Path | None = None, destroy: bool = False,
             lock_timeout: str = "0s") -> PlanResult:
        self.calls.append("plan")
        variables = json.loads(var_file.read_text()) if var_file else {}
        self._lock(self._command("plan"), "OperationTypePlan")
        try:
            state = self._read_state()
            prior = None if state is None else {"lineage": state["lineage"], "serial": state["serial"]}
            before = dict(state["resources"]) if state else {}
            desired = {} if destroy else self.definition.resources(variables)
            changes = {}
            for addr in sorted(set(before) | set(desired)):
                old, new = before.get(addr), desired.get(addr)
                if old is None:
                    changes[addr] = ["create"]
                elif new is None:
                    changes[addr] = ["delete"]
                elif list(new.triggers) != old["triggers"]:
                    changes[addr] = ["delete", "create"]
                elif new.attrs != old["attrs"]:
                    changes[addr] = ["update"]
            # Ids of what stays; what is created or replaced is only known after apply.
            ids = {a: before[a]["id"] if a in before and changes.get(a) in (None, ["update"]) else UNKNOWN
                   for a in desired}
            old_outputs = (state or {}).get("outputs", {})
            new_outputs = {} if destroy else self.definition.outputs(variables, ids)
            output_changes = {}
            for name in sorted(set(old_outputs) | set(new_outputs)):
                if name not in new_outputs:
                    output_changes[name] = (["delete"], None, old_outputs[name]["sensitive"])
                elif name not in old_outputs or old_outputs[name]["value"] != new_outputs[name][0]:
                    value, sensitive = new_outputs[name]
                    output_changes[name] = (["create"] if name not in old_outputs else ["update"], value, sensitive)
            shown = self._shown(variables, before, desired, changes, output_changes)
            out.write_text(json.dumps({"fake_plan": 1, "prior": prior, "variables": variables, "destroy": destroy,
                                       "changes": changes, "shown": shown}))
            return PlanResult(out, bool(changes or output_changes), self.definition.warnings)
        finally:
            self._unlock()

    def _shown(self, variables: Mapping[str, Any], before: Mapping[str, Any], desired: Mapping[str, Resource],
               changes: Mapping[str, list[str]],
               output_changes: Mapping[str, tuple[list[str], Any, bool]]) -> dict[str, Any]:
        """The plan as `terraform show -json` shapes it (format 1.2)."""
        resource_changes = []
        for addr in sorted(set(before) | set(desired)):
            old, new = before.get(addr), desired.get(addr)
            actions = changes.get(addr, ["no-op"])
            rc: dict[str, Any] = {
                "address": addr, "mode": "managed", "type": addr.split(".")[0],
                "name": addr.split(".")[1].split("[")[0],
                "change": {
                    "actions": actions,
                    "before": None if old is None else {**old["attrs"], "id": old["id"]},
                    "after": None if new is None else {**new.attrs, "triggers_replace": list(new.triggers) or None},
                    "after_unknown": {} if new is None else {"id": True, "output": True},
                    "before_sensitive": False if old is None else old["sensitive"],
                    "after_sensitive": False if new is None else new.sensitive,
                },
            }
            if actions == ["delete", "create"]:
                rc["action_reason"] = "replace_by_triggers"
            resource_changes.append(rc)
        return {
            "format_version": "1.2", "terraform_version": VERSION,
            "variables": {name: {"value": value} for name, value in variables.items()},
            "resource_changes": resource_changes,
            "output_changes": {
                name: {"actions": actions, "after": None if value == UNKNOWN else value,
                       "after_unknown": value == UNKNOWN, "before_sensitive": sensitive, "after_sensitive": sensitive}
                for name, (actions, value, sensitive) in output_changes.items()},
        }

    def show_plan(self, plan: Path) -> dict[str, Any]:
        self.calls.append("show")
        return dict(self._read_plan(plan)["shown"])

    def _read_plan(self, plan: Path) -> dict[str, Any]:
        try:
            data = json.loads(plan.read_bytes())
        except (OSError, ValueError) as exc:
            raise TerraformFailed(f"{plan}: not a readable Terraform plan file ({exc})") from None
        if not isinstance(data, dict) or data.get("fake_plan") != 1:
            raise TerraformFailed(f"{plan}: not a readable Terraform plan file")
        return data

    def plan_stamp(self, plan: Path) -> StateStamp | None:
        prior = self._read_plan(plan)["prior"]
        return None if prior is None else StateStamp(prior["lineage"], prior["serial"])

    def apply(self, plan: Path, *, lock_timeout: str = "0s") -> ApplyResult:
        self.calls.append("apply")
        saved = self._read_plan(plan)
        self._lock(self._command("apply"), "OperationTypeApply")
        state = self._read_state()
        current = None if state is None else {"lineage": state["lineage"], "serial": state["serial"]}
        if current != saved["prior"]:
            self._unlock()
            diag = Diagnostic("error", "Saved plan is stale",
                              "The given plan file can no longer be applied because the state was changed.")
            raise TerraformFailed(f"{self._command('apply')} failed: {diag.one_line()}", diagnostics=(diag,))
        state = state or {"lineage": str(uuid.uuid4()), "serial": 0, "resources": {}, "outputs": {}}
        variables = saved["variables"]
        desired = {} if saved["destroy"] else self.definition.resources(variables)
        applied: list[str] = []
        counts = {"add": 0, "change": 0, "import": 0, "remove": 0}

        def persist() -> None:
            state["serial"] += 1
            self._write_state(state)

        for addr, actions in saved["changes"].items():
            if "delete" in actions:
                state["resources"].pop(addr, None)
                applied.append(f"delete {addr}")
                counts["remove"] += 1
            if "create" in actions or "update" in actions:
                new = desired[addr]
                if new.fails or new.interrupts:
                    persist()
                    if new.fails or not self.interrupt_keeps_lock:
                        self._unlock()
                    if new.fails:
                        diag = Diagnostic("error", "local-exec provisioner error",
                                          "Error running command: exit status 1", addr)
                        raise TerraformFailed(f"{self._command('apply')} failed: {diag.one_line()}",
                                              diagnostics=(diag,), applied=applied)
                    raise KeyboardInterrupt
                old_id = state["resources"].get(addr, {}).get("id")
                state["resources"][addr] = {"attrs": new.attrs, "sensitive": new.sensitive,
                                            "triggers": list(new.triggers), "id": old_id or str(uuid.uuid4())}
                self.definition.on_create(addr, variables, self.aws)
                kind = "update" if actions == ["update"] else "create"
                applied.append(f"{kind} {addr}")
                counts["change" if kind == "update" else "add"] += 1
        ids = {a: r["id"] for a, r in state["resources"].items()}
        outputs = {} if saved["destroy"] else self.definition.outputs(variables, ids)
        state["outputs"] = {n: {"value": v, "type": "string", "sensitive": s} for n, (v, s) in outputs.items()}
        persist()
        self._unlock()
        return ApplyResult(tuple(applied), counts, dict(state["outputs"]))

    def output(self) -> dict[str, Any]:
        self.calls.append("output")
        state = self._read_state()
        return dict(state["outputs"]) if state else {}

    def state_stamp(self) -> StateStamp | None:
        self.calls.append("state pull")
        state = self._read_state()
        return None if state is None else StateStamp(state["lineage"], state["serial"])

    def force_unlock(self, lock_id: str) -> None:
        self.calls.append("force-unlock")
        assert self.backend is not None, "force-unlock needs the S3 backend"
        key = f"{self.backend['bucket']}/{self.backend['key']}"
        held = self.aws.tables[self.backend["table"]].get(key)
        if held is None or held.id != lock_id:
            raise TerraformFailed(f"{self._command('force-unlock')} failed: Failed to unlock state: lock ID mismatch")
        del self.aws.tables[self.backend["table"]][key]


@dataclass
class FakeTerraformFactory:
    """`TerraformFactory` for the use cases: roots by folder name (default `APP`); keeps the
    Terraforms it made, so tests can see what ran."""

    aws: FakeAws
    roots: dict[str, FakeRoot] = field(default_factory=lambda: {"bootstrap": BOOTSTRAP})
    interrupt_keeps_lock: bool = True
    made: list[FakeTerraform] = field(default_factory=list)

    def __call__(self, root: Path) -> FakeTerraform:
        tf = FakeTerraform(root, self.aws, self.roots.get(root.name, APP), interrupt_keeps_lock=self.interrupt_keeps_lock)
        self.made.append(tf)
        return tf

    @property
    def calls(self) -> list[str]:
        return [call for tf in self.made for call in tf.calls]
