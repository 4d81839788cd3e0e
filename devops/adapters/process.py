"""The one way `devops` runs a tool: every subprocess goes through `run`.

It finds the tool, applies a timeout that kills the whole process group, feeds secrets on
stdin (never on the command line) and turns failures into errors that name the command.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from devops.errors import ToolFailed, ToolMissing, ToolTimeout

TAIL_LINES = 20


@dataclass(frozen=True)
class ProcessResult:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    data: bytes = b""  # stdout's bytes, with `run(..., binary=True)` (then `stdout` is empty)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of output, where a failing tool says why."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return "\n".join(text[-lines:])


def which(tool: str, *, hint: str | None = None) -> str:
    """Absolute path of `tool`, or `ToolMissing` saying how to install it."""
    found = shutil.which(tool)
    if not found:
        raise ToolMissing(f"{tool}: command not found on PATH", hint=hint or f"install {tool}")
    return found


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float | None = 600,
    check: bool = True,
    install_hint: str | None = None,
    secrets: Sequence[str] = (),
    binary: bool = False,
) -> ProcessResult:
    """Run a tool to completion and return its output.

    `binary=True` keeps stdout as bytes (`ProcessResult.data`): for output whose lengths are
    counted in bytes (`git cat-file --batch`), which decoding would shift.

    `check=True` raises `ToolFailed` on a non-zero exit, with the output's tail; `secrets` are
    replaced by `***` in every message. `env` is added to the current environment.
    """
    argv = [os.fspath(arg) for arg in args]
    argv[0] = which(argv[0], hint=install_hint)
    full_env = {**os.environ, **env} if env else None
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # so a timeout can kill the tool's children too
        )
    except OSError as exc:
        raise ToolFailed(f"{_show(argv, secrets)}: cannot start: {exc.strerror}") from None
    try:
        out, err = proc.communicate(stdin.encode() if stdin is not None else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise ToolTimeout(
            f"{_show(argv, secrets)}: killed after {timeout:g} s without finishing",
            hint="raise the timeout in pipelines/devops.yaml or check why the tool hangs",
        ) from None
    except KeyboardInterrupt:
        _kill_group(proc)
        raise
    stdout = "" if binary else _text(out)
    result = ProcessResult(tuple(argv), proc.returncode, stdout, _text(err), time.monotonic() - started,
                           out if binary else b"")
    if check and not result.ok:
        raise ToolFailed(
            f"{_show(argv, secrets)}: exited {result.returncode}: {_mask(result.tail(5), secrets)}"
        )
    return result


def _text(data: bytes) -> str:
    # What Popen(text=True, errors="replace") gave: UTF-8, universal newlines.
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _show(argv: Sequence[str], secrets: Sequence[str]) -> str:
    shown = [Path(argv[0]).name, *argv[1:]]
    return _mask(shlex.join(shown), secrets)
