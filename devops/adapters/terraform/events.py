"""Terraform's machine-readable UI (`plan -json`, `apply -json`): one JSON event per line.

Diagnostics (with the failing resource address), what was applied, the change summary and
the outputs are read from these events, never scraped from coloured text. Also the lock IDs a
run tried to take, from its INFO log (see `Terraform._run_locking`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from devops.domain.infra.terraform import ApplyResult, Diagnostic


def parse(stdout: str) -> list[dict[str, Any]]:
    """The JSON events of a `-json` run; other lines are ignored."""
    events = []
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events


def diagnostics(events: Sequence[Mapping[str, Any]]) -> list[Diagnostic]:
    found = []
    for event in events:
        if event.get("type") != "diagnostic":
            continue
        diag = event.get("diagnostic", {})
        found.append(
            Diagnostic(
                severity=str(diag.get("severity", "error")),
                summary=str(diag.get("summary", "")).strip(),
                detail=str(diag.get("detail", "")),
                address=diag.get("address") or None,
            )
        )
    return found


def applied(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Addresses Terraform finished changing, with the action: "create terraform_data.a"."""
    done = []
    for event in events:
        if event.get("type") == "apply_complete":
            hook = event.get("hook", {})
            addr = hook.get("resource", {}).get("addr", "?")
            done.append(f"{hook.get('action', 'change')} {addr}")
    return done


def apply_result(events: Sequence[Mapping[str, Any]]) -> ApplyResult:
    """What a successful apply did: the changes, Terraform's change summary and the outputs."""
    summary: dict[str, int] = {}
    outputs: dict[str, Any] = {}
    for event in events:
        if event.get("type") == "change_summary":
            changes = event.get("changes", {})
            summary = {k: int(v) for k, v in changes.items() if isinstance(v, int)}
        elif event.get("type") == "outputs":
            outputs = dict(event.get("outputs", {}))
    return ApplyResult(tuple(applied(events)), summary, outputs)


# Terraform's INFO log line when it tries to take the state lock (S3 backend).
_LOCK_ATTEMPT = re.compile(r"Attempting to lock remote state[^\n]*?tf_backend\.lock\.id=([0-9a-fA-F-]{36})")


def lock_attempts(log: str) -> set[str]:
    """The lock IDs a run tried to take, from its INFO log."""
    return set(_LOCK_ATTEMPT.findall(log))
