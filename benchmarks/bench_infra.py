"""Benchmark: what `devops infra plan` costs on top of the Terraform it runs.

1. Wall time of `devops infra plan --env dev` against the same Terraform commands run by hand
   (init -reconfigure, plan -out, show -json) on the `app` fixture root, S3 backend and
   DynamoDB locking on a real moto_server: the ratio is devops' overhead.
2. Summary + cost estimate of a synthetic plan of 5,000 resource changes (shaped like
   `terraform show -json`), against parsing that JSON: the ratio says whether the summary
   matters next to reading the plan at all.

Run: `python benchmarks/bench_infra.py` (needs terraform and moto_server; exits 0).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROUNDS = 3


def _timed(func) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench_overhead(work: Path) -> tuple[float, float]:
    from devops.cli.main import main as devops_main
    from tests.infra.conftest import create_backend

    create_backend()
    project = work / "shop"
    (project / "pipelines").mkdir(parents=True)
    shutil.copytree(ROOT / "tests/infra/fixtures/app", project / "infra/dev")
    config = {
        "project": "shop",
        "services": {"cart": {"path": "services/cart", "port": 3002, "language": "javascript"}},
        "environments": {"dev": {"url": "https://dev.example.test", "cluster": {"name": "shop-dev"},
                                 "gitops": {"path": "gitops/environments/dev"}}},
        # moto serves S3 on a path, not a virtual host: the one backend option a stand-in needs.
        "infra": {"state": {"backend_options": {"use_path_style": True}},
                  "environments": {"dev": {"root": "infra/dev"}}},
    }
    (project / "pipelines/devops.yaml").write_text(json.dumps(config))
    cfg = str(project / "pipelines/devops.yaml")
    devops_times = []
    for _ in range(ROUNDS):
        devops_times.append(_timed(lambda: devops_main(["--config", cfg, "--json", "infra", "plan", "--env", "dev"])))
    work_dir = project / ".devops/infra/dev"
    root = project / "infra/dev"

    def by_hand() -> None:
        tf = ["terraform", f"-chdir={root}"]
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
        subprocess.run([*tf, "init", "-input=false", "-reconfigure", f"-backend-config={work_dir / 'backend.hcl'}"],
                       **quiet)
        subprocess.run([*tf, "plan", "-input=false", "-out=/tmp/bench-infra.tfplan",
                        f"-var-file={work_dir / 'variables.tfvars.json'}"], **quiet)
        subprocess.run([*tf, "show", "-json", "/tmp/bench-infra.tfplan"], **quiet)

    hand_times = [_timed(by_hand) for _ in range(ROUNDS)]
    return statistics.median(devops_times), statistics.median(hand_times)


def bench_summary() -> tuple[float, float, int]:
    from devops.domain.infra.estimate import estimate
    from devops.domain.infra.plan_summary import summarise

    kinds = [
        ("aws_nat_gateway", {"connectivity_type": "public"}),
        ("aws_eks_node_group", {"instance_types": ["t3.medium"], "scaling_config": [{"desired_size": 2}]}),
        ("aws_subnet", {"cidr_block": "10.0.1.0/24", "tags": {"Name": "x"}}),
        ("aws_iam_role", {"name": "r", "assume_role_policy": "{}" * 50}),
    ]
    changes = []
    for i in range(5000):
        rtype, after = kinds[i % len(kinds)]
        changes.append({"address": f"module.m{i}.{rtype}.this", "mode": "managed", "type": rtype, "name": "this",
                        "change": {"actions": ["create"], "before": None, "after": after,
                                   "after_unknown": {"id": True, "arn": True}, "before_sensitive": False,
                                   "after_sensitive": {"tags": {}}}})
    text = json.dumps({"format_version": "1.2", "terraform_version": "1.11.4", "resource_changes": changes})
    parse = statistics.median(_timed(lambda: json.loads(text)) for _ in range(ROUNDS))
    plan = json.loads(text)
    summary_time = statistics.median(_timed(lambda: estimate(summarise(plan))) for _ in range(ROUNDS))
    return parse, summary_time, len(changes)


def main() -> int:
    parse, summary_time, count = bench_summary()
    print(f"summary+estimate of {count} changes: {summary_time * 1000:.0f} ms = "
          f"{summary_time / parse:.1f}x the time to parse the plan JSON ({parse * 1000:.0f} ms)")
    if not shutil.which("terraform") or not shutil.which("moto_server"):
        print("terraform or moto_server missing: overhead benchmark skipped")
        return 0
    from tests.support.stack import MotoServer

    server = MotoServer().start()
    saved = dict(os.environ)
    try:
        os.environ.update({"AWS_ENDPOINT_URL": server.url, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "ap-south-1",
                           "TF_CLI_CONFIG_FILE": os.devnull})
        with tempfile.TemporaryDirectory(prefix="bench-infra-") as tmp, open(os.devnull, "w") as sink:
            real = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = sink  # the results and tables of the devops runs
            try:
                with_devops, by_hand = bench_overhead(Path(tmp))
            finally:
                sys.stdout, sys.stderr = real
        print(f"devops infra plan: {with_devops:.2f} s; the same terraform init+plan+show by hand: {by_hand:.2f} s; "
              f"ratio {with_devops / by_hand:.2f}x (median of {ROUNDS}; devops also asks STS for the account id "
              "and writes the plan record)")
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
