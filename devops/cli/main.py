"""Entry point: global options, lazy command discovery, and the one place errors become exit codes."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import click

from devops import __version__
from devops.cli import params
from devops.cli.context import AppContext
from devops.errors import DevopsError, ExitCode
from devops.wiring.settings import RuntimeSettings

COMMANDS_PACKAGE = "devops.cli.commands"


class LazyGroup(click.Group):
    """Commands live one per module in `devops/cli/commands/`; a module is imported only when
    its command runs (or help lists it), so `devops --help` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        package = importlib.import_module(COMMANDS_PACKAGE)
        names = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
        return sorted(name.replace("_", "-") for name in names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = f"{COMMANDS_PACKAGE}.{cmd_name.replace('-', '_')}"
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command = module.cli
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=params.file_path(), envvar="DEVOPS_CONFIG",
    help="Configuration file [default: pipelines/devops.yaml found upwards, or $DEVOPS_CONFIG].",
)
@click.option("--json", "json_mode", is_flag=True, help="Print the result as JSON on stdout; logs go to stderr.")
@click.option("-v", "--verbose", is_flag=True, help="More detail, and tracebacks on errors.")
# For a caller that generates a config outside the repository it names (`devops demo` runs its
# steps with it): the config's paths may also point into this folder. Hidden: not for people,
# and the config file itself can never widen where its paths point (docs/configuration.md).
@click.option("--source-root", "source_roots", multiple=True, hidden=True, type=params.dir_path(path_type=Path),
              help="Also allow the config's paths inside this folder (generated configs).")
@click.version_option(__version__, "--version", prog_name="devops")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, json_mode: bool, verbose: bool,
        source_roots: tuple[Path, ...]) -> None:
    """Build, scan, gate, publish and release the techitfactory shop; run its cost schedules
    and its Terraform.

    Exit codes: 0 success, 1 a gate said no, 2 bad input, 3 an external system failed,
    130 interrupted.
    """
    app = ctx.ensure_object(AppContext)
    app.config_path = config_path
    app.json_mode = app.json_mode or json_mode
    app.verbose = verbose
    app.source_roots = tuple(source_roots)


def _line_buffered_output() -> None:
    """CI logs are pipes, where stdout is block-buffered: progress would only show at the end."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and not stream.isatty():
            reconfigure(line_buffering=True)


def main(argv: Sequence[str] | None = None, *, clock: Callable[[], datetime] | None = None) -> int:
    """Run the CLI and map every outcome to the exit codes of docs/cli.md; `clock`: the time of
    the run (the system clock when None)."""
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args
    _line_buffered_output()
    settings = RuntimeSettings.from_environ()   # the environment, read once for this run
    try:
        result = cli.main(args=args, prog_name="devops", standalone_mode=False,
                          obj=AppContext(_settings=settings, clock=clock))
    except DevopsError as exc:
        _report_error(str(exc), verbose, settings)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("devops: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("devops: interrupted", err=True)
        return int(ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        return int(ExitCode.BAD_INPUT)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except Exception as exc:  # a bug: say so plainly, traceback only with -v
        if verbose:
            import traceback

            traceback.print_exc()
        _report_error(
            f"internal error ({type(exc).__name__}: {exc}); this is a bug in devops, rerun with -v for details",
            verbose, settings,
        )
        return int(ExitCode.EXTERNAL)
    return int(result or 0) if isinstance(result, int) else 0


def _report_error(message: str, verbose: bool, settings: RuntimeSettings) -> None:
    from devops.report.github import GitHubActions

    GitHubActions.from_environ(settings.environ).annotate("error", message)
    if verbose:
        import traceback

        exc = sys.exc_info()[1]
        if exc is not None and not isinstance(exc, click.ClickException):
            traceback.print_exc()
    click.echo(f"devops: error: {message}", err=True)
