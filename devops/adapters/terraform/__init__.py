"""Terraform, wrapped as python-on-whales wraps a tool: the CLI runner (`runner`), its
machine-readable events (`events`), its failures mapped to errors (`errors`) and its
documents read into typed models (`models`, the domain's types)."""

from __future__ import annotations

from devops.adapters.terraform.errors import BackendMissing, StateLocked, TerraformFailed, parse_lock_info
from devops.adapters.terraform.models import (
    ApplyResult,
    Diagnostic,
    LockInfo,
    PlanResult,
    StateStamp,
    plan_state_stamp,
)
from devops.adapters.terraform.runner import INSTALL_HINT, Terraform, cli_environment, require

__all__ = [
    "INSTALL_HINT", "ApplyResult", "BackendMissing", "Diagnostic", "LockInfo", "PlanResult", "StateLocked",
    "StateStamp", "Terraform", "TerraformFailed", "cli_environment", "parse_lock_info", "plan_state_stamp", "require",
]
