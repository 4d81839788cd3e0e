"""Benchmark of `devops release --env dev`: a release with nothing changed against one that
rebuilds one service, and the git operations a release costs.

Run: `python benchmarks/bench_release.py` (needs Docker, the local registry, the stand-in
images and Trivy). A throw-away project with two small services built FROM the Debian
stand-in, a bare GitOps remote, a small real Trivy DB (as the tests build it). Steps:

1. first release (builds, scans, pushes both; one commit) -- warm-up, not measured;
2. change one service, release: rebuild + scan + push of that one service + one commit;
3. release again with nothing changed: no build, no scan, no commit.

Figures: (3) / (2) as a ratio, and the number of git processes each release ran, counted by a
`git` shim on PATH (every git command devops runs, on the application repo and on the GitOps
clone), next to the engine's own count of GitOps operations. Prints them; exits 0.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gates.trivydb import Advisory, build_db  # noqa: E402
from tests.release.conftest import SERVICES, Shop, make_gitops_remote  # noqa: E402
from tests.support.project import commit_all, git, make_project  # noqa: E402

REGISTRY = "127.0.0.1:5000"


def standin_debian() -> str:
    done = subprocess.run(["bash", str(ROOT / "tests/support/standins/build.sh")], capture_output=True,
                          text=True, check=True, timeout=1800)
    return dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)["DEBIAN_IMAGE"]


def git_shim(folder: Path, log: Path) -> Path:
    real = shutil.which("git")
    assert real, "git is not installed"
    shim = folder / "git"
    shim.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(0o755)
    return folder


def release(shop: Shop, env: dict[str, str], log: Path) -> tuple[float, dict, int]:  # type: ignore[type-arg]
    log.write_text("")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "devops", "--json", "release", "--env", "dev"], cwd=shop.root,
                          env=env, capture_output=True, text=True, timeout=1800)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"release failed ({done.returncode}): {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout), len(log.read_text().splitlines())


def main() -> int:
    debian = standin_debian()
    with tempfile.TemporaryDirectory(prefix="bench-release-") as tmp:
        where = Path(tmp)
        namespace = f"bench{uuid.uuid4().hex[:8]}"
        root = make_project(where / "shop", namespace=namespace, registry=REGISTRY, services=SERVICES, commit=False)
        remote = make_gitops_remote(where, REGISTRY, namespace)
        db = build_db(where / "trivy", [Advisory("CVE-2099-2001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1")])
        shop = Shop(root, remote, namespace, REGISTRY, db)
        shop.config()
        (root / ".gitignore").write_text(".devops/\n")
        git(root, "init", "-q", "-b", "main")
        commit_all(root, "initial")
        log = where / "git.log"
        (where / "bin").mkdir()
        bin_dir = git_shim(where / "bin", log)
        env = {**os.environ, "DEVOPS_BUILD_ARGS": f"DEBIAN_IMAGE={debian}", "PATH": f"{bin_dir}:{os.environ['PATH']}",
               "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
        try:
            release(shop, env, log)
            shop.change_service(SERVICES[0], f"{SERVICES[0]} v2 {uuid.uuid4().hex}\n")
            one_s, one, one_git = release(shop, env, log)
            noop_s, noop, noop_git = release(shop, env, log)
        finally:
            images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                    capture_output=True, text=True).stdout.split()
            mine = [i for i in images if f"/{namespace}/" in i]
            if mine:
                subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)
    statuses = {s["service"]: s["status"] for s in one["services"]}
    assert statuses == {SERVICES[0]: "released", SERVICES[1]: "unchanged"}, statuses
    assert {s["status"] for s in noop["services"]} == {"unchanged"}
    figures = {
        "release_rebuilding_one_service_s": round(one_s, 2),
        "release_nothing_changed_s": round(noop_s, 2),
        "ratio_nothing_changed_to_rebuild_one": round(noop_s / one_s, 3),
        "git_processes_release_one_service": one_git,
        "git_processes_release_nothing_changed": noop_git,
        "gitops_engine_git_operations_release_one_service": (one.get("gitops") or {}).get("git_operations"),
    }
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
