"""Click parameter types: every option value is checked by the same function as the config key it
stands for (devops/domain/types.py, devops/domain/timespec.py), when the command line is parsed.

So a bad option is exit 2 with one line naming it (`devops: error: --timeout: ...`) while the
command line is parsed: before the configuration is read, and long before any network, Docker
or Terraform call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

from devops.domain import checks as types
from devops.errors import BadInput


class Checked(click.ParamType):
    """A string option checked (and converted) by `check`, which raises ValueError in user words."""

    def __init__(self, name: str, check: Callable[[str], Any], metavar: str | None = None, *,
                 show_value: bool = False) -> None:
        self.name = name
        self._check = check
        self._metavar = metavar
        self._show_value = show_value  # "--window ten: ..." where the message does not quote it

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str | None:
        # Arguments keep their own name (SERVICES), options show the kind of value (SECONDS).
        return None if isinstance(param, click.Argument) else self._metavar

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value  # a default or an already converted value
        try:
            return self._check(value)
        except ValueError as exc:
            # One line, `devops: error: --month: expected ...`, like every other bad input.
            shown = f"{_shown(param)} {_quoted(value)}" if self._show_value else _shown(param)
            raise BadInput(f"{shown}: {exc}") from None


def _quoted(value: str) -> str:
    """The value as typed when it is one plain word, else quoted (a newline must not split the line)."""
    return value if value and value.isprintable() and " " not in value and len(value) <= 80 else repr(value[:80])


def _shown(param: click.Parameter | None) -> str:
    if param is None:
        return "value"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    return param.human_readable_name


def _seconds(text: str) -> float:
    shown = _quoted(text)
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {shown}") from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"expected a positive number of seconds, got {shown}")
    if value > types.MAX_SECONDS:
        raise ValueError(f"expected at most {types.MAX_SECONDS} seconds (a week), got {shown}")
    return value


def _instant(text: str) -> Any:
    from devops.domain.timespec import parse_instant

    return parse_instant(text)


def _until(text: str) -> Any:
    from devops.domain.timespec import parse_until

    return parse_until(text)


def _month(text: str) -> tuple[int, int]:
    from devops.domain.timespec import parse_month

    return parse_month(text)


def _duration(text: str) -> str:
    from devops.domain.observability.durations import duration_seconds

    duration_seconds(text)
    return text


def _reason(text: str) -> str:
    text = types.check_line(text.strip())
    if not text or len(text) > 500:
        raise ValueError("expected a one-line reason of 1 to 500 characters")
    return text


def _freeze_until(text: str) -> Any:
    from devops.domain.release.freeze import parse_until

    return parse_until(text)


def _name(text: str) -> str:
    return types.check_ident(text, "name")


def _lock_id(text: str) -> str:
    return types.check_ident(text, "lock id")


def _git_ref(text: str) -> str:
    """A commit, branch or relative ref (`origin/main`, `HEAD~1`, `~2`, `previous`): never an
    option, a refspec (`a:b`) or a pathspec."""
    import re

    if not text or not re.fullmatch(r"[A-Za-z0-9_.~^/@{}+-]{1,255}", text) or text.startswith("-"):
        raise ValueError(f"expected a git commit or ref like origin/main, abc1234 or ~1, got {text!r}")
    return text


def _build_arg(text: str) -> str:
    types.check_build_arg(text)
    return text


def _host_port(text: str) -> str:
    import re

    if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?", text):
        raise ValueError(f"expected HOST[:PORT] like 127.0.0.1:5000, got {text!r}")
    return text


def _image_ref(text: str) -> str:
    import re

    if not re.fullmatch(r"[a-z0-9][A-Za-z0-9._/:@-]{0,511}", text) or "//" in text:
        raise ValueError(f"expected an image reference like registry/repository:tag[@sha256:...], got {text!r}")
    return text


def _oci_repository(text: str) -> str:
    import re

    if not re.fullmatch(types.OCI_REFERENCE.strip("^$"), text):
        raise ValueError(f"expected a repository like ghcr.io/aquasecurity/trivy-db:2, got {text!r}")
    return text


def _names_csv(text: str) -> str:
    for part in text.split(","):
        if part.strip():
            _name(part.strip())
    return text


def _path(text: str) -> str:
    """A file or folder given on the command line: one line, not empty."""
    if not text.strip():
        raise ValueError("expected a path, got an empty string")
    types.check_line(text)
    return text


SECONDS = Checked("seconds", _seconds, "SECONDS")
INSTANT = Checked("instant", _instant, "ISO-8601")
UNTIL = Checked("until", _until, "HH:MM|ISO-8601")
MONTH = Checked("month", _month, "YYYY-MM")
DURATION = Checked("duration", _duration, "DURATION", show_value=True)
HTTP_URL = Checked("url", types.check_http_url, "URL")
COMMIT = Checked("commit", types.check_commit, "SHA")
NAME = Checked("name", _name, "NAME")
LOCK_ID = Checked("lock id", _lock_id, "LOCK_ID")
GIT_REF = Checked("git ref", _git_ref, "REF")
BUILD_ARG = Checked("build argument", _build_arg, "KEY=VALUE")
HOST_PORT = Checked("host", _host_port, "HOST:PORT")
IMAGE_REF = Checked("image", _image_ref, "REF")
OCI_REPOSITORY = Checked("repository", _oci_repository, "REPOSITORY")
NAMES_CSV = Checked("names", _names_csv, "A,B")
REASON = Checked("reason", _reason, "TEXT")
FREEZE_UNTIL = Checked("until", _freeze_until, "ISO-8601|DURATION")


class PathParam(click.Path):
    """click.Path that also refuses empty values and control characters."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            try:
                _path(value)
            except ValueError as exc:
                raise BadInput(f"{_shown(param)}: {exc}") from None
        return super().convert(value, param, ctx)


def file_path(**kwargs: Any) -> PathParam:
    return PathParam(dir_okay=False, **kwargs)


def dir_path(**kwargs: Any) -> PathParam:
    return PathParam(file_okay=False, **kwargs)


__all__ = [
    "BUILD_ARG", "COMMIT", "DURATION", "GIT_REF", "HOST_PORT", "HTTP_URL", "IMAGE_REF", "INSTANT", "LOCK_ID", "MONTH",
    "NAME", "NAMES_CSV", "OCI_REPOSITORY",
    "SECONDS", "UNTIL", "Checked", "PathParam", "dir_path", "file_path",
]
