"""The fixed cost of a `devops` process before it does any work: what importing the modules of a
command costs, against the command's whole "nothing to do" run (issue 18 item 3).

    python benchmarks/bench_import_floor.py [--repeat 7] [--checkout DIR]

Each line is the median wall time of `python -c "import ..."` (a fresh interpreter, this
checkout's devops/ on PYTHONPATH, its bytecode compiled as an install has it), printed with its
ratio to `python -c pass`. The modules are the ones the no-op paths import (read from their
`-X importtime`): the config model (pydantic and the sections), the HTTP client the registry
client is built on (requests), the terminal renderer (rich), click, and each path's own
use-case and report modules. A no-op run cannot be quicker than its imports: compare the last
column with the targets (a cached scan < 0.03 of a first scan, a no-op build < 0.02 of a first
build, a no-op release < 0.05 of a one-service release; results/after-round4.json has the
denominators).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.scale.instruments import devops_env  # noqa: E402

COMMON = ["devops.cli.main", "devops.config.model", "rich.console", "ruamel.yaml"]
SETS: dict[str, list[str]] = {
    "pydantic": ["pydantic"],
    "click": ["click"],
    "rich.console": ["rich.console"],
    "requests": ["requests"],
    "the config model (pydantic + sections)": ["devops.config.model"],
    "a cached `devops scan`": [*COMMON, "requests", "devops.app.scan_run", "devops.report.scan_result",
                               "devops.adapters.trivy", "devops.adapters.docker", "devops.adapters.registry"],
    "a no-op `devops build`": [*COMMON, "requests", "devops.app.images_run", "devops.report.images",
                               "devops.adapters.docker", "devops.adapters.registry"],
    "a no-op `devops release`": [*COMMON, "requests", "devops.app.release_run", "devops.app.plan",
                                 "devops.report.release", "devops.wiring.release", "devops.wiring.governance",
                                 "devops.adapters.git.clone", "devops.adapters.docker", "devops.adapters.registry"],
}


def median_seconds(argv: list[str], env: dict[str, str], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, capture_output=True, timeout=120)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--checkout", type=Path, default=ROOT)
    opts = parser.parse_args(argv)
    env = devops_env(None, checkout=opts.checkout.resolve())
    bare = median_seconds([sys.executable, "-c", "pass"], env, opts.repeat)
    print(f"{'imports of':48} {'seconds':>8} {'/ pass':>7}")
    print(f"{'(nothing: python -c pass)':48} {bare:8.3f} {1:7.2f}")
    for name, modules in SETS.items():
        seconds = median_seconds([sys.executable, "-c", "import " + ", ".join(modules)], env, opts.repeat)
        print(f"{name:48} {seconds:8.3f} {seconds / bare:7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
