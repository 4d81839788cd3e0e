"""Processes that outlive one call: background servers and tools whose output is shown live.

`process.run` is the way `devops` runs a tool to completion and reads its answer. Two things it
cannot do, which `devops demo` needs: keep a server running in the background (moto server,
Prometheus) and show a long tool's output line by line while it runs (a build that takes
minutes). Both live here, with the same rules: the tool is found with `which`, its whole
process group is killed on a timeout or Ctrl-C, and failures name the command.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from devops.adapters.process import ProcessResult, which
from devops.domain.retry import RetryPolicy, retrying
from devops.errors import ExternalError, ToolFailed, ToolTimeout


@dataclass
class Background:
    """A server started by `spawn`; `stop()` ends its process group."""

    args: tuple[str, ...]
    pid: int
    log: Path
    _proc: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._proc.poll()

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, then SIGKILL what is left after `timeout` seconds."""
        if self._proc.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.pid, signal.SIGKILL)
                self._proc.wait(timeout=10)


def spawn(args: Sequence[str | os.PathLike[str]], *, log: Path, env: Mapping[str, str] | None = None,
          cwd: Path | None = None, install_hint: str | None = None) -> Background:
    """Start a server in its own process group, its output going to `log`."""
    argv = [os.fspath(arg) for arg in args]
    argv[0] = which(argv[0], hint=install_hint)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **env} if env else None,
                                    stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as exc:
            raise ToolFailed(f"{shlex.join(argv)}: cannot start: {exc.strerror}") from None
    return Background(tuple(argv), proc.pid, log, proc)


def stop_pid(pid: int, expect: str, timeout: float = 10) -> bool:
    """End the process group of a server started by an earlier run (`devops demo --stop`).

    Only when the process's command line still contains `expect`: a PID recorded long ago may
    belong to something else by now.
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    if expect not in cmdline:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.2)
    _signal_group(pid, signal.SIGKILL)
    return True


def _running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has ended; it only waits for its parent to reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def stream(args: Sequence[str | os.PathLike[str]], *, on_line: Callable[[str, str], None],
           cwd: Path | None = None, env: Mapping[str, str] | None = None,
           replace_env: bool = False, timeout: float = 1800) -> ProcessResult:
    """Run a tool to completion, calling `on_line(stream_name, line)` for each line as it comes.

    Returns the exit code and both outputs (a non-zero exit is the caller's to judge). The
    environment is `env` alone with `replace_env`, else `env` added to the current one.
    """
    argv = [os.fspath(arg) for arg in args]
    argv[0] = which(argv[0])
    full_env = dict(env or {}) if replace_env else ({**os.environ, **env} if env else None)
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1,
                                start_new_session=True)
    except OSError as exc:
        raise ToolFailed(f"{shlex.join(argv)}: cannot start: {exc.strerror}") from None
    captured: dict[str, list[str]] = {"stdout": [], "stderr": []}

    def pump(name: str, pipe: IO[str]) -> None:
        for line in pipe:
            captured[name].append(line)
            on_line(name, line.rstrip("\n"))

    assert proc.stdout is not None and proc.stderr is not None
    readers = [threading.Thread(target=pump, args=("stdout", proc.stdout), daemon=True),
               threading.Thread(target=pump, args=("stderr", proc.stderr), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        returncode = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()
        raise ToolTimeout(f"{shlex.join(argv)}: killed after {timeout:g} s without finishing") from None
    except BaseException:  # Ctrl-C: the tool must not outlive us
        _signal_group(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    for reader in readers:
        reader.join(timeout=5)
    return ProcessResult(tuple(argv), returncode, "".join(captured["stdout"]), "".join(captured["stderr"]),
                    time.monotonic() - started)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (the server started on it next may still lose a race)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str,
               server: Background | None = None) -> None:
    """Poll `check` until it holds; ExternalError when `timeout` passes or `server` exits first."""

    class NotYet(Exception):
        pass

    policy = RetryPolicy(attempts=1_000_000, base_seconds=0.15, max_seconds=0.3, deadline_seconds=timeout)
    try:
        for attempt in retrying(policy, retry_on=lambda error: isinstance(error, NotYet)):
            with attempt:
                if server is not None and not server.alive():
                    raise ExternalError(f"{what}: exited ({server.returncode}): {server.log_tail(400).strip()}",
                                        hint=f"see {server.log}")
                if not check():
                    raise NotYet
    except NotYet:
        raise ExternalError(f"{what}: not ready after {timeout:g} s",
                            hint=f"see {server.log}" if server else None) from None


def port_open(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:`port`."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
