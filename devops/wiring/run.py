"""What the wiring needs of a command run: the configuration, the environment read once, and the
reporter. `devops.cli.context.AppContext` is one; the wiring names this protocol instead of
importing the CLI context, so the wiring stays below the commands (no import cycle)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from devops.config import Config
    from devops.report.console import Reporter
    from devops.wiring.settings import RuntimeSettings


class Run(Protocol):
    @property
    def config(self) -> Config: ...

    @property
    def settings(self) -> RuntimeSettings: ...

    @property
    def reporter(self) -> Reporter: ...
