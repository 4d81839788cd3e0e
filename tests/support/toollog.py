"""Count the processes devops starts: `git`, `docker` and `trivy` on PATH as shell scripts that log
their arguments and exec the real tool (tests assert counts, never timings)."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import pytest


class ToolLog:
    """Logging shims in `folder`, first on PATH (through `monkeypatch`) while the test runs."""

    TOOLS = ("git", "docker", "trivy")

    def __init__(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.logs = {name: folder / f"{name}.log" for name in self.TOOLS}
        for name in self.TOOLS:
            real = shutil.which(name)
            assert real, f"{name} is not installed"
            shim = folder / name
            # One line per call, the arguments separated by 0x1f.
            shim.write_text(f'#!/bin/sh\n(IFS="$(printf \'\\037\')"; printf \'%s\\n\' "$*") >> "{self.logs[name]}"\n'
                            f'exec "{real}" "$@"\n')
            shim.chmod(0o755)
        monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
        self.reset()

    def reset(self) -> None:
        for log in self.logs.values():
            log.write_text("")

    def calls(self, tool: str) -> list[list[str]]:
        return [line.split("\x1f") for line in self.logs[tool].read_text().splitlines()]

    def count(self, tool: str) -> Counter[str]:
        """Calls by subcommand: `git -c k=v clone ...` -> clone, `docker image inspect` -> image inspect."""
        found: Counter[str] = Counter()
        for args in self.calls(tool):
            while args and args[0] in ("-c", "-C"):
                args = args[2:]
            while args and args[0].startswith("-"):
                args = args[1:]
            if tool == "docker" and len(args) > 1 and args[0] in ("image", "buildx", "manifest", "system"):
                found[f"{args[0]} {args[1]}"] += 1
            else:
                found[args[0] if args else "(none)"] += 1
        return found
