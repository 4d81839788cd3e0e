"""What a `devops` command costs, counted from the outside (nothing in devops/ is changed).

- `Shims`: `git`, `docker` and `trivy` on PATH as small shell scripts that log their arguments
  and exec the real tool, so every process devops starts is counted, whichever code path
  (python-on-whales, the process adapter, the GitOps engine) started it.
- `CountingProxy`: a loopback proxy in front of the registry that logs each request's method,
  path and User-Agent (devops' own HTTP client or the Docker daemon). It reuses
  tests/support/faultproxy.py's forwarding (one request per connection, bodies piped byte for
  byte, so docker's chunked blob uploads work): the projects name it as their registry, so
  both devops and the daemon go through it.
- `run_devops`: runs the real CLI (`python -m devops`, PYTHONPATH = this checkout) as a user
  would, and returns the wall time with the counts of that one run.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.faultproxy import FaultProxy, _force_close, _pipe, _read_head

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("git", "docker", "trivy")


def real_tool(name: str) -> str:
    """The tool's binary; for trivy the one pip installed beside this Python (a pyenv shim on
    PATH would add its own start-up to every scan, which a user's plain install does not pay)."""
    if name == "trivy":
        beside = Path(sysconfig.get_path("scripts")) / "trivy"
        if beside.is_file():
            return str(beside)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"bench: {name} is not installed")
    return found


class Shims:
    """A folder of logging shims; `env()` puts it first on PATH."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.logs = {name: folder / f"{name}.log" for name in TOOLS}
        folder.mkdir(parents=True, exist_ok=True)
        for name in TOOLS:
            shim = folder / name
            # One line per call: the arguments separated by a unit separator (0x1f).
            shim.write_text(f'#!/bin/sh\n(IFS="$(printf \'\\037\')"; printf \'%s\\n\' "$*") >> "{self.logs[name]}"\n'
                            f'exec "{real_tool(name)}" "$@"\n')
            shim.chmod(0o755)
        self.reset()

    def env(self, base: dict[str, str]) -> dict[str, str]:
        return {**base, "PATH": f"{self.folder}:{base.get('PATH', os.environ['PATH'])}"}

    def reset(self) -> None:
        for log in self.logs.values():
            log.write_text("")

    def calls(self, name: str) -> list[list[str]]:
        return [line.split("\x1f") for line in self.logs[name].read_text().splitlines()]


def subcommand(argv: list[str], tool: str = "git") -> str:
    """`git -c k=v clone ...` -> `clone`; `docker image inspect` -> `image inspect`; `trivy image ...` -> `image`."""
    args = list(argv)
    while args and args[0] in ("-c", "-C", "--git-dir", "--work-tree", "--host", "-H", "--config", "--context"):
        args = args[2:]
    while args and args[0].startswith("-"):
        args = args[1:]
    if not args:
        return "(none)"
    if tool == "docker" and args[0] in ("image", "container", "buildx", "builder", "manifest", "system") \
            and len(args) > 1:
        return f"{args[0]} {args[1]}"
    return args[0]


def count_subcommands(calls: list[list[str]], tool: str) -> dict[str, int]:
    return dict(Counter(subcommand(c, tool) for c in calls).most_common())


class CountingProxy(FaultProxy):
    """FaultProxy without rules, recording (method, path, user agent) of every request."""

    def __init__(self, upstream: str = "127.0.0.1:5000") -> None:
        super().__init__(upstream)
        self.requests: list[tuple[str, str, str]] = []

    def __enter__(self) -> CountingProxy:
        super().__enter__()
        return self

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()

    def _handle(self, client: socket.socket) -> None:
        with client:
            head, rest = _read_head(client)
            if not head:
                return
            lines = head.split(b"\r\n")
            method, path = (lines[0].decode("latin-1").split(" ") + ["", ""])[:2]
            agent = next((line.split(b":", 1)[1].strip().decode("latin-1") for line in lines[1:]
                          if line.lower().startswith(b"user-agent:")), "")
            with self._lock:
                self.requests.append((method, path, agent))
            upstream = socket.create_connection(self.upstream)
            with upstream:
                upstream.sendall(_force_close(head))
                if rest:
                    upstream.sendall(rest)
                threading.Thread(target=_pipe, args=(client, upstream), daemon=True).start()
                _pipe(upstream, client)

    def summary(self) -> dict[str, Any]:
        """Requests by client (devops or the Docker daemon) and by kind."""
        with self._lock:
            requests = list(self.requests)
        by_client: Counter[str] = Counter()
        by_kind: Counter[str] = Counter()
        pushed: set[str] = set()
        for method, path, agent in requests:
            client = "docker" if agent.lower().startswith("docker/") else "devops"
            by_client[client] += 1
            by_kind[f"{client} {method} {_kind(path)}"] += 1
            if method == "PUT" and "/manifests/" in path:
                pushed.add(path.split("/manifests/", 1)[0].removeprefix("/v2/"))
        return {"total": len(requests), "by_client": dict(by_client), "by_kind": dict(by_kind.most_common()),
                "repositories_given_a_manifest": len(pushed)}


def _kind(path: str) -> str:
    path = path.split("?", 1)[0]
    if path.rstrip("/") == "/v2":
        return "/v2/ (ping)"
    for pattern, name in ((r"/manifests/sha256:", "manifest by digest"), (r"/manifests/", "manifest by tag"),
                          (r"/blobs/uploads/", "blob upload"), (r"/blobs/", "blob"), (r"/tags/list", "tags list"),
                          (r"/_catalog", "catalog")):
        if re.search(pattern, path):
            return name
    return "other"


@dataclass
class Measured:
    """One `devops` run: wall time, exit code, JSON result and what it cost."""

    argv: list[str]
    seconds: float
    returncode: int
    result: Any
    stderr: str
    git: dict[str, int] = field(default_factory=dict)
    docker: dict[str, int] = field(default_factory=dict)
    trivy: dict[str, int] = field(default_factory=dict)
    registry: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        return {"git_processes": sum(self.git.values()), "git": self.git,
                "docker_processes": sum(self.docker.values()), "docker": self.docker,
                "trivy_processes": sum(self.trivy.values()), "trivy": self.trivy,
                "registry_requests": self.registry.get("total", 0), "registry": self.registry}


@functools.cache
def compiled_bytecode(checkout: Path) -> None:
    """Compile the checkout's devops/ once, beside its sources (`__pycache__/`, ignored by git),
    as an installed package has it: pip compiles at install, and Python's own library and the
    dependencies already have theirs. Without it a shell with PYTHONDONTWRITEBYTECODE=1 (this
    machine's) compiles the ~140 modules a command imports from source on every run, about
    0.1 s added to each figure (measured: a cached scan 0.56 -> 0.44 s)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(checkout / "devops")], check=True,
                   capture_output=True, timeout=600)


def devops_env(shims: Shims | None, extra: dict[str, str] | None = None, checkout: Path = ROOT) -> dict[str, str]:
    """The environment a user has: the checkout measured (this one by default) on PYTHONPATH,
    its bytecode compiled as an install has it, a git identity, no CI variables."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "DEVOPS_")) and k not in ("CI", "PYTHONDONTWRITEBYTECODE")}
    compiled_bytecode(checkout)
    env.update({"PYTHONPATH": str(checkout), "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"})
    env.update(extra or {})
    return shims.env(env) if shims else env


def run_devops(args: list[str], *, cwd: Path, env: dict[str, str], shims: Shims | None = None,
               proxy: CountingProxy | None = None, ok: tuple[int, ...] = (0,), timeout: float = 3600,
               python_flags: tuple[str, ...] = (), source_roots: tuple[Path, ...] = ()) -> Measured:
    """Run `python -m devops --json ARGS` in `cwd`; raise SystemExit when the exit code is not in `ok`.

    `source_roots`: folders the config's paths may point into besides the project (the scan
    caches the projects of one run share), passed as `--source-root`."""
    if shims:
        shims.reset()
    if proxy:
        proxy.reset()
    roots = [arg for root in source_roots for arg in ("--source-root", str(root))]
    argv = [sys.executable, *python_flags, "-m", "devops", *roots, "--json", *args]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode not in ok:
        raise SystemExit(f"bench: devops {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    try:
        result = json.loads(done.stdout) if done.stdout.strip() else None
    except json.JSONDecodeError:
        result = None
    measured = Measured(["devops", *args], seconds, done.returncode, result, done.stderr)
    if shims:
        measured.git = count_subcommands(shims.calls("git"), "git")
        measured.docker = count_subcommands(shims.calls("docker"), "docker")
        measured.trivy = count_subcommands(shims.calls("trivy"), "trivy")
    if proxy:
        measured.registry = proxy.summary()
    return measured


def timed(argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
          timeout: float = 3600) -> float:
    """Wall seconds of one command that must succeed."""
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv[:6])} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
