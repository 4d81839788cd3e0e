"""Fixtures of the demo tests: `devops demo` run like a user runs it (a subprocess of the
installed CLI), against the real Docker engine, local registry, Trivy, Prometheus and moto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from devops.app.demo import run_id
from tests.support.cli import Outcome, check_json_output

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.out)

    def tail(self) -> str:
        """What a failing assertion shows: the failed steps' details and the end of the output."""
        failed = ""
        try:
            failed = "\n".join(f"{s['name']}: {s['verdict']} {s['detail']}" for s in self.json()["steps"]
                               if s["verdict"] == "FAILED")
        except (ValueError, KeyError, TypeError):
            pass
        lines = [line for line in self.err.splitlines() if not line.lstrip().startswith(("│", "┃", "┏", "┡", "└"))]
        return f"exit {self.code}\n{failed}\n--- stderr (tail, tables left out)\n" + "\n".join(lines[-60:])


@pytest.fixture
def demo_env(standin_build_args: dict[str, str], registry: str, tmp_path: Path) -> dict[str, str]:
    """The caller's environment without devops/CI settings; the stand-in base images to build
    with; an empty Trivy cache (no vulnerability DB: secret scanning only) unless a test plants one."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DEVOPS_", "GITHUB_", "TRIVY_"))}
    env["DEVOPS_BUILD_ARGS"] = " ".join(f"{k}={v}" for k, v in standin_build_args.items())
    env["TRIVY_CACHE_DIR"] = str(tmp_path / "trivy-without-db")
    return env


def run_demo(*args: str, env: dict[str, str], timeout: float = 600) -> Ran:
    """`devops <args>` as a user runs it; a `--json` result is checked against docs/schemas/demo.json."""
    done = subprocess.run([sys.executable, "-m", "devops", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    check_json_output(args, Outcome(done.returncode, done.stdout, done.stderr))
    return Ran(done.returncode, done.stdout, done.stderr)


def leftovers(workdir: Path) -> list[str]:
    """Containers (any state) and networks the demo in `workdir` created and did not remove."""
    ident = run_id(workdir)
    containers = subprocess.run(["docker", "ps", "-a", "--filter", f"label=devops-demo={ident}", "--format",
                                 "{{.Names}}"], capture_output=True, text=True, check=True).stdout.split()
    networks = subprocess.run(["docker", "network", "ls", "--filter", f"name=devops-demo-{ident}", "--format",
                               "{{.Name}}"], capture_output=True, text=True, check=True).stdout.split()
    return containers + networks


def git(remote: Path, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", str(remote), *args], capture_output=True, text=True,
                          check=True).stdout


def record(remote: Path, env: str) -> dict:  # type: ignore[type-arg]
    return json.loads(git(remote, "show", f"main:gitops/environments/{env}/release.json"))


def commits(remote: Path) -> int:
    return int(git(remote, "rev-list", "--count", "main").strip())


@pytest.fixture
def cleanup_demo(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Whatever a failing test leaves behind is removed (the tests assert it was not left)."""
    workdirs: list[Path] = []
    yield workdirs
    for workdir in workdirs:
        subprocess.run([sys.executable, "-m", "devops", "demo", "--stop", "--workdir", str(workdir)],
                       cwd=REPO, capture_output=True, timeout=120)
