"""The demo's flow on in-memory fakes of its ports (tests/fakes/demo.py): the order of the steps,
what each sees, a failing step, an interrupt, --keep and --stop, without Docker or servers.

tests/demo runs the same flow end to end on the real components."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from devops.app.demo import Demo, DemoOptions, StepCall, StepOutcome, run_id, stop
from devops.domain.demo import DEV_PATH, PROD_PATH, STATE_FILE
from devops.errors import BadInput, ExternalError
from tests.fakes.demo import DemoFakes

REPO = Path(__file__).resolve().parents[3]
DIGESTS = {"cart": "sha256:" + "a" * 64, "frontend": "sha256:" + "b" * 64}
CALLER = {"PATH": "/usr/bin", "SONAR_TOKEN": "sonar-secret", "DOCKERHUB_TOKEN": "hub-secret", "AWS_PROFILE": "prod",
          "GITHUB_TOKEN": "ghs", "CI": "true"}


def options(tmp_path: Path, **changes: object) -> DemoOptions:
    values: dict[str, object] = {"repo_root": REPO, "workdir": tmp_path / "demo", "build_args": {"NODE_IMAGE": "n"},
                                 "environ": CALLER, "settle_seconds": 5}
    values.update(changes)
    return DemoOptions(**values)  # type: ignore[arg-type]


def releases(fakes: DemoFakes, *, verified: bool = True) -> None:
    """`release dev` and `release prod` write what the real commands write."""

    def dev(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        fakes.gitops.release(DEV_PATH, DIGESTS, verified)
        on_line("stdout", "dev: PASSED")
        return StepOutcome(0, 12.0)

    def prod(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        fakes.gitops.release(PROD_PATH, DIGESTS, False)
        return StepOutcome(0, 3.0)

    fakes.steps.scripts["release --env dev"] = dev
    fakes.steps.scripts["release --env prod"] = prod


def run(tmp_path: Path, fakes: DemoFakes, **changes: object) -> tuple[Demo, list[str]]:
    lines: list[str] = []
    demo = Demo(options(tmp_path, **changes), fakes.ports(), lines.append)
    demo.run()
    return demo, lines


def assert_nothing_left(fakes: DemoFakes, workdir: Path) -> None:
    assert all(not server.running for server in fakes.servers.started.values())
    assert fakes.containers.running == {} and fakes.containers.networks == set()
    assert fakes.argocd is not None and not fakes.argocd.running
    assert fakes.traffic is not None and not fakes.traffic.running
    assert not (workdir / STATE_FILE).exists()


def test_every_step_runs_in_order_and_everything_is_stopped(tmp_path: Path) -> None:
    fakes = DemoFakes()
    releases(fakes)
    demo, lines = run(tmp_path, fakes)
    result = demo.result
    assert fakes.steps.ran() == ["config validate", "plan", "--json build --push", "scan", "release --env dev",
                                 "attest --env dev", "release --env prod", "status", "cost schedule --dry-run",
                                 "cost report"]
    assert fakes.keys == [demo.workdir / "signing"]
    assert result.exit_code == 0
    verdicts = {s.name: s.verdict for s in result.steps}
    assert verdicts.pop("verify dev") == "SKIPPED"   # the release verified dev itself
    assert set(verdicts.values()) == {"PASSED"}
    steps = {s.name: s for s in result.steps}
    assert steps["release dev"].detail == "2 new GitOps commit(s)" and steps["release dev"].seconds == 12.0
    assert steps["release prod"].detail == "1 new GitOps commit(s)"
    assert steps["scan"].detail == "Trivy scanners: secret"
    assert result.digests == {name: {"dev": d, "prod": d} for name, d in DIGESTS.items()}
    assert result.verification == {"cart": "PASSED", "frontend": "PASSED"}
    assert (result.commits_before, result.commits_after) == (1, 4)
    assert result.traffic == {"cart 2xx": 0} and result.mongo == "MongoDB stand-in"
    assert result.scanners == ["secret"] and not result.kept
    assert_nothing_left(fakes, tmp_path / "demo")
    assert fakes.interrupts.events == ["guarded", "shielded", "restored"]
    assert fakes.servers.forgotten == [(tmp_path / "demo").resolve() / "prometheus"]
    assert "   dev: PASSED" in lines and "== release dev: PASSED (exit 0, 12.0 s)" in lines
    assert any(line.startswith("demo: stopped moto, prometheus") for line in lines)


def test_the_steps_run_the_generated_config_without_the_users_tokens(tmp_path: Path) -> None:
    fakes = DemoFakes()
    run(tmp_path, fakes)
    workdir = (tmp_path / "demo").resolve()
    first = fakes.steps.calls[0]
    assert first.config == workdir / "pipelines" / "devops.yaml" and first.config.is_file()
    assert (first.source_root, first.cwd) == (REPO, workdir)
    for call in fakes.steps.calls:
        assert not {"SONAR_TOKEN", "DOCKERHUB_TOKEN", "AWS_PROFILE", "GITHUB_TOKEN", "CI"} & set(call.env)
        assert call.env["DEVOPS_BUILD_ARGS"] == "NODE_IMAGE=n" and call.env["PATH"] == "/usr/bin"
    aws = {" ".join(c.args): c.env.get("AWS_ENDPOINT_URL") for c in fakes.steps.calls}
    moto = aws.pop("cost report")
    assert moto and moto.startswith("http://127.0.0.1:") and aws.pop("cost schedule --dry-run") == moto
    assert set(aws.values()) == {None}   # only the cost steps reach (moto's) AWS


def test_a_failing_step_stops_the_run_with_its_exit_code_and_everything_is_stopped(tmp_path: Path) -> None:
    fakes = DemoFakes()
    releases(fakes)

    def scan(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        on_line("stderr", "cart: CVE-2099-0801 CRITICAL")
        return StepOutcome(1, 4.0, "", "cart: CVE-2099-0801 CRITICAL\ndevops: error: the Trivy gate said no\n")

    fakes.steps.scripts["scan"] = scan
    demo, lines = run(tmp_path, fakes)
    result = demo.result
    assert result.exit_code == 1
    assert fakes.steps.ran()[-1] == "scan"
    steps = {s.name: s for s in result.steps}
    assert (steps["scan"].verdict, steps["scan"].code) == ("FAILED", 1)
    assert steps["scan"].detail == "devops: error: the Trivy gate said no"
    assert [s.verdict for s in result.steps[4:]] == ["NOT RUN"] * 7
    assert fakes.gitops.commits == 1   # nothing released
    assert "   cart: CVE-2099-0801 CRITICAL" in lines
    assert_nothing_left(fakes, tmp_path / "demo")


def test_an_interrupt_during_a_step_stops_everything_and_is_raised(tmp_path: Path) -> None:
    fakes = DemoFakes()
    seen: dict[str, object] = {}

    def interrupted(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        workdir = call.cwd
        seen["state"] = json.loads((workdir / STATE_FILE).read_text())
        raise KeyboardInterrupt

    fakes.steps.scripts["release --env dev"] = interrupted
    lines: list[str] = []
    demo = Demo(options(tmp_path), fakes.ports(), lines.append)
    with pytest.raises(KeyboardInterrupt):
        demo.run()
    state = seen["state"]
    assert isinstance(state, dict) and set(state["pids"]) == {"moto", "prometheus"}
    assert "demo: interrupted; stopping everything it started" in lines
    assert fakes.interrupts.events == ["guarded", "shielded", "restored"]   # shielded before the cleanup
    assert_nothing_left(fakes, tmp_path / "demo")
    assert [s.verdict for s in demo.result.steps][4:] == ["NOT RUN"] * 7


def test_a_server_that_does_not_start_stops_what_did_and_the_error_is_raised(tmp_path: Path) -> None:
    fakes = DemoFakes()
    fakes.servers.fail_on, fakes.servers.error = "prometheus", ExternalError("prometheus on http://x: not ready")
    demo = Demo(options(tmp_path), fakes.ports(), lambda line: None)
    with pytest.raises(ExternalError, match="not ready"):
        demo.run()
    assert not fakes.servers.started["moto"].running and fakes.containers.running == {}
    assert fakes.steps.calls == []
    assert not (tmp_path / "demo" / STATE_FILE).exists()


def test_keep_leaves_the_servers_and_containers_running_and_ends_the_threads(tmp_path: Path) -> None:
    fakes = DemoFakes()
    releases(fakes)
    demo, _ = run(tmp_path, fakes, keep=True)
    workdir = (tmp_path / "demo").resolve()
    assert demo.result.kept
    assert all(server.running for server in fakes.servers.started.values())
    assert fakes.containers.running == {demo.id: {f"devops-demo-{demo.id}-mongo"}}
    assert fakes.argocd is not None and not fakes.argocd.running
    assert fakes.traffic is not None and not fakes.traffic.running
    state = json.loads((workdir / STATE_FILE).read_text())
    assert state == {"run_id": demo.id, "network": f"devops-demo-{demo.id}", "pids": demo.result.pids}

    # `devops demo --stop` ends exactly what the state file names, checking each PID's command.
    fakes.servers.live_pids = {demo.result.pids["moto"]: "python -m moto.server -p 1",
                               demo.result.pids["prometheus"]: "/usr/bin/sleep 100"}   # PID reused since
    assert stop(workdir, fakes.ports()) == ["moto", f"devops-demo-{demo.id}-mongo"]
    assert fakes.servers.stopped_pids == [(demo.result.pids["moto"], "moto.server")]
    assert fakes.containers.running == {} and not (workdir / STATE_FILE).exists()


def test_stop_without_a_state_file_removes_the_containers_named_after_the_folder(tmp_path: Path) -> None:
    fakes = DemoFakes()
    ident = run_id(tmp_path / "never")
    fakes.containers.running[ident] = {f"devops-demo-{ident}-cart"}
    fakes.containers.networks.add(f"devops-demo-{ident}")
    assert stop(tmp_path / "never", fakes.ports()) == [f"devops-demo-{ident}-cart"]
    assert fakes.containers.networks == set()
    assert stop(tmp_path / "never", fakes.ports()) == []


def test_unverified_dev_is_verified_once_the_shop_has_served_traffic(tmp_path: Path) -> None:
    fakes = DemoFakes(traffic_starts_after=8.0)
    releases(fakes, verified=False)
    fakes.steps.scripts["verify --env dev"] = lambda call, on_line: (
        fakes.gitops.release(DEV_PATH, DIGESTS, True), StepOutcome(0, 9.0))[1]
    demo, lines = run(tmp_path, fakes, settle_seconds=60)
    verify = next(s for s in demo.result.steps if s.name == "verify dev")
    assert verify.verdict == "PASSED"
    assert verify.detail == "not verified yet: cart, frontend; 2 new GitOps commit(s)"
    assert fakes.traffic is not None and fakes.traffic.total >= 60 and fakes.traffic.flowing_for() >= 25
    assert 33 <= fakes.clock.slept < 36   # 8 s until traffic, 25 s of it: no real sleeping
    assert "demo: waiting for the shop to serve 60 requests over 25 s before verifying" in lines


def test_without_traffic_the_wait_ends_at_its_deadline_and_the_verification_judges(tmp_path: Path) -> None:
    fakes = DemoFakes(traffic_starts_after=None)
    releases(fakes, verified=False)
    demo, _ = run(tmp_path, fakes, settle_seconds=5)
    assert "verify --env dev" in fakes.steps.ran()
    assert 30 <= fakes.clock.slept <= 31   # settle_seconds + 25 s, then it goes on


def test_the_build_step_reports_what_it_built(tmp_path: Path) -> None:
    fakes = DemoFakes()
    out = json.dumps({"services": [{"service": "cart", "status": "built"}, {"service": "order", "status": "cached"}]})
    fakes.steps.scripts["--json build --push"] = lambda call, on_line: StepOutcome(0, 30.0, out, "")
    demo, lines = run(tmp_path, fakes)
    build = next(s for s in demo.result.steps if s.name == "build --push")
    assert demo.result.built == ["cart"] and build.detail == "built: cart"
    assert not any(line.strip().startswith("{") for line in lines)   # --json stdout is not echoed


def test_a_build_that_prints_no_json_leaves_the_detail_empty(tmp_path: Path) -> None:
    fakes = DemoFakes()
    fakes.steps.scripts["--json build --push"] = lambda call, on_line: StepOutcome(0, 1.0, "no json", "")
    demo, _ = run(tmp_path, fakes)
    build = next(s for s in demo.result.steps if s.name == "build --push")
    assert (demo.result.built, build.detail) == ([], "")


def test_an_unreadable_remote_is_a_note_in_the_summary(tmp_path: Path) -> None:
    fakes = DemoFakes()

    def break_remote(call: StepCall, on_line: Callable[[str, str], None]) -> StepOutcome:
        fakes.gitops.broken = True
        return StepOutcome(0, 1.0)

    fakes.steps.scripts["cost report"] = break_remote
    demo, _ = run(tmp_path, fakes)
    assert demo.result.notes[-1] == "could not read the GitOps remote: the remote is gone"
    assert demo.result.exit_code == 0


def test_notes_name_missing_base_images_and_the_stand_in_argo_cds_errors(tmp_path: Path) -> None:
    fakes = DemoFakes()
    original = fakes.start_argocd

    def failing(*args):  # type: ignore[no-untyped-def]
        argocd = original(*args)
        argocd.errors.extend(["argocd (stand-in): sync failed: 1", "2", "3", "4"])
        return argocd

    fakes.start_argocd = failing  # type: ignore[method-assign]
    demo, _ = run(tmp_path, fakes, build_args={})
    notes = demo.result.notes
    assert notes[0].startswith("no stand-in base images") and notes[1:] == ["2", "3", "4"]


def test_without_the_local_registry_nothing_is_started_or_created(tmp_path: Path) -> None:
    fakes = DemoFakes(registry_error=ExternalError("the local registry at http://127.0.0.1:5000/v2/: refused"))
    with pytest.raises(ExternalError):
        run(tmp_path, fakes)
    assert fakes.registry_checked == ["127.0.0.1:5000"]
    assert not (tmp_path / "demo").exists() and not fakes.gitops.created and fakes.servers.started == {}


def test_without_the_docker_engine_nothing_is_started_or_created(tmp_path: Path) -> None:
    fakes = DemoFakes()
    fakes.containers.engine_error = ExternalError("docker: command not found on PATH")
    with pytest.raises(ExternalError):
        run(tmp_path, fakes)
    assert not (tmp_path / "demo").exists() and fakes.servers.started == {}


def test_a_folder_that_is_not_the_repository_is_bad_input(tmp_path: Path) -> None:
    fakes = DemoFakes()
    with pytest.raises(BadInput, match="no gitops/ and services/ here"):
        run(tmp_path, fakes, repo_root=tmp_path)
    assert fakes.registry_checked == []


def test_a_second_run_finds_the_remote_it_kept(tmp_path: Path) -> None:
    fakes = DemoFakes()
    fakes.gitops.commits = 5
    demo, lines = run(tmp_path, fakes)
    assert not fakes.gitops.created and demo.result.commits_before == 5
    assert not any("GitOps remote created" in line for line in lines)


def test_the_json_of_a_run_is_the_published_schemas(tmp_path: Path) -> None:
    import jsonschema

    from devops.report.demo import DemoStoppedJson, as_json

    fakes = DemoFakes()
    releases(fakes)
    demo, _ = run(tmp_path, fakes, keep=True)
    data = json.loads(as_json(demo.result).model_dump_json())
    schema = json.loads((REPO / "docs" / "schemas" / "demo.json").read_text())
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert list(data) == ["exit_code", "seconds", "workdir", "steps", "built", "scanners", "digests", "verification",
                          "gitops", "registry", "prometheus", "frontend", "pids", "mongo", "kept", "traffic", "notes",
                          "docs"]
    assert data["steps"][5] == {"name": "verify dev", "command": "devops verify --env dev", "exit_code": None,
                                "seconds": 0.0, "verdict": "SKIPPED",
                                "detail": "dev's digests are already verified (release recorded it)"}
    assert data["gitops"]["new_commits"] == 3 and data["registry"] == "http://127.0.0.1:5000"
    assert data["prometheus"].startswith("http://127.0.0.1:") and set(data["pids"]) == {"moto", "prometheus"}
    jsonschema.validate(DemoStoppedJson(stopped=[]).model_dump(), schema, cls=jsonschema.Draft202012Validator)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "steps": "not a list"}, schema, cls=jsonschema.Draft202012Validator)
