"""The layers of docs/architecture.md, checked: import-linter's contracts, no cycles, and the
rules import-linter cannot express (environment reads, test hooks, module and CLI size).

Each rule has a list of today's exceptions; issue 15 empties them. A new exception is a
decision: add it here with the reason, or move the code to its layer.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "devops"

# Only adapters and the wiring read the environment (the wiring reads it once per run).
ENVIRONMENT_READERS = ("devops/adapters/", "devops/wiring/")
ENVIRONMENT_EXCEPTIONS: set[str] = set()
# Modules over this many lines say why in a comment that contains "long because".
MAX_LINES = 350
SIZE_EXCEPTIONS: set[str] = set()
# The CLI (options, one use-case call, rendering) stays a small share of the package; the wiring
# (devops/wiring/, the composition root) and the renderers (devops/report/) are not the CLI.
CLI_SHARE = 0.08
CYCLE_EXCEPTIONS: set[str] = set()
HOOK_EXCEPTIONS: set[str] = set()
OUTSIDE_WORLD = {"subprocess", "requests", "urllib3", "boto3", "botocore", "docker", "python_on_whales"}


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_import_linter_contracts_hold() -> None:
    lint = shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports not installed: pip install -e .[lint]")
    done = subprocess.run([lint, "--config", str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_no_import_cycles_between_modules() -> None:
    import grimp

    graph = grimp.build_graph("devops")
    cycles = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            if graph.chain_exists(importer=imported, imported=module):
                cycles.append(f"{module} <-> {imported}")
    assert not set(cycles) - CYCLE_EXCEPTIONS, sorted(set(cycles) - CYCLE_EXCEPTIONS)
    assert not CYCLE_EXCEPTIONS - set(cycles), f"remove from CYCLE_EXCEPTIONS: {sorted(CYCLE_EXCEPTIONS - set(cycles))}"


def _reads_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "putenv") and \
                isinstance(node.value, ast.Name) and node.value.id == "os":
            return True
    return False


def test_only_adapters_and_the_wiring_read_the_environment() -> None:
    readers = {relative(p) for p in modules() if _reads_environment(ast.parse(p.read_text()))}
    unexpected = {r for r in readers if not r.startswith(ENVIRONMENT_READERS)} - ENVIRONMENT_EXCEPTIONS
    assert not unexpected, f"read the environment in the wiring and pass the value down: {sorted(unexpected)}"
    stale = ENVIRONMENT_EXCEPTIONS - readers
    assert not stale, f"no longer read the environment: remove from ENVIRONMENT_EXCEPTIONS: {sorted(stale)}"


def test_only_adapters_import_the_outside_world() -> None:
    found = []
    for path in modules():
        if relative(path).startswith("devops/adapters/"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                if name.split(".")[0] in OUTSIDE_WORLD:
                    found.append(f"{relative(path)}: {name}")
    assert not found, found


def test_no_test_hooks_in_product_code() -> None:
    # Environment switches that only tests set (a pause, a fallback off) belong in fixtures or ports.
    hooks = [f"{relative(p)}: {m}" for p in modules()
             for m in re.findall(r"DEVOPS_[A-Z_]*(?:PAUSE|NO_FALLBACK|TEST)[A-Z_]*", p.read_text())]
    assert not set(hooks) - HOOK_EXCEPTIONS, sorted(set(hooks) - HOOK_EXCEPTIONS)
    assert not HOOK_EXCEPTIONS - set(hooks), f"remove from HOOK_EXCEPTIONS: {sorted(HOOK_EXCEPTIONS - set(hooks))}"


def test_long_modules_say_why() -> None:
    long = {relative(p): len(p.read_text().splitlines()) for p in modules()}
    long = {name: n for name, n in long.items() if n > MAX_LINES}
    unexplained = {name for name in long if "long because" not in (ROOT / name).read_text()}
    assert not unexplained - SIZE_EXCEPTIONS, f"split, or say why in a comment: {sorted(unexplained - SIZE_EXCEPTIONS)}"
    assert not SIZE_EXCEPTIONS - unexplained, f"remove from SIZE_EXCEPTIONS: {sorted(SIZE_EXCEPTIONS - unexplained)}"


def test_the_cli_is_a_small_share_of_the_package() -> None:
    total = sum(len(p.read_text().splitlines()) for p in modules())
    cli = sum(len(p.read_text().splitlines()) for p in modules() if relative(p).startswith("devops/cli/"))
    assert cli / total <= CLI_SHARE, f"the CLI is {cli / total:.1%} of the package"
