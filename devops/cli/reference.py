"""The CLI reference in docs/cli.md, generated from the click commands themselves.

`python -m devops.cli.reference` rewrites the block between the BEGIN/END markers of
docs/cli.md; `--check` exits 1 when the file is stale (tests/unit/test_cli_reference.py runs
the same comparison), so the reference can never drift from the code.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

BEGIN = "<!-- BEGIN GENERATED: python -m devops.cli.reference -->"
END = "<!-- END GENERATED -->"
DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _walk(command: click.Command, path: list[str], ctx: click.Context) -> list[tuple[list[str], click.Command,
                                                                                      click.Context]]:
    found = [(path, command, ctx)]
    if isinstance(command, click.Group):
        for name in command.list_commands(ctx):
            child = command.get_command(ctx, name)
            if child is None or child.hidden:
                continue
            found += _walk(child, [*path, name], child.make_context(name, [], parent=ctx, resilient_parsing=True))
    return found


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _options(command: click.Command, ctx: click.Context) -> list[str]:
    rows = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            rows.append(f"| `{param.make_metavar(ctx)}` | argument"
                        f"{' (required)' if param.required else ''} |")
            continue
        record = param.get_help_record(ctx)
        if record is None:
            continue
        names, help_text = record
        rows.append(f"| `{_cell(names)}` | {_cell(help_text)} |")
    if not rows:
        return []
    return ["| option | meaning |", "| --- | --- |", *rows]


def render() -> str:
    """The generated Markdown: one section per command and subcommand, in CLI order."""
    from devops.cli.main import cli

    root = cli.make_context("devops", [], resilient_parsing=True)
    lines: list[str] = []
    for path, command, ctx in _walk(cli, [], root):
        title = " ".join(["devops", *path])
        lines += [f"### `{title}`", ""]
        pieces = " ".join(command.collect_usage_pieces(ctx))
        lines += ["```", f"{title} {pieces}".rstrip(), "```", ""]
        if command.help:
            lines += [inspect.cleandoc(command.help).replace("\b\n", ""), ""]
        table = _options(command, ctx)
        if table:
            lines += [*table, ""]
    return "\n".join(lines).rstrip() + "\n"


def updated(text: str, generated: str) -> str:
    """`text` with the generated block replaced (markers kept)."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n\n{generated}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    current = DOC.read_text(encoding="utf-8")
    wanted = updated(current, render())
    if "--check" in args:
        if current != wanted:
            print(f"{DOC}: the CLI reference is stale; run python -m devops.cli.reference", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
