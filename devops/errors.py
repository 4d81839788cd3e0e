"""The error tree of `devops`: every error knows its exit code (see docs/cli.md).

Errors carry one line that says what failed and what to do next; the CLI prints that line
on stderr and exits with `exit_code`. Nothing else in the package decides exit codes.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    GATE_FAILED = 1
    BAD_INPUT = 2
    EXTERNAL = 3
    INTERRUPTED = 130


class DevopsError(Exception):
    """Base of every expected failure. `str(error)` is the one line shown to the user."""

    exit_code: ExitCode = ExitCode.EXTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")

    def retold(self, message: str, *, hint: str | None = None) -> DevopsError:
        """The same failure (same exit code) told in a caller's words, e.g. with what already happened."""
        error = DevopsError(message, hint=hint if hint is not None else self.hint)
        error.exit_code = self.exit_code
        return error


class GateFailed(DevopsError):
    """A gate or policy said no: findings over threshold, quality gate failed, promotion refused."""

    exit_code = ExitCode.GATE_FAILED


class BadInput(DevopsError):
    """Usage errors, invalid configuration, unknown service or environment, malformed files."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(BadInput):
    """`pipelines/devops.yaml` (or another config file) is missing or invalid."""


class UnknownName(BadInput):
    """An unknown service, environment, schedule or other named thing."""


class ExternalError(DevopsError):
    """An external system failed: tool missing, daemon or API unreachable, timeout, odd answer."""

    exit_code = ExitCode.EXTERNAL


class ToolMissing(ExternalError):
    """A command-line tool `devops` wraps is not installed."""


class ToolFailed(ExternalError):
    """A wrapped tool exited non-zero or printed something that is not what it promises."""


class ToolTimeout(ExternalError):
    """A wrapped tool did not finish in time and was killed."""


class HttpError(ExternalError):
    """An HTTP API answered with an error, or could not be reached, after retries."""


class GateUnavailable(ExternalError):
    """A gate could not be evaluated. Gates fail closed: this is exit 3, never a pass."""
