"""Terraform's documents read into the domain's types (devops/domain/infra/terraform.py): the
state a saved plan was made against, the current state's identity, the outputs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from devops.domain.infra.terraform import ApplyResult, Diagnostic, LockInfo, PlanResult, StateStamp
from devops.errors import ToolFailed

__all__ = ["ApplyResult", "Diagnostic", "LockInfo", "PlanResult", "StateStamp", "json_object", "plan_state_stamp",
           "state_stamp"]


def plan_state_stamp(plan: Path) -> StateStamp | None:
    """The state a saved plan was made against, read from the plan file itself.

    A saved plan is a zip archive; its `tfstate` member is the prior state with the serial and
    lineage Terraform compares on apply (`tfstate-prev` carries no serial). None for a plan
    made against no state.
    """
    try:
        with zipfile.ZipFile(plan) as archive:
            names = set(archive.namelist())
            member = "tfstate" if "tfstate" in names else "tfstate-prev"
            state = json.loads(archive.read(member))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ToolFailed(f"{plan}: not a readable Terraform plan file ({exc})") from None
    lineage = str(state.get("lineage") or "")
    serial = int(state.get("serial") or 0)
    if not lineage and serial == 0 and not state.get("resources"):
        return None
    return StateStamp(lineage, serial)


def json_object(text: str, command: str) -> dict[str, Any]:
    """Output that must be one JSON object (`show -json`, `output -json`, `state pull`)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ToolFailed(f"{command}: output is not JSON") from None
    if not isinstance(data, dict):
        raise ToolFailed(f"{command}: expected a JSON object")
    return data


def state_stamp(text: str, command: str) -> StateStamp | None:
    """Lineage and serial of `terraform state pull`; None when there is no state yet (nothing
    printed, or the empty state an S3 backend without an object answers: no lineage, serial 0)."""
    if not text.strip():
        return None
    state = json_object(text, command)
    stamp = StateStamp(str(state.get("lineage", "")), int(state.get("serial", 0)))
    return None if not stamp.lineage and stamp.serial == 0 else stamp
