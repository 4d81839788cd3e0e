"""A real Prometheus server (the Debian package's binary) for tests, on a free port.

Started with a test's own scrape configuration and rule files, its own data directory, fast
scrape/evaluation intervals, and stopped (and its data removed) when the test is done.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.support.daemons import Proc, free_port
from tests.support.stack import unavailable

BINARY = "/usr/bin/prometheus"


@contextmanager
def running_prometheus(workdir: Path, scrape_configs: list[dict[str, object]],
                       rule_files: list[Path] | None = None, interval: str = "1s") -> Iterator[str]:
    """Yield the base URL of a Prometheus scraping `scrape_configs`, evaluating `rule_files`."""
    binary = shutil.which("prometheus") or BINARY
    if not Path(binary).exists():
        unavailable("prometheus is not installed: apt-get install prometheus (scripts/local-stack.sh does)")
    workdir.mkdir(parents=True, exist_ok=True)
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval, "scrape_timeout": interval},
        "scrape_configs": scrape_configs,
        "rule_files": [str(p) for p in rule_files or []],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    process = Proc("prometheus", [
        binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], workdir / "prometheus.log").start()
    url = f"http://127.0.0.1:{port}"
    try:
        process.wait_ready(f"{url}/-/ready")
        yield url
    finally:
        process.stop()
        shutil.rmtree(workdir / "data", ignore_errors=True)
