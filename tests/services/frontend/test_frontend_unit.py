"""The storefront's own checks, run the way CI runs them: `npm ci` from the lock file, the
TypeScript type-check and Vite build, and the vitest suite (jsdom + Testing Library)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import unavailable


@pytest.fixture(scope="module")
def frontend_dir(repo_root: Path) -> Path:
    if not shutil.which("npm"):
        unavailable("npm not installed (Node.js 20.19+ with npm)")
    folder = repo_root / "services" / "frontend"
    done = subprocess.run(
        ["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def test_vitest_suite_passes(frontend_dir: Path) -> None:
    done = subprocess.run(
        ["npx", "vitest", "run", "--reporter=dot"],
        cwd=frontend_dir,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr)
    assert done.returncode == 0, out[-4000:]
    passed = re.search(r"Tests\s+(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 20, out[-2000:]


def test_typecheck_and_production_build(frontend_dir: Path) -> None:
    done = subprocess.run(["npm", "run", "build"], cwd=frontend_dir, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assets = list((frontend_dir / "dist" / "assets").glob("index-*.js"))
    assert assets, "vite produced no hashed bundle"
    index = (frontend_dir / "dist" / "index.html").read_text()
    assert f"/assets/{assets[0].name}" in index
    # The CSP forbids inline scripts: the built page must not need any.
    assert "<script>" not in index and '<script type="module">' not in index
