"""Ignore files (`.trivyignore`, `.trivyignore.yaml`) read from disk; their rules are parsed and
applied by `devops.domain.gates.ignore`."""

from __future__ import annotations

from pathlib import Path

from devops.domain.gates.ignore import IgnoreRules, is_yaml_form, rules_from_bytes
from devops.errors import BadInput


def load_ignore_file(path: Path, shown: str | None = None) -> IgnoreRules:
    """Read and parse an ignore file; a missing or unreadable one is `BadInput` (exit 2), never
    "nothing ignored"."""
    name = shown or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(
            f"{name}: ignore file not found", hint="fix gates.scan.ignore_file or --ignore-file"
        ) from None
    except OSError as exc:
        raise BadInput(f"{name}: cannot read the ignore file: {exc.strerror}") from None
    return rules_from_bytes(data, name, yaml=is_yaml_form(path))
