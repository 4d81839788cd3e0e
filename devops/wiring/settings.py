"""The process environment, read once per run and passed down as values.

Nothing below the CLI reads `os.environ`: commands take what they need from `RuntimeSettings`
(a token by the variable name the config gives, the GitHub Actions context, the overrides of
docs/configuration.md) and hand it to use cases and adapters as plain arguments. Tests build
a `RuntimeSettings` from a dict instead of patching the environment of the process.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class RuntimeSettings:
    """A frozen snapshot of the environment variables `devops` reads."""

    environ: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> RuntimeSettings:
        """Snapshot `environ` (the process environment when None)."""
        return cls(MappingProxyType(dict(os.environ if environ is None else environ)))

    def get(self, name: str | None) -> str | None:
        """The value of variable `name`, None when unset or empty (an empty secret is no secret)."""
        if not name:
            return None
        return self.environ.get(name) or None

    def flag(self, name: str) -> bool:
        """A variable that is set to "true" (as GitHub Actions writes its booleans)."""
        return (self.environ.get(name) or "").lower() == "true"

    @property
    def in_github_actions(self) -> bool:
        return self.flag("GITHUB_ACTIONS")

    @property
    def in_ci(self) -> bool:
        return bool(self.environ.get("CI"))
