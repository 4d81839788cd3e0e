"""The base every configuration model derives from, and how the configuration is handed the
environment variables it may read (it never reads the process environment itself)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A block of `pipelines/devops.yaml`. Frozen so steps cannot change what was validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Variables(Protocol):
    """Environment variables by name: the CLI's `RuntimeSettings` (devops/wiring/settings.py,
    the environment read once per run) or a plain mapping (a test's dict, `os.environ`)."""

    def get(self, name: str, /) -> str | None: ...


def variable(environ: Variables | None, name: str | None) -> str | None:
    """The value of `name` in `environ`; None when unset or empty (an empty secret is no secret)."""
    if environ is None or not name:
        return None
    return environ.get(name) or None


# The names users give to services, environments, calendars, schedules, targets, channels.
NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"


def check_names(names: Iterable[str], example: str) -> None:
    """ValueError naming the first name that is not a lower-case name like `example`."""
    for name in names:
        if not re.fullmatch(NAME_PATTERN, name):
            raise ValueError(f"expected a lower-case name like {example!r}, got {name!r}")
