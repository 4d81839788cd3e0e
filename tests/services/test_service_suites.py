"""Each service's own test suite, run the way its README says, so `pytest tests/services`
covers them: `npm ci` + `node --test` for product and cart, pytest in a virtualenv with the
pinned requirements for order. All of them talk to the MongoDB stand-in over the wire."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import unavailable

REPO = Path(__file__).resolve().parents[2]
STANDIN = REPO / "tests" / "services" / "mongo-standin"
CACHE = Path(os.environ.get("DEVOPS_SERVICES_CACHE", Path.home() / ".cache" / "devops-services"))

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    return done


def _npm_ci(folder: Path, ignore_scripts: bool = False) -> None:
    if shutil.which("npm") is None or shutil.which("node") is None:
        unavailable("node and npm are not installed")
    args = ["npm", "ci", "--no-audit", "--no-fund"]
    if ignore_scripts:
        # mongodb-memory-server (a dependency of smartmongo) would download a mongod binary.
        args.append("--ignore-scripts")
    done = _run(args, folder, 600)
    assert done.returncode == 0, f"npm ci in {folder} failed:\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def mongo_standin_installed() -> Path:
    _npm_ci(STANDIN, ignore_scripts=True)
    return STANDIN / "standin.mjs"


def _node_suite(service: str, standin: Path) -> str:
    folder = REPO / "services" / service
    _npm_ci(folder)
    done = _run(["node", "--test", "--test-concurrency=1", "test/"], folder, 600,
                env={"MONGO_STANDIN_SCRIPT": str(standin)})
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"{service} suite failed:\n{out[-6000:]}"
    passed = int(re.search(r"^# pass (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    failed = int(re.search(r"^# fail (\d+)", out, re.M).group(1))  # type: ignore[union-attr]
    assert failed == 0
    return f"{passed} passed"


def test_product_suite(mongo_standin_installed: Path) -> None:
    summary = _node_suite("product", mongo_standin_installed)
    assert int(summary.split()[0]) >= 30


def test_cart_suite(mongo_standin_installed: Path) -> None:
    summary = _node_suite("cart", mongo_standin_installed)
    assert int(summary.split()[0]) >= 25


def _order_venv() -> Path:
    """A virtualenv with the order service's pinned requirements (cached by their hash)."""
    folder = REPO / "services" / "order"
    digest = hashlib.sha256(
        (folder / "requirements.txt").read_bytes() + (folder / "requirements-dev.txt").read_bytes()
    ).hexdigest()[:12]
    venv = CACHE / f"order-venv-{digest}"
    python = venv / "bin" / "python"
    if python.exists():
        return python
    tmp = venv.with_name(venv.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    done = _run([sys.executable, "-m", "venv", str(tmp)], folder, 120)
    assert done.returncode == 0, done.stderr
    done = _run([str(tmp / "bin" / "python"), "-m", "pip", "install", "-q", "-r", "requirements-dev.txt"], folder, 600)
    assert done.returncode == 0, f"pip install -r requirements-dev.txt failed:\n{done.stderr[-3000:]}"
    shutil.rmtree(venv, ignore_errors=True)
    tmp.rename(venv)
    # The venv's scripts carry the tmp path in their shebangs; only `python -m` is used.
    return python


def test_order_suite(mongo_standin_installed: Path) -> None:
    python = _order_venv()
    folder = REPO / "services" / "order"
    done = _run([str(python), "-m", "pytest", "-q"], folder, 600, env={"MONGO_STANDIN_SCRIPT": str(mongo_standin_installed)})
    out = done.stdout + done.stderr
    assert done.returncode == 0, f"order suite failed:\n{out[-6000:]}"
    m = re.search(r"(\d+) passed", out)
    assert m and int(m.group(1)) >= 35, out[-2000:]
    assert " failed" not in out


def test_mongo_standin_speaks_the_wire_protocol(mongo_standin_installed: Path) -> None:
    """The launcher prints its URI, serves pymongo (from the order service's venv), and stops
    cleanly on SIGTERM."""
    from tests.support.stack import free_port

    python = _order_venv()
    port = free_port()
    proc = subprocess.Popen(["node", str(mongo_standin_installed), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        line = ""
        for _ in range(50):
            line = proc.stdout.readline()
            if line.startswith("mongodb://"):
                break
        assert line.strip() == f"mongodb://127.0.0.1:{port}"
        script = (
            "import sys, pymongo\n"
            "c = pymongo.MongoClient(sys.argv[1] + '/check', serverSelectionTimeoutMS=3000)\n"
            "assert c.admin.command('ping')['ok'] == 1\n"
            "c.check.things.insert_one({'a': 1})\n"
            "print(c.check.things.find_one({'a': 1}, {'_id': 0}))\n"
        )
        done = _run([str(python), "-c", script, line.strip()], REPO, 60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "{'a': 1}"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0
