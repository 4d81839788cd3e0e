"""Benchmark: `devops demo` in a fresh working folder, then again in the same folder.

Prints the wall time of each run, the second run's time as a ratio of the first, per-step times,
what was built and how many GitOps commits each run wrote. Target: the second run builds
nothing, writes no commit, and takes a fraction of the first (the first waits settle_seconds
for the rollout and verification). Needs the local stack (scripts/local-stack.sh up); the
images are cached by earlier runs, so "first" measures the delivery, not the image builds.
Run: `python benchmarks/bench_demo.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(workdir: Path) -> tuple[float, dict]:  # type: ignore[type-arg]
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "devops", "--json", "demo", "--workdir", str(workdir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=1200, env=dict(os.environ))
    seconds = time.monotonic() - started
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"devops demo exited {done.returncode}")
    return seconds, json.loads(done.stdout)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp:
        workdir = Path(tmp) / "demo"
        first_s, first = run(workdir)
        second_s, second = run(workdir)
    print(f"first run:  {first_s:6.1f} s, built {first['built'] or 'nothing'}, "
          f"{first['gitops']['new_commits']} GitOps commit(s)")
    print(f"second run: {second_s:6.1f} s, built {second['built'] or 'nothing'}, "
          f"{second['gitops']['new_commits']} GitOps commit(s)")
    print(f"second / first: {second_s / first_s:.2f}")
    print("step times (first / second):")
    for a, b in zip(first["steps"], second["steps"], strict=True):
        print(f"  {a['name']:<16} {a['seconds']:6.1f} s {a['verdict']:<8} / {b['seconds']:6.1f} s {b['verdict']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
