"""The first problem of a pydantic ValidationError as one line: `key.path: message`, the form
every GitOps file's refusal takes (records, freeze files), and the check both files share."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from devops.errors import BadInput

Model = TypeVar("Model", bound=BaseModel)


def first_problem(exc: ValidationError) -> str:
    """`key.path: message (and N more)` for the first error of `exc`."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}: {error['msg'].removeprefix('Value error, ')}{more}"


def validated(model: type[Model], data: Any, file: str, *, hint: str, environment: str | None = None,
              kind: str = "file") -> Model:
    """`data` as `model`; BadInput naming `file` and the first key path when it is not one, or
    when `environment` is given and the document is another environment's."""
    if not isinstance(data, dict):
        raise BadInput(f"{file}: expected a JSON object, got {type(data).__name__}")
    try:
        document = model.model_validate(data)
    except ValidationError as exc:
        raise BadInput(f"{file}: {first_problem(exc)}", hint=hint) from None
    found = getattr(document, "environment", None)
    if environment is not None and found != environment:
        raise BadInput(f"{file}: environment: the {kind} says {found!r}, expected {environment!r}")
    return document
