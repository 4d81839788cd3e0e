"""`devops verify --record` writes its verdict only against the digest it checked.

Real git (a bare GitOps remote and clones), the real CLI in-process, and real HTTP health
endpoints (a local server) as the only checks, so no Prometheus is needed: the services have no
SLO, only `health_urls`. Faults are injected where they happen in production: a release of the
same service lands while the checks run (the health server pushes it on its first request, a
"step hook"), lands while verify's push is received (the remote's pre-receive hook), or the
record was put back to an older digest than the values file runs.
"""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.domain.gitops.test_record import full_record
from tests.gitops.conftest import DIGEST_A, DIGEST_B, Remote, git
from tests.gitops.conftest import remote as remote  # noqa: F401 (fixture)
from tests.gitops.test_concurrent_changes import LAND_PENDING_HOOK
from tests.support.cli import Outcome, run_cli
from tests.support.project import config_text, make_project

RECORD = "gitops/environments/dev/release.json"
VALUES = "gitops/environments/dev/values/{}.yaml"


@dataclass
class Health:
    """A health endpoint; `on_first_request` runs once, before the first answer."""

    url: str
    on_first_request: list[Callable[[], None]] = field(default_factory=list)


@pytest.fixture
def health() -> Iterator[Health]:
    state = Health("")
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            with lock:
                hooks, state.on_first_request[:] = list(state.on_first_request), []
            for hook in hooks:
                hook()
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"status":"ok"}')

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def values_text(service: str, digest: str, tag: str) -> str:
    return f'image:\n  repository: docker.io/test/{service}\n  tag: "{tag}"\n  digest: "{digest}"\nreplicaCount: 1\n'


def land(remote: Remote, files: dict[str, str], message: str, *, ref: str = "main") -> str:
    """Commit `files` on top of main through the seed clone and push them to `ref`."""
    git(remote.seed, "fetch", "-q", "origin")
    git(remote.seed, "reset", "-q", "--hard", "origin/main")
    for path, text in files.items():
        (remote.seed / path).write_text(text)
    git(remote.seed, "-c", "user.name=other", "-c", "user.email=o@example.com", "commit", "-qam", message)
    git(remote.seed, "push", "-q", "origin", f"HEAD:{ref}")
    commit = git(remote.seed, "rev-parse", "HEAD").strip()
    git(remote.seed, "reset", "-q", "--hard", "origin/main")
    return commit


def released(remote: Remote, alpha: str, beta: str, *, record_alpha: str | None = None, ref: str = "main") -> str:
    """dev runs alpha and beta at these digests (values files and record agree unless told)."""
    record = full_record(alpha=record_alpha or alpha, beta=beta)
    return land(remote, {
        VALUES.format("alpha"): values_text("alpha", alpha, "sha-1234567"),
        VALUES.format("beta"): values_text("beta", beta, "sha-1234567"),
        RECORD: json.dumps(record, indent=2) + "\n",
    }, f"release(dev): alpha {alpha[7:14]}, beta {beta[7:14]}", ref=ref)


@pytest.fixture
def project(tmp_path: Path, remote: Remote, health: Health, monkeypatch: pytest.MonkeyPatch) -> Path:  # noqa: F811
    monkeypatch.setenv("DEVOPS_GITOPS_REPO", str(remote.bare))
    environments = f"""\
environments:
  dev:
    url: http://localhost:8080
    cluster: {{name: test-dev}}
    gitops:
      path: gitops/environments/dev
      push: {{attempts: 3, backoff_seconds: 0.01, max_backoff_seconds: 0.05}}
    verify:
      prometheus: {{url: "http://127.0.0.1:9", timeout_seconds: 1}}
      health_timeout_seconds: 0
      health_urls: {{alpha: "{health.url}", beta: "{health.url}"}}
"""
    root = make_project(tmp_path / "shop", commit=False)
    (root / "pipelines" / "devops.yaml").write_text(config_text(environments=environments))
    released(remote, DIGEST_A, DIGEST_A)
    return root


def verify(root: Path, *args: str) -> Outcome:
    return run_cli("--json", "verify", "--env", "dev", *args, cwd=root)


def error_line(outcome: Outcome) -> str:
    lines = [line for line in outcome.err.splitlines() if line.startswith("devops: error:")]
    assert len(lines) == 1, outcome.err
    return lines[0]


def record_of(remote: Remote) -> dict:  # type: ignore[type-arg]
    return json.loads(remote.show(RECORD))


def test_control_the_verdict_is_recorded_against_the_digest_checked(project: Path, remote: Remote) -> None:
    outcome = verify(project)
    assert outcome.code == 0, outcome.err
    data = outcome.json()
    assert {s["service"]: s["digest"] for s in data["services"]} == {"alpha": DIGEST_A, "beta": DIGEST_A}
    services = record_of(remote)["services"]
    for name in ("alpha", "beta"):
        assert services[name]["verification"]["digest"] == DIGEST_A
        assert services[name]["verification"]["verdict"] == "PASSED"
    assert git(remote.bare, "log", "-1", "--format=%s", "main").startswith("verify(dev)")


def test_a_release_of_the_same_service_during_the_checks_is_exit_3_and_nothing_is_written(
        project: Path, remote: Remote, health: Health) -> None:
    landed: list[str] = []
    health.on_first_request.append(lambda: landed.append(released(remote, DIGEST_B, DIGEST_A)))
    outcome = verify(project)
    assert landed, "the release was not injected"
    assert outcome.code == 3, outcome.err
    line = error_line(outcome)
    assert "alpha" in line and f"checked {DIGEST_A}" in line and f"holds {DIGEST_B}" in line
    assert "verified PASSED, but the verdict could not be recorded" in line
    assert remote.tip() == landed[0]  # verify wrote nothing
    assert "verification" not in record_of(remote)["services"]["alpha"]
    data = outcome.json()
    assert data["recorded"] is None and DIGEST_B in data["record_error"]


def test_a_release_landing_while_verifys_push_is_received_is_checked_on_the_reapply(
        project: Path, remote: Remote) -> None:
    # The release is prepared off main; the remote lands it while verify's push is received, so
    # the push is refused and the digest check runs again on the re-apply.
    theirs = released(remote, DIGEST_B, DIGEST_A, ref="refs/pending/other")
    remote.hook("pre-receive", LAND_PENDING_HOOK)
    outcome = verify(project)
    assert outcome.code == 3, outcome.err
    line = error_line(outcome)
    assert "alpha" in line and f"checked {DIGEST_A}" in line and f"holds {DIGEST_B}" in line
    assert (remote.bare / "pushes").read_text().strip() == "1"
    assert remote.tip() == theirs


def test_control_another_services_release_during_the_checks_is_kept(
        project: Path, remote: Remote, health: Health) -> None:
    # Only alpha is verified; beta is released meanwhile: alpha's verdict is recorded on top of
    # beta's release (compare-and-swap re-apply), beta keeps its new entry.
    landed: list[str] = []
    health.on_first_request.append(lambda: landed.append(released(remote, DIGEST_A, DIGEST_B)))
    outcome = verify(project, "--service", "alpha")
    assert outcome.code == 0, outcome.err
    assert git(remote.bare, "rev-parse", "main^").strip() == landed[0]
    services = record_of(remote)["services"]
    assert services["alpha"]["verification"]["digest"] == DIGEST_A
    assert services["beta"]["digest"] == DIGEST_B and "verification" not in services["beta"]


def test_a_record_put_back_to_an_older_digest_is_exit_3(project: Path, remote: Remote) -> None:
    # The values file runs B; the record was put back to A (by hand): a verdict about what runs
    # (B) must not be written into an entry that vouches for A.
    tip = released(remote, DIGEST_B, DIGEST_A, record_alpha=DIGEST_A)
    outcome = verify(project)
    assert outcome.code == 3, outcome.err
    line = error_line(outcome)
    assert "alpha" in line and f"checked {DIGEST_B}" in line and f"holds {DIGEST_A}" in line
    assert remote.tip() == tip


def test_control_no_record_reads_no_gitops_and_names_no_digest(project: Path, remote: Remote) -> None:
    tip = remote.tip()
    outcome = verify(project, "--no-record")
    assert outcome.code == 0, outcome.err
    assert all("digest" not in s for s in outcome.json()["services"])
    assert remote.tip() == tip
