"""Benchmark of `devops verify`: what verifying costs as services are added, and its queries.

Run: `python benchmarks/bench_verify.py` (needs the Debian `prometheus` package). A real
Prometheus scrapes three exporters with the services' metric names (as tests/verify does),
each serving steady traffic. Then, in one run:

1. verify one service, five times (the first run warms imports and is not measured);
2. verify three services, five times.

Figures: median (2) / median (1) as a ratio (verification is per service and sequential, so
about 3 is expected; much more would mean per-run overhead grows with services), and the
Prometheus queries per service, counted at the client. Prints them; exits 0.
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devops.adapters.health import HttpHealthProbe  # noqa: E402
from devops.adapters.prometheus import Prometheus  # noqa: E402
from devops.app.verify import VerifySettings, verify  # noqa: E402
from devops.config.loader import load_config  # noqa: E402
from tests.support.project import config_text, make_project  # noqa: E402
from tests.support.prometheus import free_port, running_prometheus  # noqa: E402
from tests.verify.conftest import Exporter  # noqa: E402

SERVICES = ("alpha", "beta", "gamma")


class CountingPrometheus(Prometheus):
    queries = 0

    def query(self, expr: str):  # type: ignore[no-untyped-def]
        CountingPrometheus.queries += 1
        return super().query(expr)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exporters = {s: Exporter(free_port()) for s in SERVICES}
        scrape = [{"job_name": s, "static_configs": [{"targets": [f"127.0.0.1:{e.port}"]}]}
                  for s, e in exporters.items()]
        with running_prometheus(work / "prometheus", scrape) as url:
            slos = "".join(f"    {s}: {{availability: 99.0, latency: {{threshold_seconds: 0.25, objective: 95.0}}}}\n"
                           for s in SERVICES)
            environments = ("environments:\n  dev:\n    url: http://localhost:8080\n    cluster: {name: t}\n"
                            f"    gitops: {{path: g}}\n    verify: {{prometheus: {{url: \"{url}\"}}, window: 1m, "
                            "min_requests: 10}\nobservability:\n  slos:\n" + slos)
            root = make_project(work / "p", services=SERVICES, commit=False)
            (root / "pipelines" / "devops.yaml").write_text(config_text(services=SERVICES, environments=environments))
            config = load_config(root / "pipelines" / "devops.yaml")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for exporter in exporters.values():
                    exporter.serve(20)
                time.sleep(0.5)
                probe = Prometheus(url).query('sum(increase(http_requests_total[1m])) > 300')
                if probe:
                    break
            settings = VerifySettings("1m", 10, {}, 0)
            metrics = CountingPrometheus(url)

            def run(services: tuple[str, ...]) -> float:
                started = time.perf_counter()
                result = verify(config, "dev", list(services), metrics, HttpHealthProbe(), settings,
                                now=lambda: dt.datetime.now(dt.UTC))
                assert result.verdict == "PASSED", result.to_dict()
                return time.perf_counter() - started

            run(SERVICES[:1])
            one = [run(SERVICES[:1]) for _ in range(5)]
            CountingPrometheus.queries = 0
            three = [run(SERVICES) for _ in range(5)]
            per_service = CountingPrometheus.queries / (5 * len(SERVICES))
        for exporter in exporters.values():
            exporter.stop()
    ratio = statistics.median(three) / statistics.median(one)
    print(f"verify 3 services / verify 1 service (median of 5): {ratio:.2f}")
    print(f"Prometheus queries per service verified: {per_service:.0f}")
    print(f"(one service: {statistics.median(one) * 1000:.0f} ms; three: {statistics.median(three) * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
