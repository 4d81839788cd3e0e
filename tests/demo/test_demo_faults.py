"""Faults in a demo run: a step that fails (a real Trivy DB with a planted CRITICAL) and Ctrl-C.

Either way the demo exits with the right code and leaves nothing running: no containers, no
network, no Prometheus or moto process, and nothing written to the GitOps remote.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.demo.conftest import REPO, commits, leftovers, record, run_demo
from tests.gates.trivydb import Advisory, build_db


def test_a_failing_step_sets_the_exit_code_and_everything_is_cleaned_up(
        tmp_path: Path, demo_env: dict[str, str], cleanup_demo: list[Path]) -> None:
    # A vulnerability DB is in Trivy's cache, so the demo scans for vulnerabilities too, and
    # every Debian image has glibc: a CRITICAL with a fix fails the Trivy gate (exit 1) before
    # anything is released.
    cache = build_db(tmp_path / "trivy", [Advisory("CVE-2099-0801", "glibc", "CRITICAL", "9.99-1", title="planted")])
    workdir = tmp_path / "demo"
    cleanup_demo.append(workdir)
    ran = run_demo("--json", "demo", "--workdir", str(workdir), env={**demo_env, "TRIVY_CACHE_DIR": str(cache)})
    assert ran.code == 1, ran.tail()
    report = ran.json()
    steps = {s["name"]: s for s in report["steps"]}
    assert report["scanners"] == ["vuln", "secret"]
    assert steps["scan"]["verdict"] == "FAILED" and steps["scan"]["exit_code"] == 1
    assert all(steps[name]["verdict"] == "NOT RUN" for name in ("release dev", "release prod", "cost report"))
    assert "CVE-2099-0801" in ran.err
    assert report["exit_code"] == 1
    assert commits(workdir / "gitops.git") == 1   # only the seed: nothing released
    assert leftovers(workdir) == []
    assert not (workdir / "demo-state.json").exists()


def test_ctrl_c_during_the_release_stops_everything(tmp_path: Path, demo_env: dict[str, str],
                                                    cleanup_demo: list[Path]) -> None:
    workdir = tmp_path / "demo"
    cleanup_demo.append(workdir)
    proc = subprocess.Popen([sys.executable, "-m", "devops", "demo", "--workdir", str(workdir)], cwd=REPO,
                            env=demo_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 400
    # Interrupt once the stand-in Argo CD has started the shop for the dev release.
    for line in proc.stderr:
        seen.append(line)
        if "frontend Healthy" in line or time.monotonic() > deadline:
            break
    assert any("frontend Healthy" in line for line in seen), "".join(seen[-40:])
    state = json.loads((workdir / "demo-state.json").read_text())
    assert leftovers(workdir)   # the shop is running now
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen[-20:]) + rest
    assert leftovers(workdir) == []
    for pid in state["pids"].values():   # moto and Prometheus are gone too
        assert not _alive(pid), pid
    assert not (workdir / "demo-state.json").exists()

    # dev was released but never verified: the next run verifies it on its own, then promotes.
    remote = workdir / "gitops.git"
    assert "verification" not in record(remote, "dev")["services"]["cart"]
    again = run_demo("--json", "demo", "--workdir", str(workdir), env=demo_env)
    assert again.code == 0, again.tail()
    steps = {s["name"]: s for s in again.json()["steps"]}
    assert "nothing to change" in steps["release dev"]["detail"]
    assert steps["verify dev"]["verdict"] == "PASSED" and "not verified yet" in steps["verify dev"]["detail"]
    dev, prod = record(remote, "dev")["services"], record(remote, "prod")["services"]
    assert all(entry["verification"]["verdict"] == "PASSED" for entry in dev.values())
    assert {k: v["digest"] for k, v in prod.items()} == {k: v["digest"] for k, v in dev.items()}
    assert leftovers(workdir) == []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not running: it only waits for its parent (gone) to be reaped.
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_sigterm_during_a_step_cleans_up_like_ctrl_c(tmp_path: Path, demo_env: dict[str, str],
                                                     cleanup_demo: list[Path]) -> None:
    """A cancelled CI job sends SIGTERM: the running step is stopped and nothing is left."""
    workdir = tmp_path / "demo"
    cleanup_demo.append(workdir)
    proc = subprocess.Popen([sys.executable, "-m", "devops", "demo", "--workdir", str(workdir)], cwd=REPO,
                            env=demo_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("== scan:"):
            break
    assert seen and seen[-1].startswith("== scan:"), "".join(seen[-40:])
    state = json.loads((workdir / "demo-state.json").read_text())
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(seen[-20:]) + rest
    assert "interrupted; stopping everything it started" in rest
    assert leftovers(workdir) == []
    assert not any(_alive(pid) for pid in state["pids"].values())
    assert commits(workdir / "gitops.git") == 1
