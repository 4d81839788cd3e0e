"""GitHub Actions integration: annotations, job summary, step outputs and masking.

Every method is a no-op outside Actions, so commands call them unconditionally and behave the
same on a laptop. See the workflow-command docs: values are escaped as the runner expects.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table; pipes in cells are escaped."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + " --- |" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@dataclass
class GitHubActions:
    """Writes workflow commands to `stream` and files named by the runner's variables."""

    enabled: bool
    summary_path: Path | None = None
    output_path: Path | None = None
    stream: TextIO = sys.stdout

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], stream: TextIO | None = None) -> GitHubActions:
        """From the runner's variables in `environ` (the environment as the CLI read it)."""
        env = environ
        enabled = env.get("GITHUB_ACTIONS") == "true"
        return cls(
            enabled=enabled,
            summary_path=Path(env["GITHUB_STEP_SUMMARY"]) if enabled and env.get("GITHUB_STEP_SUMMARY") else None,
            output_path=Path(env["GITHUB_OUTPUT"]) if enabled and env.get("GITHUB_OUTPUT") else None,
            stream=stream or sys.stdout,
        )

    def mask(self, secret: str | None) -> None:
        """Ask the runner to hide `secret` in every log line from now on."""
        if self.enabled and secret:
            for line in secret.splitlines():
                if line.strip():
                    self._command(f"::add-mask::{_escape_data(line)}")

    def annotate(
        self,
        level: str,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        title: str | None = None,
    ) -> None:
        """An `::error`/`::warning`/`::notice` annotation, attached to a file when given."""
        if not self.enabled:
            return
        if level not in {"error", "warning", "notice"}:
            raise ValueError(f"unknown annotation level {level!r}")
        props = []
        if file:
            props.append(f"file={_escape_property(file)}")
        if line:
            props.append(f"line={line}")
        if title:
            props.append(f"title={_escape_property(title)}")
        head = f"::{level} {','.join(props)}" if props else f"::{level}"
        self._command(f"{head}::{_escape_data(message)}")

    def summary(self, markdown: str) -> None:
        """Append Markdown to the job summary."""
        if self.enabled and self.summary_path:
            with self.summary_path.open("a", encoding="utf-8") as handle:
                handle.write(markdown.rstrip("\n") + "\n\n")

    def output(self, name: str, value: str) -> None:
        """Set a step output; multi-line values use a random heredoc delimiter."""
        if not (self.enabled and self.output_path):
            return
        with self.output_path.open("a", encoding="utf-8") as handle:
            if "\n" in value:
                delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
                handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
            else:
                handle.write(f"{name}={value}\n")

    def _command(self, text: str) -> None:
        self.stream.write(text + "\n")
        self.stream.flush()
