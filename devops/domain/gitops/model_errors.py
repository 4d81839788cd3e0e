"""The first problem of a pydantic ValidationError as one line: `key.path: message`, the form
every GitOps file's refusal takes (records, freeze files)."""

from __future__ import annotations

from pydantic import ValidationError


def first_problem(exc: ValidationError) -> str:
    """`key.path: message (and N more)` for the first error of `exc`."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg'].removeprefix('Value error, ')}{more}"
