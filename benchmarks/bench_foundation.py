"""Foundation benchmarks, figures as ratios measured in one run:

1. `devops --help` start-up as a ratio to `python -c pass` (heavy libraries load lazily).
2. `devops build` of all services when nothing changed, as a ratio to the first full build
   (a no-op must not invoke a build at all). The services are the repository's own, built
   with the stand-in base images into a fresh namespace, so the first build really builds,
   with `--no-cache` so Docker's layer cache does not serve it.

Run: `nox -s bench -- foundation` or `python benchmarks/bench_foundation.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def timed(args: list[str], env: dict[str, str] | None = None, repeat: int = 1) -> tuple[float, subprocess.CompletedProcess[str]]:
    samples = []
    done = None
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
        samples.append(time.perf_counter() - started)
    assert done is not None
    return statistics.median(samples), done


def startup() -> dict[str, float]:
    devops = [sys.executable, "-m", "devops", "--help"]
    bare, _ = timed([sys.executable, "-c", "pass"], repeat=15)
    helped, done = timed(devops, repeat=15)
    assert done.returncode == 0, done.stderr
    return {"python_c_pass_s": round(bare, 4), "devops_help_s": round(helped, 4), "ratio": round(helped / bare, 2)}


def noop_build() -> dict[str, object]:
    standins = subprocess.run(["bash", str(ROOT / "tests/support/standins/build.sh")], capture_output=True, text=True, check=True).stdout
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DEVOPS_BUILD_ARGS": " ".join(standins.split()), "DEVOPS_REGISTRY_NAMESPACE": namespace}
    # The first build rebuilds every layer (--no-cache): what a fresh machine or CI runner pays.
    first, done = timed([sys.executable, "-m", "devops", "--json", "build", "--no-cache"], env=env)
    if done.returncode != 0:
        raise SystemExit(f"first build failed: {done.stderr[-2000:]}")
    built = json.loads(done.stdout)["summary"]
    again, done = timed([sys.executable, "-m", "devops", "--json", "build"], env=env)
    summary = json.loads(done.stdout)["summary"]
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"], capture_output=True, text=True).stdout.split()
    subprocess.run(["docker", "rmi", "-f", *[i for i in images if f"/{namespace}/" in i]], capture_output=True)
    return {"first_build_s": round(first, 2), "first_summary": built, "noop_build_s": round(again, 2),
            "noop_summary": summary, "ratio": round(again / first, 4)}


if __name__ == "__main__":
    figures = {"startup": startup(), "noop_build": noop_build()}
    print(json.dumps(figures, indent=2))
    print(f"devops --help / python -c pass = {figures['startup']['ratio']}x; "
          f"no-op build / first build = {figures['noop_build']['ratio']}")
