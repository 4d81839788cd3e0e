"""What every command receives: global options, the lazily loaded config and the reporter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from devops.config import Config
    from devops.report.console import Reporter
    from devops.wiring.settings import RuntimeSettings


@dataclass
class AppContext:
    config_path: str | None = None
    json_mode: bool = False
    verbose: bool = False
    # Folders the config's paths may point into besides its project root (`--source-root`).
    source_roots: tuple[Path, ...] = ()
    _config: Config | None = field(default=None, repr=False)
    _settings: RuntimeSettings | None = field(default=None, repr=False)
    _reporter: Reporter | None = field(default=None, repr=False)
    # The time of the run: freezes, soak times, evidence dates (a port: tests give a fixed one).
    clock: Callable[[], dt.datetime] | None = field(default=None, repr=False)

    def now(self) -> dt.datetime:
        from devops.domain.release.evidence import utc_now

        return (self.clock or utc_now)()

    @property
    def config(self) -> Config:
        if self._config is None:
            from devops.config import load_config

            self._config = load_config(self.config_path, environ=self.settings, allowed_roots=self.source_roots)
        return self._config

    @property
    def settings(self) -> RuntimeSettings:
        """The environment, read once for this run (devops/wiring/settings.py)."""
        if self._settings is None:
            from devops.wiring.settings import RuntimeSettings

            self._settings = RuntimeSettings.from_environ()
        return self._settings

    @property
    def reporter(self) -> Reporter:
        if self._reporter is None:
            from devops.report.console import Reporter

            self._reporter = Reporter(json_mode=self.json_mode, verbose=self.verbose, environ=self.settings.environ)
        return self._reporter


pass_app = click.make_pass_decorator(AppContext)


def json_option(func):  # type: ignore[no-untyped-def]
    """`--json` accepted after the subcommand too (`devops plan --json`), as users type it."""

    def set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value:
            ctx.ensure_object(AppContext).json_mode = True

    return click.option(
        "--json", "json_flag", is_flag=True, expose_value=False, is_eager=True, callback=set_json,
        help="Print the result as JSON on stdout; logs go to stderr.",
    )(func)


def dry_run_option(func):  # type: ignore[no-untyped-def]
    return click.option("--dry-run", is_flag=True, help="Show what would change; change nothing.")(func)
