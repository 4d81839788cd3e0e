"""Benchmark of `devops scan`: the cache hit, and the share of the time spent in Trivy.

Run: `python benchmarks/bench_gates.py` (needs Docker, the stand-in images and Trivy).
It builds a small real Trivy DB (as the tests do), then runs the real `devops scan` CLI twice
over the same stand-in images in a throw-away project:

- second / first: a second scan of unchanged images (cache hit: Trivy is not run) as a ratio
  of the first;
- Trivy's share: the time Trivy itself took (as measured around the subprocess) over the
  wall time of the whole first `devops scan` process, and devops' own overhead per image.

Prints ratios measured in this one run; exits 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gates.conftest import ADVISORIES, PROJECT_YAML  # noqa: E402
from tests.gates.trivydb import build_db  # noqa: E402


def standins() -> list[str]:
    done = subprocess.run(
        ["bash", str(ROOT / "tests" / "support" / "standins" / "build.sh")],
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    args = dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)
    return [args[k] for k in ("DEBIAN_IMAGE", "PYTHON_IMAGE", "NODE_IMAGE", "NGINX_IMAGE") if k in args]


def scan(config: Path, images: list[str]) -> tuple[float, dict]:  # type: ignore[type-arg]
    args = [sys.executable, "-m", "devops", "--config", str(config), "scan", "--json"]
    for image in images:
        args += ["--image", image]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"devops scan failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall, json.loads(done.stdout)


def main() -> int:
    images = standins()
    with tempfile.TemporaryDirectory(prefix="bench-gates-") as tmp:
        root = Path(tmp)
        cache = build_db(root / "trivy-cache", ADVISORIES)
        (root / "pipelines").mkdir()
        (root / "services" / "app").mkdir(parents=True)
        config = root / "pipelines" / "devops.yaml"
        config.write_text(PROJECT_YAML.format(trivy_cache=cache, extra=""))
        first_wall, first = scan(config, images)
        second_wall, second = scan(config, images)
    assert all(t["cached"] for t in second["targets"]), "second scan was not a cache hit"
    assert not any(t["cached"] for t in first["targets"])
    trivy = first["trivy_seconds"]
    n = len(images)
    print(f"images scanned: {n} ({', '.join(images)})")
    print(f"first scan:  {first_wall:.2f} s wall, {trivy:.2f} s in trivy image")
    print(f"second scan: {second_wall:.2f} s wall (cache hit, trivy image not run)")
    print(f"second / first (cache hit ratio): {second_wall / first_wall:.3f}")
    print(f"trivy share of the first scan: {trivy / first_wall:.1%}")
    print(
        f"devops overhead per image (first scan, incl. interpreter start): {(first_wall - trivy) / n:.2f} s"
    )
    inside = first["seconds"]
    print(f"devops in-process time (first scan): {inside:.2f} s, of which trivy {trivy / inside:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
