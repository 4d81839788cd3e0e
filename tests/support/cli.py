"""Run the real `devops` entry point in-process and capture what a user would see."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
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


def run_cli(*args: str, cwd: Path | None = None) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    try:
        if cwd:
            os.chdir(cwd)
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(previous)
    return Outcome(code, out.getvalue(), err.getvalue())
