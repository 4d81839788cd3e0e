"""A release to dev is verified against a real Prometheus; prod promotes only verified digests.

The Prometheus is real and scrapes an exporter with the services' metric names (tests/verify);
the release is the real one (Docker, registry, Trivy, GitOps remote).
"""

from __future__ import annotations

import json

from tests.release.conftest import Shop
from tests.support.cli import run_cli
from tests.support.project import commit_all, git
from tests.verify.conftest import HealthServer, Monitored, health_server, monitored  # noqa: F401 (fixtures)
from tests.verify.test_verify import query, traffic, wait_until

SLOS = """\
observability:
  slos:
    alpha: {availability: 99.0, latency: {threshold_seconds: 0.25, objective: 95.0}}
"""


def configure(shop: Shop, prometheus: str, health: str) -> None:
    shop.config(extra=SLOS)
    path = shop.root / "pipelines" / "devops.yaml"
    verify = (f"    verify: {{prometheus: {{url: \"{prometheus}\"}}, window: 1m, min_requests: 10, "
              f"health_timeout_seconds: 1, health_urls: {{beta: \"{health}\"}}}}\n")
    text = path.read_text().replace("    cluster: {name: test-dev}\n", "    cluster: {name: test-dev}\n" + verify, 1)
    path.write_text(text)
    commit_all(shop.root, "verify dev")


def test_unverified_digests_are_not_promoted_until_verify_passes(
        shop: Shop, monitored: Monitored, health_server: HealthServer) -> None:  # noqa: F811
    configure(shop, monitored.prometheus, health_server.url)
    wait_until(lambda: bool(query(monitored.prometheus, 'up{job="alpha"} == 1')), what="the first scrape")

    # Released to dev, but nobody used alpha's API yet: not verified, exit 1, evidence recorded.
    released = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert released.code == 1, released.err
    assert "dev is not healthy" in released.err and "alpha: traffic" in released.err
    report = json.loads(released.out)
    assert report["verification"]["verdict"] == "FAILED"
    dev = shop.record("dev")["services"]
    assert dev["alpha"]["verification"]["verdict"] == "FAILED"
    assert dev["alpha"]["verification"]["digest"] == dev["alpha"]["digest"]
    assert dev["beta"]["verification"]["verdict"] == "PASSED"
    subjects = git(shop.remote, "log", "--format=%s", "-2", "main").splitlines()
    assert subjects[0].startswith("verify(dev)") and subjects[1].startswith("release(dev)")

    before = shop.commits()
    refused = run_cli("release", "--env", "prod", cwd=shop.root)
    assert refused.code == 1
    assert "alpha" in refused.err and "verification FAILED in dev" in refused.err
    assert shop.commits() == before  # nothing written for prod

    # Traffic arrives and is healthy: verify again, recorded; now prod promotes.
    traffic(monitored, ok=100)
    verified = run_cli("verify", "--env", "dev", cwd=shop.root)
    assert verified.code == 0, verified.err
    assert shop.record("dev")["services"]["alpha"]["verification"]["verdict"] == "PASSED"

    status = run_cli("--json", "status", cwd=shop.root)
    by_env = {e["environment"]: {s["service"]: s for s in e["services"]} for e in status.json()["environments"]}
    assert by_env["dev"]["alpha"]["verification"] == "PASSED"

    promoted = run_cli("--json", "release", "--env", "prod", cwd=shop.root)
    assert promoted.code == 0, promoted.err
    prod = shop.record("prod")["services"]
    assert prod["alpha"]["digest"] == dev["alpha"]["digest"]
    assert prod["alpha"]["verification"] == {**prod["alpha"]["verification"], "environment": "dev",
                                             "verdict": "PASSED"}
    status = run_cli("--json", "status", "--env", "prod", cwd=shop.root)
    prod_status = {s["service"]: s for s in status.json()["environments"][0]["services"]}
    assert prod_status["alpha"]["verification"] == "PASSED in dev"


def test_a_release_whose_verification_cannot_run_still_reports_the_release(shop: Shop) -> None:
    """Prometheus unreachable after the commit: the release stands and is shown; exit 3 says
    it is not verified; nothing is recorded as verified, so prod refuses it."""
    from tests.support.prometheus import free_port

    configure(shop, f"http://127.0.0.1:{free_port()}", "http://127.0.0.1:9")
    released = run_cli("--json", "release", "--env", "dev", cwd=shop.root)
    assert released.code == 3
    report = json.loads(released.out)
    assert report["gitops"]["outcome"] == "committed"
    assert report["verification"]["verdict"] == "UNAVAILABLE"
    commit = report["gitops"]["commit"]
    assert f"dev: released (commit {commit[:12]}) but not verified" in released.err
    assert "devops verify --env dev" in released.err
    assert "verification" not in shop.record("dev")["services"]["alpha"]
    refused = run_cli("release", "--env", "prod", cwd=shop.root)
    assert refused.code == 1 and "not verified in dev" in refused.err
