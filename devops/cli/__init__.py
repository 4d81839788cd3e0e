"""The `devops` command line. Commands are thin: parse options, call one function, render."""

from __future__ import annotations

from devops.cli.main import main

__all__ = ["main"]
