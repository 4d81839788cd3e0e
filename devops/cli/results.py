"""Typed `--json` results: each command declares the pydantic model of what it prints.

`@json_result(Model)` above a click command records the model; `python -m devops.cli.schemas`
writes its JSON Schema to docs/schemas/<command>.json, and the tests validate every `--json`
output they see against it. Field names of these models are a stable interface (docs/cli.md,
"Machine output"): renaming one is a breaking change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from pydantic import BaseModel

C = TypeVar("C", bound=click.Command)


def json_result(model: type[BaseModel]) -> Callable[[C], C]:
    """Declare `model` as the `--json` result of the decorated command."""

    def mark(command: C) -> C:
        command.result_model = model  # type: ignore[attr-defined]
        return command

    return mark


def result_model(command: click.Command) -> type[BaseModel] | None:
    model: type[BaseModel] | None = getattr(command, "result_model", None)
    return model
