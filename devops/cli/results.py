"""Typed `--json` results: each command declares the pydantic model of what it prints.

`@json_result(Model)` above a click command records the model, or `@json_result("module:Model")`,
imported only when the model is asked for, so that `devops --help` does not import pydantic;
`python -m devops.cli.schemas` writes its JSON Schema to docs/schemas/<command>.json, and the
tests validate every `--json` output they see against it. Field names of these models are a
stable interface (docs/cli.md, "Machine output"): renaming one is a breaking change.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from pydantic import BaseModel

C = TypeVar("C", bound=click.Command)


def json_result(model: type[BaseModel] | str) -> Callable[[C], C]:
    """Declare `model` (a class, or "package.module:Class") as the `--json` result of the decorated command."""

    def mark(command: C) -> C:
        command.result_model = model  # type: ignore[attr-defined]
        return command

    return mark


def result_model(command: click.Command) -> type[BaseModel] | None:
    model: type[BaseModel] | str | None = getattr(command, "result_model", None)
    if isinstance(model, str):
        import importlib

        module, _, name = model.partition(":")
        found: type[BaseModel] = getattr(importlib.import_module(module), name)
        return found
    return model
