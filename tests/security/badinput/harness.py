"""The bad-input suite: every case runs the real `devops` entry point in-process on a fresh copy
of a small project, with a canary folder beside it that must stay untouched.

A case says what it feeds (config text, files, options, environment, servers started in
`setup`) and what must come back: the exit code of docs/cli.md, no traceback, no "internal
error", at most one error line, the names the error must mention, and a time bound (a hang or a
runaway expansion is a failure, not a slow pass).

A refused input (exit 2) writes nothing: the project tree is compared before and after, as the
canary is after every case. A bad input is refused before anything outside is asked: while a case expecting exit 2 runs,
every socket connection, DNS lookup and process other than a local `git` is blocked and fails
the case ("reached outside"). A case that must talk to a server it started (a hostile fake
server, to prove what it received) says `outside=True`, which also lets it write in the project
(a tool's report, say); the canary is checked for every case. Cases live in `cases_*.py` modules of this
folder, each exporting `CASES`; `test_bad_inputs.py` collects them all and the run prints how
many it ran.
"""

from __future__ import annotations

import hashlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.cli import Outcome, run_cli

# A bad input must be refused quickly; this bound only catches hangs and runaway work.
TIME_BOUND_SECONDS = 10


@dataclass
class CaseContext:
    """What a case's `setup` may use and change before the command runs."""

    root: Path  # the project (pipelines/devops.yaml, services/, git repository)
    canary: Path  # outside the project: must stay byte for byte as it was
    env: dict[str, str] = field(default_factory=dict)
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def write(self, relative: str, content: str | bytes) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path


@dataclass(frozen=True)
class Case:
    """One bad (or control) input and what `devops` must answer."""

    id: str
    argv: tuple[str, ...]
    expect: int
    # Replaces pipelines/devops.yaml (str or bytes); None keeps the base project's config.
    config: str | bytes | None = None
    # Appended to the base project's config (YAML text, top-level keys).
    config_extra: str = ""
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    # Substrings the error output must contain (the file, key or value at fault).
    mentions: tuple[str, ...] = ()
    setup: Callable[[CaseContext], None] | None = None
    # After the run, more checks (e.g. a hostile server received no credential).
    check: Callable[[CaseContext, Outcome], None] | None = None
    # May the command open sockets or run tools other than git? Only checked for exit-2 cases.
    outside: bool = False

    def __str__(self) -> str:
        return self.id


def tree_digest(folder: Path, skip: tuple[str, ...] = (".git", ".devops")) -> str:
    """A hash of every file's path and bytes under `folder` (the folders named in `skip` excluded)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if any(part in skip for part in path.relative_to(folder).parts):
            continue
        digest.update(str(path.relative_to(folder)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@contextmanager
def time_bound(seconds: int) -> Iterator[None]:
    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"the command ran longer than {seconds} s on a bad input")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


class ReachedOutside(BaseException):
    """Raised in place of a network or tool call (BaseException: `devops` must not swallow it)."""


@contextmanager
def nothing_outside(enabled: bool) -> Iterator[list[str]]:
    """Block (and list) socket connections, DNS lookups and processes other than local git."""
    reached: list[str] = []
    if not enabled:
        yield reached
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo, real_popen_init = socket.getaddrinfo, subprocess.Popen.__init__

    def refuse(what: str) -> None:
        reached.append(what)
        raise ReachedOutside(what)

    def connect(self: socket.socket, address: object) -> None:
        refuse(f"socket connect {address!r}")

    def connect_ex(self: socket.socket, address: object) -> int:
        refuse(f"socket connect {address!r}")
        return 1

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list[object]:
        refuse(f"DNS lookup {host!r}")
        return []

    def popen_init(self: subprocess.Popen[str], args: object, *rest: object, **kwargs: object) -> None:
        argv = [str(a) for a in args] if isinstance(args, list | tuple) else [str(args)]
        tool = argv[0].rsplit("/", 1)[-1] if argv else ""
        remote = any(a.startswith(("http://", "https://", "ssh://", "git://")) or "@" in a.split(":", 1)[0]
                     for a in argv[1:] if ":" in a)
        if tool != "git" or remote:
            refuse(f"process {' '.join(argv)[:200]}")
        real_popen_init(self, args, *rest, **kwargs)  # type: ignore[arg-type]

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    subprocess.Popen.__init__ = popen_init  # type: ignore[method-assign,assignment]
    try:
        yield reached
    except ReachedOutside:
        pass  # recorded in `reached`; the assertion after the run names it
    finally:
        socket.socket.connect, socket.socket.connect_ex = real_connect, real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
        subprocess.Popen.__init__ = real_popen_init  # type: ignore[method-assign]


def run_case(case: Case, base: Path, workdir: Path, monkeypatch: object) -> tuple[Outcome, float]:
    """Copy the base project to `workdir`, apply the case, run it, check the common promises."""
    root = workdir / "project"
    shutil.copytree(base / "project", root, symlinks=True)
    canary = workdir / "canary"
    shutil.copytree(base / "canary", canary, symlinks=True)
    ctx = CaseContext(root=root, canary=canary, env=dict(case.env))
    config_path = root / "pipelines" / "devops.yaml"
    if case.config is not None:
        if isinstance(case.config, bytes):
            config_path.write_bytes(case.config)
        else:
            config_path.write_text(case.config)
    if case.config_extra:
        config_path.write_text(config_path.read_text() + case.config_extra)
    for relative, content in case.files.items():
        ctx.write(relative, content)
    try:
        if case.setup is not None:
            case.setup(ctx)
        for name, value in ctx.env.items():
            monkeypatch.setenv(name, value)  # type: ignore[attr-defined]
        canary_before = tree_digest(canary)
        project_before = tree_digest(root, skip=(".git",))
        started = time.monotonic()
        with time_bound(TIME_BOUND_SECONDS), nothing_outside(case.expect == 2 and not case.outside) as reached:
            outcome = run_cli(*(arg.format(root=root, canary=canary) for arg in case.argv), cwd=root)
        elapsed = time.monotonic() - started
        assert not reached, f"{case.id}: a bad input reached outside before it was refused: {reached}"
        _check_common(case, outcome)
        assert tree_digest(canary) == canary_before, f"{case.id}: the canary folder outside the project changed"
        if case.expect == 2 and not case.outside:  # nothing written on refusal, not even a cache folder
            assert tree_digest(root, skip=(".git",)) == project_before, f"{case.id}: the project changed on exit 2"
        if case.check is not None:
            case.check(ctx, outcome)
    finally:
        for cleanup in reversed(ctx.cleanups):
            cleanup()
    return outcome, elapsed


def _check_common(case: Case, outcome: Outcome) -> None:
    shown = f"exit {outcome.code}\nstdout: {outcome.out[-1500:]}\nstderr: {outcome.err[-1500:]}"
    assert outcome.code == case.expect, f"{case.id}: expected exit {case.expect}\n{shown}"
    both = outcome.out + outcome.err
    assert "Traceback" not in both, f"{case.id}: a traceback reached the user\n{shown}"
    assert "internal error" not in both, f"{case.id}: reported as a bug in devops\n{shown}"
    if case.expect != 0:
        errors = [line for line in outcome.err.splitlines() if line.startswith("devops: error:")
                  or line.startswith("Error:")]
        assert errors, f"{case.id}: no error line on stderr\n{shown}"
        assert len(errors) == 1, f"{case.id}: more than one error line\n{shown}"
        for needle in case.mentions:
            assert needle.lower() in errors[0].lower() or needle.lower() in outcome.err.lower(), (
                f"{case.id}: the error does not name {needle!r}\n{shown}")
