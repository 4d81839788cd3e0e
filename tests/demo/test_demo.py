"""`devops demo` end to end: the real delivery on the embedded defaults, twice.

Real components throughout: Docker, the local registry, Trivy, git (a bare GitOps remote),
Prometheus (the Debian package's binary) scraping the real service containers, moto server.
The only stand-ins are the demo's own (Argo CD as a polling thread, the MongoDB stand-in image,
the stand-in base images), as docs/demo.md says.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from tests.demo.conftest import commits, leftovers, record, run_demo
from tests.gates.trivydb import Advisory, build_db
from tests.support.stack import free_port

SERVICES = {"frontend", "product", "cart", "order"}
STEPS = ["config validate", "plan", "build --push", "scan", "release dev", "verify dev", "attest dev", "release prod",
         "status", "cost schedule", "cost report"]


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def test_demo_delivers_then_a_second_run_changes_nothing(tmp_path: Path, demo_env: dict[str, str],
                                                        cleanup_demo: list[Path]) -> None:
    workdir = tmp_path / "demo"
    cleanup_demo.append(workdir)
    remote = workdir / "gitops.git"

    # A small real vulnerability DB in Trivy's cache: vuln and secret scanners both run; the one
    # finding (zlib, MEDIUM, fixed) is under the CRITICAL/HIGH policy and is counted in the record.
    cache = build_db(tmp_path / "trivy", [
        Advisory("CVE-2099-0802", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="planted medium")])
    demo_env = {**demo_env, "TRIVY_CACHE_DIR": str(cache)}
    first = run_demo("--json", "demo", "--workdir", str(workdir), env=demo_env)
    assert first.code == 0, first.tail()
    report = first.json()
    assert [s["name"] for s in report["steps"]] == STEPS
    verdicts = {s["name"]: s["verdict"] for s in report["steps"]}
    assert all(v == "PASSED" for k, v in verdicts.items() if k != "verify dev"), verdicts
    # The release verified dev itself (settle, health, SLOs on the real Prometheus).
    assert verdicts["verify dev"] == "SKIPPED"
    assert report["scanners"] == ["vuln", "secret"]

    dev, prod = record(remote, "dev"), record(remote, "prod")
    assert set(dev["services"]) == SERVICES == set(prod["services"])
    for name in SERVICES:
        entry, promoted = dev["services"][name], prod["services"][name]
        assert entry["digest"].startswith("sha256:") and promoted["digest"] == entry["digest"], name
        assert entry["repository"] == f"127.0.0.1:5000/techitfactory/{name}"
        assert entry["verification"]["verdict"] == "PASSED" and entry["verification"]["digest"] == entry["digest"]
        assert entry["scan"]["verdict"] == "PASSED" and entry["scan"]["counts"]["MEDIUM"] >= 1, entry["scan"]
        assert entry["sonar"]["verdict"] == "SKIPPED"   # not configured: never a pass
        assert report["digests"][name] == {"dev": entry["digest"], "prod": entry["digest"]}
        # prod promoted only what the demo's own key signed: every evidence kind, verified
        signatures = promoted["signatures"]
        assert signatures["policy"] == f"key {workdir / 'signing' / 'signing.pub'}", signatures
        assert set(signatures["bundles"]) == {"signature", "sbom", "vulnerabilities", "sonar", "verification"}
    assert prod["promoted_from"]["environment"] == "dev"
    # Traffic reached every service while dev was verified.
    assert {key.split()[0] for key in report["traffic"]} >= SERVICES, report["traffic"]
    assert "devops release --env dev" in first.err and "dev: PASSED" in first.err
    # 5 kinds x 4 images signed with the demo's key; provenance skipped (no source commit here)
    assert "dev: 20 signed, 0 already present, 4 skipped" in first.err
    assert leftovers(workdir) == []
    after_first = commits(remote)

    # Second run (kept running this time): nothing rebuilt, no GitOps commit, then --stop.
    second = run_demo("--json", "demo", "--workdir", str(workdir), "--keep", env=demo_env)
    assert second.code == 0, second.tail()
    again = second.json()
    steps = {s["name"]: s for s in again["steps"]}
    assert again["built"] == [] and steps["build --push"]["detail"].startswith("nothing rebuilt")
    assert "nothing to change" in steps["release dev"]["detail"]
    assert "nothing to change" in steps["release prod"]["detail"]
    assert steps["attest dev"]["verdict"] == "PASSED" and "0 signed, 20 already present" in second.err
    assert again["gitops"]["new_commits"] == 0 and commits(remote) == after_first
    assert again["digests"] == report["digests"]
    assert "built" not in " ".join(line for line in second.err.splitlines() if line.strip().startswith("build "))

    kept = leftovers(workdir)
    for name in ("mongo", *SERVICES):
        assert any(k.endswith(f"-{name}") for k in kept), kept
    assert again["kept"] and answers(f"{again['prometheus']}/-/ready")
    assert answers(f"{again['frontend']}/health")
    assert "devops demo --stop" in second.err

    stopped = run_demo("demo", "--stop", "--workdir", str(workdir), env=demo_env)
    assert stopped.code == 0, stopped.tail()
    assert leftovers(workdir) == []
    assert not answers(f"{again['prometheus']}/-/ready")


def test_registry_unreachable_is_exit_3_in_one_line(tmp_path: Path, demo_env: dict[str, str]) -> None:
    workdir = tmp_path / "demo"
    ran = run_demo("demo", "--workdir", str(workdir), "--registry", f"127.0.0.1:{free_port()}", env=demo_env,
                   timeout=120)
    assert ran.code == 3, ran.tail()
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) == 1, ran.err
    assert "the local registry at http://127.0.0.1:" in lines[0] and "scripts/local-stack.sh up" in lines[0]
    assert not (workdir / "gitops.git").exists()   # nothing was started or created


def test_no_docker_cli_is_exit_3_in_one_line(tmp_path: Path, demo_env: dict[str, str]) -> None:
    """A machine without the Docker CLI on PATH (the registry is up): exit 3 before anything starts."""
    empty = tmp_path / "bin"
    empty.mkdir()
    workdir = tmp_path / "demo"
    ran = run_demo("demo", "--workdir", str(workdir), env={**demo_env, "PATH": str(empty)}, timeout=120)
    assert ran.code == 3, ran.tail()
    lines = [line for line in ran.err.splitlines() if line.strip()]
    assert len(lines) == 1, ran.err
    assert "docker: command not found on PATH" in lines[0] and "local-stack.sh up" in lines[0]
    assert not (workdir / "gitops.git").exists()
