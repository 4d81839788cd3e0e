"""Files a command writes where the command line says (`--sarif`, `--chart`): inside the project.

A report file belongs to the repository's work tree (Actions uploads it from there); a path
that resolves outside the project root (symlinks included), into `.git`, onto a folder or
through a symlink is refused with exit 2 before anything runs, so a command line or a script
built from data can never make `devops` overwrite a file elsewhere on the machine.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from devops.errors import BadInput


def output_file(root: Path, value: str, option: str, *, suffixes: Sequence[str] = ()) -> Path:
    """The resolved path of an output file named by `option`; BadInput (exit 2) unless it is a
    plain file path inside `root`, outside `.git`, with one of `suffixes` (when given)."""
    base = root.resolve()
    given = Path(value)
    lexical = Path(os.path.normpath(given if given.is_absolute() else Path.cwd() / given))
    if suffixes and lexical.suffix.lower() not in suffixes:
        raise BadInput(f"{option} {value[:200]!r}: expected a file ending in {' or '.join(suffixes)}")
    try:
        resolved = lexical.resolve()
    except (OSError, RuntimeError) as exc:
        raise BadInput(f"{option} {value[:200]!r}: cannot be resolved ({exc})") from None
    if not resolved.is_relative_to(base) or resolved == base:
        raise BadInput(f"{option} {value[:200]!r}: resolves to {resolved}, outside the project root {base}",
                       hint="write report files inside the repository (e.g. reports/...)")
    if resolved.relative_to(base).parts[0] == ".git":
        raise BadInput(f"{option} {value[:200]!r}: inside .git; choose a path in the work tree")
    if lexical.is_symlink():
        raise BadInput(f"{option} {value[:200]!r}: is a symlink; name a plain file")
    if resolved.is_dir():
        raise BadInput(f"{option} {value[:200]!r}: is a folder; name a file")
    return resolved
