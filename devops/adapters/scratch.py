"""Temporary folders of a run (a GitOps clone, a Trivy server's files) that the next run removes
when the run that made them was killed.

A run removes its folders itself when it ends, on errors and Ctrl-C; SIGKILL (an out-of-memory
kill, a cancelled CI job, `kill -9`) gives it no chance, and a laptop's temporary folder would
collect a clone per killed release. So each folder holds an owner record (host, PID namespace,
PID and the process's start time), and making a folder first removes the folders of the same
kind whose owner is certainly dead. Certainly: a folder of another host or PID namespace (a
temporary folder shared between containers), a live PID, a record that cannot be read, a
symlink, a folder of another user: all are left alone (a PID reused by a process that started
later counts as dead). A removal that fails is left for later. A server the dead run started in a
session of its own (`adopt`: the Trivy server), which its SIGKILL did not reach, is ended first,
while its start time shows it is still that server.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from devops.errors import ExternalError

OWNER_FILE = "devops-owner.json"
CHILDREN_FILE = "devops-children.json"  # servers the run started in their own session (`adopt`)
NO_FOLDER_HINT = "free space there, or point TMPDIR at a writable folder; nothing was written"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:  # not Linux: no namespaces to tell apart
        return ""


def _started(pid: int) -> str | None:
    """The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat); "" where
    /proc does not exist; None when the process does not exist."""
    try:
        line = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None if Path("/proc/self/stat").exists() else ""
    except OSError:
        return ""
    # The command name (field 2) is in parentheses and may hold spaces: count after the last ")".
    return line.rsplit(")", 1)[1].split()[19]


def owner_record(pid: int | None = None) -> dict[str, object]:
    pid = os.getpid() if pid is None else pid
    return {"host": socket.gethostname(), "pid_namespace": _pid_namespace(), "pid": pid, "started": _started(pid) or ""}


def _alive(pid: int, started: str) -> bool:
    now = _started(pid)
    if now is None:
        return False
    if now and started:
        return now == started  # the same PID started later is another process
    try:
        os.kill(pid, 0)  # no /proc (macOS): a reused PID counts as alive, which only keeps a folder
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def owner_is_dead(folder: Path, alive: Callable[[int, str], bool] = _alive) -> bool:
    """True only when `folder`'s owner record names a process of this host and PID namespace
    that no longer runs."""
    try:
        record = json.loads((folder / OWNER_FILE).read_text())
        host, namespace = record["host"], record["pid_namespace"]
        pid, started = int(record["pid"]), str(record["started"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if host != socket.gethostname() or namespace != _pid_namespace():
        return False
    return not alive(pid, started)


def _ours(path: Path) -> bool:
    """A real folder (not a symlink) of this user: the temporary folder is shared with everyone."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


def sweep(prefix: str, parent: Path | None = None) -> list[Path]:
    """Remove the `prefix*` folders under `parent` (the temporary folder) whose owner is dead."""
    parent = Path(tempfile.gettempdir()) if parent is None else parent
    removed: list[Path] = []
    try:
        candidates = [path for path in parent.iterdir() if path.name.startswith(prefix) and _ours(path)]
    except OSError:
        return removed
    for folder in candidates:
        if owner_is_dead(folder):
            _stop_children(folder)
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    return removed


def adopt(folder: Path, pid: int) -> None:
    """Note in `folder` a server this run started in a session of its own (`trivy server`): a
    SIGKILL of the run does not reach it, so the run that sweeps the folder ends it."""
    children = _children(folder)
    children.append({"pid": pid, "started": _started(pid) or ""})
    (folder / CHILDREN_FILE).write_text(json.dumps(children))


def _children(folder: Path) -> list[dict[str, object]]:
    try:
        listed = json.loads((folder / CHILDREN_FILE).read_text())
    except (OSError, ValueError):
        return []
    return [child for child in listed if isinstance(child, dict)] if isinstance(listed, list) else []


def _stop_children(folder: Path) -> None:
    """SIGTERM the process group of each server a dead run left, only while its start time
    shows it is still that process (a reused PID, or no /proc to tell, is left alone)."""
    for child in _children(folder):
        try:
            pid, started = int(child["pid"]), str(child["started"])  # type: ignore[call-overload]
        except (KeyError, ValueError, TypeError):
            continue
        if pid <= 1 or not started or _started(pid) != started:
            continue
        try:
            os.killpg(pid, signal.SIGTERM)  # spawned with a session of its own: its group is its PID
        except OSError:
            pass


def scratch_folder(prefix: str) -> Path:
    """A new temporary folder `prefix*` owned by this process, after removing the ones of the
    same prefix that killed runs left. ExternalError (exit 3) when it cannot be made."""
    sweep(prefix)
    parent = tempfile.gettempdir()
    try:
        folder = Path(tempfile.mkdtemp(prefix=prefix))
    except OSError as exc:
        raise ExternalError(f"cannot make a temporary folder in {parent}: {exc.strerror or exc}",
                            hint=NO_FOLDER_HINT) from None
    try:
        (folder / OWNER_FILE).write_text(json.dumps(owner_record()))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ExternalError(f"cannot write in the temporary folder {folder}: {exc.strerror or exc}",
                            hint=NO_FOLDER_HINT) from None
    return folder
