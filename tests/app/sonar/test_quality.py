"""`devops quality` on an in-memory scanner and Sonar API: planned from GitHub's context, SKIPPED
only when not configured, the gate read from the file this run's scanner wrote."""

from __future__ import annotations

from pathlib import Path

import pytest

from devops.app.quality import QualityRequest, run_quality
from devops.app.sonar_gate import SonarPorts, report_task_path
from devops.config.model import Config
from devops.errors import BadInput, GateUnavailable
from tests.app.config import make_config
from tests.fakes.sonar import PROJECT, FakeScanner, FakeSonarApi

PORTS = SonarPorts(api=lambda host, token: FakeSonarApi(component=f"{PROJECT}_alpha"), is_tracked=lambda p: False,
                   sleep=lambda s: None)


def project(tmp_path: Path, **sonar: object) -> Config:
    return make_config(tmp_path, gates={"sonar": {"project_key": PROJECT, **sonar}})


def test_a_dry_run_plans_from_githubs_context_and_runs_nothing(tmp_path: Path) -> None:
    scanner = FakeScanner(shallow=True, event={"pull_request": {"number": 3, "head": {"ref": "f"},
                                                                "base": {"ref": "main"}}})
    planned = []
    outcome = run_quality(project(tmp_path), QualityRequest("alpha", dry_run=True), token="sqp_1",
                          github={"GITHUB_EVENT_NAME": "pull_request"}, event_path="/github/event.json",
                          scanner=scanner, gate_ports=PORTS, on_plan=planned.append)
    assert outcome.status == "DRY-RUN" and outcome.gate is None and scanner.runs == []
    assert (outcome.plan.mode, outcome.plan.project_key, outcome.plan.cwd) == ("pull-request", f"{PROJECT}_alpha",
                                                                               tmp_path / "services" / "alpha")
    assert planned == [outcome.plan] and outcome.plan.notes  # the shallow clone is noted


def test_without_a_token_it_is_skipped_unless_required(tmp_path: Path) -> None:
    scanner = FakeScanner()
    outcome = run_quality(project(tmp_path), QualityRequest(), token=None, github={}, event_path=None,
                          scanner=scanner, gate_ports=PORTS)
    assert (outcome.status, outcome.reason) == ("SKIPPED", "not configured: $SONAR_TOKEN is unset")
    assert outcome.plan.mode == "local" and scanner.runs == []
    with pytest.raises(GateUnavailable, match="gates.sonar.required is true"):
        run_quality(project(tmp_path, required=True), QualityRequest(), token=None, github={}, event_path=None,
                    scanner=scanner, gate_ports=PORTS)


def test_the_scanner_runs_then_the_gate_reads_what_it_wrote(tmp_path: Path) -> None:
    config = project(tmp_path)
    stale = report_task_path(config, "alpha")
    stale.parent.mkdir(parents=True)
    stale.write_text("ceTaskId=old\n")
    scanner, said = FakeScanner(), []
    outcome = run_quality(config, QualityRequest("alpha", timeout=5), token="sqp_1",
                          github={"GITHUB_REF_NAME": "main"}, event_path=None, scanner=scanner, gate_ports=PORTS,
                          on_scan=said.append)
    assert outcome.status == "SCANNED" and outcome.gate is not None and outcome.gate.outcome == "pass"
    (args, cwd, token), = scanner.runs
    assert token == "sqp_1" and cwd == tmp_path / "services" / "alpha" and "--sonar-branch-name" in args
    assert said == [f"Sonar analysis of {PROJECT}_alpha (branch)"]
    assert "ceTaskId=old" not in stale.read_text()


def test_no_gate_only_scans(tmp_path: Path) -> None:
    scanner = FakeScanner()
    outcome = run_quality(project(tmp_path), QualityRequest(no_gate=True), token="sqp_1", github={}, event_path=None,
                          scanner=scanner, gate_ports=PORTS)
    assert outcome.status == "SCANNED" and outcome.gate is None and len(scanner.runs) == 1
    assert report_task_path(project(tmp_path), None).is_file()


def test_unknown_services_and_pinned_arguments_are_bad_input(tmp_path: Path) -> None:
    from devops.errors import UnknownName

    with pytest.raises(UnknownName):
        run_quality(project(tmp_path), QualityRequest("nope"), token="t", github={}, event_path=None,
                    scanner=FakeScanner(), gate_ports=PORTS)
    with pytest.raises(BadInput, match="set by devops from gates.sonar.host_url"):
        run_quality(project(tmp_path), QualityRequest(scanner_args=("-Dsonar.host.url=https://evil",)), token="t",
                    github={}, event_path=None, scanner=FakeScanner(), gate_ports=PORTS)
