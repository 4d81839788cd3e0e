"""What the release wiring makes of the environment (RuntimeSettings) and the config: who released,
which evidence a promotion needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.config import load_config
from devops.domain.release.evidence import EvidenceSettings
from devops.wiring.release import evidence_policy, released_by
from devops.wiring.settings import RuntimeSettings
from tests.support.project import config_text, make_project


def test_released_by_names_the_actions_run_or_the_local_user() -> None:
    actions = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "alice", "GITHUB_SERVER_URL": "https://github.com",
               "GITHUB_REPOSITORY": "techitfactory/shop", "GITHUB_RUN_ID": "42"}
    assert released_by(RuntimeSettings.from_environ(actions)) == {
        "actor": "alice", "via": "github-actions", "run_url": "https://github.com/techitfactory/shop/actions/runs/42"}
    laptop = {k: v for k, v in actions.items() if k != "GITHUB_ACTIONS"}
    assert released_by(RuntimeSettings.from_environ(laptop), user=lambda: "bob") == {
        "actor": "bob", "via": "cli", "run_url": None}

    def no_user() -> str:
        raise KeyError("uid not in passwd")

    assert released_by(RuntimeSettings.from_environ({}), user=no_user)["actor"] == "unknown"


def test_verification_is_required_exactly_when_the_source_verifies(tmp_path: Path) -> None:
    def policy(verify: str, evidence: str = "") -> EvidenceSettings:
        environments = f"""\
environments:
  dev:
    url: http://dev.example
    cluster: {{name: test-dev}}
    gitops: {{path: env/dev}}
{verify}  prod:
    url: http://prod.example
    cluster: {{name: test-prod}}
    gitops: {{path: env/prod}}
    promote_from: dev
{evidence}"""
        root = make_project(tmp_path / str(len(list(tmp_path.iterdir()))), commit=False)
        (root / "pipelines" / "devops.yaml").write_text(config_text(environments=environments))
        return evidence_policy(load_config(root / "pipelines" / "devops.yaml"), "prod")

    verifies = "    verify: {prometheus: {url: 'http://prometheus.example'}}\n"
    assert policy(verifies).require_verification is True
    assert policy("").require_verification is False
    assert policy(verifies, "    evidence: {require_verification: false, require_sonar: true}\n") == \
        EvidenceSettings(scan_max_age_days=7, require_sonar=True, require_verification=False)


def test_a_release_scans_at_most_two_images_at_once_and_the_first_scan_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The scans of a release start as their builds end (CliSteps._start_scan): the first runs alone
    # (it may update Trivy's DB and remembers Trivy's version), then at most SCANS_AT_ONCE together,
    # each image once. `_scan` (Trivy) is replaced by a recorder; counts, never timings.
    import io
    import threading
    import time

    from devops.report.console import Reporter
    from devops.wiring import release

    monkeypatch.setattr(release, "SCANS_AT_ONCE", 2)
    root = make_project(tmp_path / "p", services=("a", "b", "c", "d"))
    config = load_config(root / "pipelines" / "devops.yaml", environ={})
    steps = release.CliSteps(config, RuntimeSettings.from_environ({}), Reporter(out=io.StringIO(), err=io.StringIO(),
                                                                                 environ={}))
    lock, running, events = threading.Lock(), [0], []

    def scan(targets):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
            events.append(("start", targets[0].service, running[0]))
        time.sleep(0.05)
        with lock:
            running[0] -= 1
            events.append(("end", targets[0].service, running[0]))
        return targets[0].service

    monkeypatch.setattr(steps, "_scan", scan)
    for name in ("a", "b", "c", "d", "b"):  # b again: started once
        steps._start_scan(name, f"img/{name}:1")
    assert [steps._scans[n].result(timeout=30) for n in "abcd"] == list("abcd")
    assert steps._scanner is not None
    steps._scanner.shutdown(wait=True)
    assert [e[1] for e in events if e[0] == "start"].count("b") == 1
    assert events[:2] == [("start", "a", 1), ("end", "a", 0)], "the first scan runs alone"
    assert max(e[2] for e in events) == 2, "two at once after the first"
    # Two Trivy processes cannot share the cache dir's bolt file: the layers are kept in memory.
    assert steps.trivy.settings.cache_backend == "memory"
    # Control: one at a time where the machine has one core.
    monkeypatch.setattr(release, "SCANS_AT_ONCE", 1)
    single = release.CliSteps(config, RuntimeSettings.from_environ({}), Reporter(out=io.StringIO(),
                                                                                 err=io.StringIO(), environ={}))
    events.clear()
    monkeypatch.setattr(single, "_scan", scan)
    for name in "abc":
        single._start_scan(name, f"img/{name}:1")
    assert [single._scans[n].result(timeout=30) for n in "abc"] == list("abc")
    assert max(e[2] for e in events) == 1
    assert single.trivy.settings.cache_backend is None
    assert single._scanner is not None
    single._scanner.shutdown(wait=True)
