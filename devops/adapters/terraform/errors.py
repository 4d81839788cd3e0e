"""Terraform's failures mapped to specific errors (as python-on-whales maps a tool's stderr).

A held state lock -> `StateLocked` (names the lock ID, who holds it and how to release it); a
missing state bucket or lock table -> `BackendMissing` (says to run `devops infra bootstrap`);
anything else -> `TerraformFailed` naming the resource and Terraform's message. All are exit 3.
`init` has no stable JSON UI, so its errors are read from `-no-color` text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from devops.adapters import process
from devops.domain.infra.terraform import BackendMissing, Diagnostic, LockInfo, StateLocked, TerraformFailed
from devops.errors import ExternalError

__all__ = ["BackendMissing", "StateLocked", "TerraformFailed", "from_events", "from_text", "parse_lock_info"]

_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Created):\s*(.*?)\s*$", re.MULTILINE)


def parse_lock_info(text: str) -> LockInfo | None:
    """The "Lock Info:" block Terraform prints when a lock is held."""
    if "Lock Info:" not in text:
        return None
    fields = dict(_LOCK_FIELD.findall(text.split("Lock Info:", 1)[1]))
    if not fields.get("ID"):
        return None
    return LockInfo(
        fields["ID"],
        fields.get("Who", ""),
        fields.get("Operation", ""),
        fields.get("Created", ""),
        fields.get("Path", ""),
    )


def _special(command: str, text: str) -> ExternalError | None:
    """Errors that have a specific remedy: a held lock, a backend that was never bootstrapped."""
    if "Error acquiring the state lock" in text:
        lock = parse_lock_info(text) or LockInfo("unknown")
        held = f"by {lock.who} " if lock.who else ""
        since = f"since {lock.created} " if lock.created else ""
        return StateLocked(
            f"{command}: the state lock is held {held}{since}(lock ID {lock.id}, {lock.operation or 'operation'})",
            lock=lock,
            hint=f"wait for that run to finish; if it died, release it with "
            f"`devops infra unlock --env <env> --lock-id {lock.id}` (terraform force-unlock {lock.id})",
        )
    bucket = re.search(r'S3 bucket "([^"]+)" does not exist', text) or re.search(r"NoSuchBucket", text)
    if bucket:
        name = bucket.group(1) if bucket.groups() else "(configured)"
        return BackendMissing(
            f"{command}: the state bucket {name} does not exist",
            hint="run `devops infra bootstrap` once for this account",
        )
    if "ResourceNotFoundException" in text and ("DynamoDB" in text or "dynamodb" in text):
        return BackendMissing(
            f"{command}: the state lock table does not exist",
            hint="run `devops infra bootstrap` once for this account",
        )
    return None


def from_events(
    command: str,
    result: process.ProcessResult,
    diagnostics: Sequence[Diagnostic],
    applied: Sequence[str] = (),
) -> ExternalError:
    """The error of a failed `-json` run, from its error diagnostics."""
    errors = [d for d in diagnostics if d.severity == "error"]
    everything = "\n".join(f"{d.summary}\n{d.detail}" for d in errors) + "\n" + result.stderr
    special = _special(command, everything)
    if special is not None:
        return special
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        return TerraformFailed(f"{command} failed: {first.one_line()}{more}", diagnostics=errors, applied=applied)
    return TerraformFailed(f"{command} exited {result.returncode}: {result.tail(5)}", applied=applied)


_TEXT_ERROR = re.compile(r"^Error: (.+)$", re.MULTILINE)
_TEXT_WITH = re.compile(r"^\s*with (\S+),", re.MULTILINE)


def from_text(command: str, result: process.ProcessResult) -> ExternalError:
    """The error of a failed run without a JSON UI (`init`, `show`, `output`, ...)."""
    text = result.stderr + "\n" + result.stdout
    special = _special(command, text)
    if special is not None:
        return special
    errors = _TEXT_ERROR.findall(text)
    if errors:
        where = _TEXT_WITH.search(text)
        address = f"{where.group(1)}: " if where else ""
        return TerraformFailed(f"{command} failed: {address}{errors[0].strip()}")
    return TerraformFailed(f"{command} exited {result.returncode}: {result.tail(5)}")
