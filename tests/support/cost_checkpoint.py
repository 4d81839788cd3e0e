"""Run `devops` with a cost checkpoint that pauses at a named step, so a test can SIGKILL the
process exactly there (tests/cost/test_faults.py).

    python -m tests.support.cost_checkpoint STEP SECONDS [devops arguments...]

Product code has no switch for this: the CLI wiring's `checkpoint()` (devops/wiring/cost.py)
gives the no-op port of a real run; this entry point replaces it before running the real
`devops` main, and prints `devops: paused at STEP` on stderr when the run gets there.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable


def pausing(step: str, seconds: float) -> Callable[[str], None]:
    def checkpoint(name: str) -> None:
        if name == step:
            print(f"devops: paused at {name}", file=sys.stderr, flush=True)
            time.sleep(seconds)

    return checkpoint


def main(argv: list[str]) -> int:
    step, seconds, *args = argv
    from devops.cli import main as devops_main
    from devops.wiring import cost as wiring

    wiring.checkpoint = lambda: pausing(step, float(seconds))  # type: ignore[assignment]
    return devops_main(args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
