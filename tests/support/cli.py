"""Run the real `devops` entry point in-process and capture what a user would see."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from devops.cli import main


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def json(self) -> object:
        import json

        return json.loads(self.out)


SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"
# Global options that come before the command (docs/cli.md): skipped to find the command path.
_GLOBAL_WITH_VALUE = {"--config"}
_GLOBAL_FLAGS = {"--json", "-v", "--verbose"}


def command_path(args: tuple[str, ...]) -> list[str]:
    """`("--config", "x", "cost", "schedule", "--dry-run")` -> ["cost", "schedule"]."""
    path: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in _GLOBAL_WITH_VALUE:
            skip = True
            continue
        if arg.startswith("-"):
            if path:
                break
            continue
        path.append(arg)
        if len(path) == 2:
            break
    return path


def check_json_output(args: tuple[str, ...], outcome: Outcome) -> None:
    """Every `--json` result a test sees is checked against its published schema
    (docs/schemas/, generated from the command's pydantic model)."""
    if "--json" not in args or outcome.code not in (0, 1) or not outcome.out.strip():
        return
    path = command_path(args)
    for name in ("-".join(path), path[0] if path else ""):
        schema_file = SCHEMAS / f"{name}.json"
        if name and schema_file.is_file():
            import json

            import jsonschema

            jsonschema.validate(json.loads(outcome.out), json.loads(schema_file.read_text()),
                                cls=jsonschema.Draft202012Validator)
            return


def run_cli(*args: str, cwd: Path | None = None, clock: Callable[[], datetime] | None = None) -> Outcome:
    """`devops ARGS` in-process; `clock` stands in for the system clock (frozen time)."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args), clock=clock)
    finally:
        os.chdir(previous)
    outcome = Outcome(code, out.getvalue(), err.getvalue())
    check_json_output(args, outcome)
    return outcome
