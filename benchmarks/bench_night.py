"""Benchmark: one simulated night and morning per autoscaler mode (issue 16).

`devops cost` (the real reconciler with its cluster side) runs every 30 minutes from 19:00 to
10:00 (office hours Mon-Fri 08:00-20:00, Asia/Kolkata) against a dev cluster in memory whose
scheduler, EKS, Cluster Autoscaler, Karpenter and Argo CD are simulated minute by minute
(tests/support/nightsim.py; the model and its constants are documented there and in
docs/cost.md). For each mode it prints three schedules: always on, node groups only (what
`devops cost` did before it cooperated) and cooperating, with

- scheduled node-hours from 20:00 to 08:00 (the protected `system` node is counted apart),
- minutes after 20:00 from which no scheduled node runs until 08:00 ("-": never),
- Pending pod-hours through the night (pod alerts fire on those),
- minutes after 08:00 until every pod of git's replicas is Ready, nodes launched after 08:00,
- Argo CD drift left at 10:00 (live differs from git, or a window, saved value or tag left),
- the saving against always on, in node-hours and USD at the t3.medium price of
  pipelines/devops.yaml.

Simulated minutes, not wall-clock time: the figures do not depend on the machine. Runs in
about five seconds. `--standin`: the Kubernetes objects on the API stand-in
(tests/support/kubeapi.py), every cost run through the real adapter over HTTPS (about a
minute; the figures are the same). `python benchmarks/bench_night.py [--standin] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PRICE = 0.0416  # USD per t3.medium hour in ap-south-1 (pipelines/devops.yaml cost.prices)


def main() -> int:
    from tests.support.kubeapi import KubeAPI
    from tests.support.nightsim import MODES, STANDIN_TOKEN, Figures, simulate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--standin", action="store_true", help="the Kubernetes objects on the API stand-in")
    options, _ = parser.parse_known_args()

    def night(mode: str, schedule: str) -> Figures:
        if not options.standin:
            return simulate(mode, schedule)
        with KubeAPI(token=STANDIN_TOKEN) as api:
            return simulate(mode, schedule, standin=api)

    print(f"Kubernetes API: {'the API stand-in over HTTPS' if options.standin else 'in memory'}")
    rows = []
    header = (f"{'mode':<19} {'schedule':<17} {'node-h':>7} {'sys-h':>6} {'zero@':>6} {'pend-h':>7} "
              f"{'ready':>6} {'launch':>6} {'drift':>5} {'saved-h':>7} {'USD':>5}")
    print(header)
    print("-" * len(header))
    for mode in MODES:
        always = night(mode, "always on")
        for schedule in ("always on", "node groups only", "cooperating"):
            found = always if schedule == "always on" else night(mode, schedule)
            saved = always.node_hours - found.node_hours
            zero = "-" if found.zero_from is None else f"{found.zero_from}m"
            ready = "-" if found.minutes_to_ready is None else f"{found.minutes_to_ready}m"
            print(f"{mode:<19} {schedule:<17} {found.node_hours:>7.2f} {found.protected_node_hours:>6.1f} "
                  f"{zero:>6} {found.pending_pod_hours:>7.2f} {ready:>6} {found.morning_launches:>6} "
                  f"{len(found.drift):>5} {saved:>7.2f} {saved * PRICE:>5.2f}")
            rows.append({**dataclasses.asdict(found), "saved_node_hours": saved, "saved_usd": saved * PRICE})
    print("\nnode-h: scheduled node-hours 20:00-08:00; sys-h: the protected node; zero@: no scheduled node from"
          " this many minutes after 20:00 until 08:00; pend-h: Pending pod-hours at night; ready: minutes after"
          " 08:00 to every pod Ready; launch: nodes launched after 08:00; drift: left at 10:00; saved: against"
          " always on (one night).")
    if options.json:
        options.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
