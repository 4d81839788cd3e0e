"""The checks behind every value type (devops/domain/types.py, devops/cli/params.py): plain
functions raising ValueError in the words the user sees. No pydantic here, so the CLI can use
them without importing it (`devops --help` stays fast).
"""

from __future__ import annotations

import math
import re
import string
from collections.abc import Collection
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

# Dates outside this range are typos or attacks (year 1, year 9999 overflow date arithmetic).
YEAR_MIN, YEAR_MAX = 2000, 2100
# The longest wait or timeout anything accepts: a week. Larger values overflow the clocks the
# standard library waits on (threading, subprocess) and are never what anyone meant.
MAX_SECONDS = 7 * 24 * 3600
MAX_COUNT = 1_000_000
# An OCI repository reference, optionally with a tag: ghcr.io/aquasecurity/trivy-db:2 (a pydantic
# pattern, hence the anchors).
OCI_REFERENCE = (r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)+"
                 r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")
# The checks below use fullmatch: with re.match, `$` also matches before a final newline, which
# would let "abc1234\nSigned-off-by: ..." pass as a commit id.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
COMMIT = re.compile(r"[0-9a-f]{7,64}")
ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NAME = re.compile(r"[a-z][a-z0-9-]{0,62}")
# Ids typed on the command line (a Terraform lock id, a cluster or node group name).
IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,199}")
# Characters a path inside the GitOps repository may use (plus `{}` in templates).
_REPO_PATH = re.compile(r"[A-Za-z0-9._@+/-]+")


# -- numbers and flags -------------------------------------------------------------------------

def number_not_bool(value: object) -> object:
    """Booleans are not numbers (`port: true` would be 1); NaN and infinities are not finite."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def check_finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value}")
    return value


def finite_tree(value: Any, where: str = "") -> Any:
    """Every float inside nested lists/dicts is finite (Terraform variables, JSON documents)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where or 'value'}: expected a finite number, got {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            finite_tree(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            finite_tree(item, f"{where}[{index}]")
    return value


# -- text, names and ids -----------------------------------------------------------------------

def check_line(value: str) -> str:
    """One line of text: no newline or other control character (they forge log lines and trailers)."""
    if _CONTROL.search(value):
        raise ValueError(f"must be one line without control characters, got {value!r}")
    return value


def check_name(value: str) -> str:
    if not NAME.fullmatch(value):
        raise ValueError(f"expected a lower-case name like 'cart' (a-z, 0-9, -), got {value!r}")
    return value


def check_ident(value: str, what: str = "id") -> str:
    """A non-empty id without spaces or control characters that cannot pass for an option."""
    if not value:
        raise ValueError(f"expected a non-empty {what}")
    if not IDENT.fullmatch(value):
        raise ValueError(f"expected a {what} of letters, digits and ._:@/+=- (not starting with one of "
                         f"them, at most 200 characters), got {value!r}")
    return value


def check_commit(value: str) -> str:
    """A git commit id: 7 to 64 hex digits (upper case is lowered)."""
    lowered = value.lower()
    if not COMMIT.fullmatch(lowered):
        raise ValueError(f"expected a commit id of 7 to 64 hex digits, got {value!r}")
    return lowered


def check_build_arg(text: str) -> tuple[str, str]:
    """`KEY=VALUE` of a Docker build argument -> (key, value); the value is one line."""
    key, sep, value = text.partition("=")
    if not sep or not ENV_VAR.fullmatch(key):
        raise ValueError(f"expected KEY=VALUE with KEY like NODE_IMAGE, got {text!r}")
    check_line(value)
    return key, value


def check_env_var(value: str) -> str:
    if not ENV_VAR.fullmatch(value):
        raise ValueError(f"expected an environment variable name like SONAR_TOKEN, got {value!r}")
    return value


# -- URLs ------------------------------------------------------------------------------------

URL_SCHEMES = ("http", "https")


def check_http_url(value: str) -> str:
    """An http(s) URL with a host: no other scheme (ftp, file, gopher), no user:password in it
    (credentials come from variables and must not appear in logs), no spaces or control characters."""
    if _CONTROL.search(value) or " " in value:
        raise ValueError(f"expected a URL without spaces or control characters, got {value!r}")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises ValueError for a port that is not a number in 0..65535
    except ValueError:
        raise ValueError(f"expected a URL like https://host[:port]/path, got {value!r}") from None
    if parts.scheme.lower() not in URL_SCHEMES:
        shown = f"{parts.scheme}://" if parts.scheme else "no scheme"
        raise ValueError(f"unsupported URL scheme ({shown}) in {value!r}; expected http:// or https://")
    if not parts.hostname:
        raise ValueError(f"expected a URL with a host, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{_without_userinfo(value)}: credentials in the URL are not allowed; "
                         "give them through the *_env keys")
    if port == 0:
        raise ValueError(f"expected a port in 1..65535, got {value!r}")
    return value


def _without_userinfo(value: str) -> str:
    parts = urlsplit(value)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"***@{host}").geturl()


# -- paths ------------------------------------------------------------------------------------

def check_project_path(value: str) -> str:
    """A path in the project: no `..`, no `~`, no backslash, no control characters. An absolute
    one passes here; where it resolves (inside the project root, symlinks included) is checked
    once the root is known (devops.config.paths), so `/` and `/etc` are refused there."""
    if not value or not value.strip():
        raise ValueError("expected a path, got an empty string")
    if _CONTROL.search(value):
        raise ValueError(f"path {value!r} contains control characters")
    if "\\" in value:
        raise ValueError(f"path {value!r}: use / as the separator")
    if value.startswith("~") or re.match(r"^[A-Za-z]:", value):
        raise ValueError(f"path {value!r} must be relative to the project root")
    if ".." in value.split("/"):
        raise ValueError(f"path {value!r} must not contain '..' (nothing outside the repository)")
    return value


def check_relative_path(value: str) -> str:
    """A relative path that never goes up: not absolute, no `..`, no `~`, no control characters."""
    check_project_path(value)
    if value.startswith("/"):
        raise ValueError(f"path {value!r} must be relative, not absolute")
    return value


def check_repo_path(value: str) -> str:
    """A path inside the GitOps repository: relative, no `..`, never into `.git`, and only plain
    characters (no option- or pathspec-like leading `-` or `:`)."""
    check_relative_path(value)
    if not _REPO_PATH.fullmatch(value):
        raise ValueError(f"path {value!r}: use letters, digits and ._@+-/ only")
    if value.startswith("-"):
        raise ValueError(f"path {value!r} must not start with '-'")
    if any(part.lower() == ".git" for part in value.split("/")):
        raise ValueError(f"path {value!r} must not point into .git")
    return value


def check_program(value: str) -> str:
    """A program name on PATH or a path to one (trivy, terraform): one line, no control characters."""
    if not value.strip():
        raise ValueError("expected a program name or path, got an empty string")
    check_line(value)
    if value.startswith("-"):
        raise ValueError(f"program {value!r} must not start with '-'")
    return value


# -- templates ---------------------------------------------------------------------------------

def check_template(value: str, allowed: Collection[str], required: Collection[str] = ()) -> str:
    """`value` uses only `{name}` placeholders from `allowed` (no index, attribute, conversion or
    format spec: `{service}{0}`, `{service.__class__}`, `{service!r}` are refused) and all of
    `required`; it renders with `str.format`."""
    shown = ", ".join("{" + name + "}" for name in sorted(allowed))
    used: set[str] = set()
    try:
        fields = list(string.Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid template ({exc}); allowed placeholders: {shown}") from None
    for _literal, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in allowed or spec or conversion:
            whole = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise ValueError(f"unknown placeholder {whole} in {value!r}; allowed: {shown}")
        used.add(field)
    missing = [name for name in required if name not in used]
    if missing:
        raise ValueError(f"{value!r} must contain {{{missing[0]}}}")
    return value


# -- dates ---------------------------------------------------------------------------------------

_D = TypeVar("_D", date, datetime)


def check_year(value: _D, what: str = "date") -> _D:
    if not YEAR_MIN <= value.year <= YEAR_MAX:
        raise ValueError(f"{what} {value.isoformat()} is outside {YEAR_MIN}..{YEAR_MAX}")
    return value


def parse_timestamp(value: str, what: str = "time") -> datetime:
    """An ISO 8601 time (`Z` allowed) in 2000..2100; ValueError naming it otherwise."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except (ValueError, AttributeError, TypeError):
        raise ValueError(f"expected an ISO 8601 {what} like 2026-11-25T18:40:00Z, got {value!r}") from None
    check_year(parsed, what)
    return parsed
