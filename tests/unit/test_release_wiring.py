"""What the release wiring makes of the environment (RuntimeSettings) and the config: who released,
which evidence a promotion needs."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


def _plan(service: str):  # type: ignore[no-untyped-def]
    from devops.app.plan import ServicePlan
    from devops.domain.images.identity import BuildInputs

    inputs = BuildInputs(Path(f"/p/{service}"), Path(f"/p/{service}/Dockerfile"), {}, (), 1, service * 64)
    return ServicePlan(service, f"services/{service}", f"reg.example/ns/{service}", inputs, True, "new")


def _pipeline_run(services: str, *, scans_at_once: int, refused: str = "", broken: str = ""):  # type: ignore[no-untyped-def]
    """Run an ImagePipeline whose scan and push are recorders; `refused` services fail their gate,
    `broken` ones failed to build. Returns (events, delivered)."""
    import threading
    import time

    from devops.app.release import ScanOutcome
    from devops.domain.images.results import BuildResult, PushResult, Status
    from devops.wiring.release_images import ImagePipeline

    lock, running, events = threading.Lock(), {"scan": 0, "push": 0}, []

    def step(kind: str, service: str) -> None:
        with lock:
            running[kind] += 1
            events.append((f"{kind} start", service, running[kind]))
        time.sleep(0.03)
        with lock:
            running[kind] -= 1
            events.append((f"{kind} end", service, running[kind]))

    def scan(plan, image):  # type: ignore[no-untyped-def]
        step("scan", plan.service)
        return ScanOutcome(plan.service not in refused, {}, 0, "0.76.0", None)

    def may_push(service: str, outcome: ScanOutcome) -> bool:
        with lock:
            events.append(("gate", service, outcome.passed))
        return outcome.passed

    def push(plan, build):  # type: ignore[no-untyped-def]
        step("push", plan.service)
        return PushResult(plan.service, plan.repository, [plan.inputs.tag], digest="sha256:" + plan.service * 64)

    plans = [_plan(s) for s in services]
    pipeline = ImagePipeline(scan=scan, push=push, may_push=may_push, scans_at_once=scans_at_once)
    for plan in [*plans, plans[1]]:  # the second one again: started once
        error = "COPY failed" if plan.service in broken else ""
        pipeline.start(plan, BuildResult(plan.service, Status.FAILED if error else Status.BUILT, plan.image,
                                         [plan.image], error=error))
    delivered = pipeline.wait(plans, {p.service: "built" for p in plans}, {s: "COPY failed" for s in broken})
    return events, {d.service: d for d in delivered}


def test_each_image_is_scanned_once_the_first_alone_and_pushed_after_its_own_gate_one_at_a_time() -> None:
    # The images of a release go their own ways (devops/wiring/release_images.py): counts and
    # order of events, never timings. c fails its gate, e failed to build.
    events, delivered = _pipeline_run("abcde", scans_at_once=2, refused="c", broken="e")
    scans = [e[1] for e in events if e[0] == "scan start"]
    assert sorted(scans) == list("abcd"), "each built image scanned once; the broken one never"
    assert events[:2] == [("scan start", "a", 1), ("scan end", "a", 0)], "the first scan runs alone"
    assert max(e[2] for e in events if e[0].startswith("scan")) == 2, "then two at once"
    pushes = [e[1] for e in events if e[0] == "push start"]
    assert sorted(pushes) == list("abd"), "c failed its gate: never pushed"

    def at(kind: str, service: str) -> int:
        return next(i for i, e in enumerate(events) if e[:2] == (kind, service))

    for service in pushes:  # a push follows its own scan and its own gate, never before
        assert at("scan end", service) < at("gate", service) < at("push start", service)
    assert max(e[2] for e in events if e[0].startswith("push")) == 1, "one push at a time"
    assert [e[1] for e in events if e[0] == "gate"].count("c") == 1
    assert (delivered["c"].digest, delivered["c"].pushed, delivered["c"].scan.passed) == ("", False, False)
    assert delivered["e"].error == "COPY failed" and delivered["e"].scan is None and not delivered["e"].pushed
    assert all(delivered[s].pushed and delivered[s].digest == "sha256:" + s * 64 for s in "abd")


def test_one_scan_at_a_time_where_the_machine_has_one_core() -> None:
    events, _ = _pipeline_run("abc", scans_at_once=1)
    assert max(e[2] for e in events if e[0].startswith("scan")) == 1


def test_the_scans_of_a_release_go_through_one_trivy_server(tmp_path: Path) -> None:
    """CliSteps' Trivy is the configured one (a rescan runs alone); a release's scans are clients
    of `ReleaseTrivy`'s server: started once, whatever the number of clients, and stopped."""
    import io

    from devops.report.console import Reporter
    from devops.wiring import release, release_trivy

    root = make_project(tmp_path / "p")
    config = load_config(root / "pipelines" / "devops.yaml", environ={})
    steps = release.CliSteps(config, RuntimeSettings.from_environ({}), Reporter(out=io.StringIO(),
                                                                               err=io.StringIO(), environ={}))
    assert steps.trivy.settings.cache_backend is None and steps.trivy.settings.server is None
    started = []

    class Server:
        def __init__(self, url: str) -> None:
            self.url, self.stopped = url, False
            self.pid = os.getpid()  # a live process: noted for the sweep of a killed run, never signalled here

        def client(self):  # type: ignore[no-untyped-def]
            return f"client of {self.url}"

        def stop(self) -> None:
            self.stopped = True

    class Binary:
        def serve(self, log: Path) -> Server:
            started.append(Server(f"http://127.0.0.1:{len(started) + 1}"))
            assert log.parent.is_dir()
            return started[-1]

    shared = release_trivy.ReleaseTrivy(Binary())  # type: ignore[arg-type]
    assert [shared.client() for _ in range(3)] == ["client of http://127.0.0.1:1"] * 3
    assert len(started) == 1
    # The server is noted in the run's folder, so a run that sweeps it after a SIGKILL ends it.
    from devops.adapters.scratch import CHILDREN_FILE

    folder = Path(shared._folder or "")
    assert [child["pid"] for child in json.loads((folder / CHILDREN_FILE).read_text())] == [os.getpid()]
    shared.stop()
    assert started[0].stopped and not folder.exists()
    # One image: no server, the configured Trivy with the image's layers in its memory.
    alone = release_trivy.ReleaseTrivy(steps.trivy, serve=False)
    assert alone.client().settings.cache_backend == "memory" and alone.client().settings.server is None
    alone.stop()


def test_a_trivy_server_only_for_several_images_that_all_scan_for_vulnerabilities() -> None:
    from devops.wiring.release_trivy import serves

    assert serves([("vuln", "secret"), ("vuln",)])
    assert not serves([("vuln", "secret")]), "one image: scanned alone"
    assert not serves([("secret",), ("secret",)]), "no vulnerability scan: no DB is needed, no server"
    assert not serves([("vuln",), ("secret",)]), "a server would refuse to start without the DB"
