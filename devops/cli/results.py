"""Typed `--json` results: each command declares the pydantic model of what it prints.

`@json_result(Model)` above a click command records the model; `python -m devops.cli.schemas`
writes its JSON Schema to docs/schemas/<command>.json, and the tests validate every `--json`
output they see against it. Field names of these models are a stable interface (docs/cli.md,
"Machine output"): renaming one is a breaking change.

`devops --help` imports every command module and must stay free of pydantic (tests/unit/
test_cli.py), so a command names its model by import path, `"devops.app.config_check:
ConfigSummary"`, resolved only when the model is asked for; a class is accepted too.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from pydantic import BaseModel

C = TypeVar("C", bound=click.Command)


def json_result(model: type[BaseModel] | str) -> Callable[[C], C]:
    """Declare `model` (a class, or "package.module:Name") as the `--json` result of the command."""

    def mark(command: C) -> C:
        command.result_model = model  # type: ignore[attr-defined]
        return command

    return mark


def result_model(command: click.Command) -> type[BaseModel] | None:
    """The declared model, imported now when it was named by path; None when none is declared."""
    model: type[BaseModel] | str | None = getattr(command, "result_model", None)
    if isinstance(model, str):
        module, _, name = model.partition(":")
        resolved: type[BaseModel] = getattr(importlib.import_module(module), name)
        return resolved
    return model
