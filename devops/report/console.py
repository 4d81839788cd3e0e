"""What a command shows a person: rich tables and progress on a terminal, plain lines in CI.

In `--json` mode the machine-readable result is the only thing on stdout; everything meant
for people goes to stderr, so `devops plan --json | jq` always works.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TextIO

from devops.report.github import GitHubActions


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Reporter:
    """One per command run; created by the CLI and handed to what renders results.

    `environ` is the environment as the CLI read it (`RuntimeSettings.environ`): `COLUMNS`, `CI`
    and the GitHub Actions variables. None: a laptop outside CI."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        verbose: bool = False,
        out: TextIO | None = None,
        err: TextIO | None = None,
        github: GitHubActions | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        from rich.console import Console

        environ = environ if environ is not None else {}
        self.json_mode = json_mode
        self.verbose = verbose
        self._out = out or sys.stdout
        self._in_ci = bool(environ.get("CI"))
        err = err or sys.stderr
        # People read stdout unless stdout carries JSON. CI logs are not terminals: rich would
        # squeeze tables into 80 columns there, so give them room unless COLUMNS says otherwise.
        # (rich reads COLUMNS itself when no width is given.)
        people = err if json_mode else self._out
        width = None if _is_terminal(people) or environ.get("COLUMNS") else 160
        self.console = Console(file=people, highlight=False, soft_wrap=True, width=width)
        self.errors = Console(file=err, highlight=False, soft_wrap=True, width=width)
        self.github = github or GitHubActions.from_environ(environ, stream=self._out)

    @property
    def interactive(self) -> bool:
        """True on a terminal outside CI: show live progress instead of plain lines."""
        return self.console.is_terminal and not self._in_ci

    def info(self, message: str) -> None:
        self.console.print(message, markup=False)

    def debug(self, message: str) -> None:
        if self.verbose:
            self.errors.print(message, markup=False, style="dim")

    def warn(self, message: str) -> None:
        self.errors.print(f"warning: {message}", markup=False, style="yellow")

    def table(self, title: str, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_lines=False)
        for header in headers:
            table.add_column(header)
        for row in rows:
            table.add_row(*(str(value) for value in row))
        self.console.print(table)

    def result(self, data: Any) -> None:
        """The command's result: JSON on stdout in `--json` mode, nothing otherwise. A pydantic
        model is written by its field names (the stable interface of docs/schemas/)."""
        if self.json_mode:
            dump = getattr(data, "model_dump", None)
            if dump is not None:
                data = dump(mode="json", by_alias=True)
            self._out.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
            self._out.flush()
