"""The Sonar gate cannot be steered by files: the token goes only to gates.sonar.host_url, the
verdict comes only from there, and report-task.txt is read only where `devops quality` wrote it.

SonarCloud cannot run here. The "configured" Sonar is a small local HTTP server on 127.0.0.1
answering `api/ce/task` and `api/qualitygates/project_status` with the documented examples of
../shared/fixtures/sonar (only status fields changed per scenario); a hostile server on
127.0.0.2 poses as Sonar wherever a report-task.txt points. Both record every request
(tests/support/recording_http.py), so each test says which host got the token. The release's
Sonar verdict is checked against `devops gate sonar` through the real wiring
(`CliSteps.sonar`, the same recorded server) and the real release orchestration with in-memory
stand-ins for the build, scan, push and GitOps steps.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devops.config.gates import SonarSettings
from devops.domain.gates.sonar import gate_outcome
from tests.support.recording_http import Answer, Recorded, RecordingServer, serving

TOKEN = "sqp_recorded0123456789abcdef"
TASK_ID = "AYhSC2-LY0CHkWJxvNA9"
ANALYSIS_ID = "AYhSC3WDE6ILQDIMAPIp"
WRITTEN = Path(".devops") / "sonar" / "repository" / "report-task.txt"


class FakeSonar:
    """SonarCloud's two endpoints, answering with the recorded documented examples."""

    def __init__(self, fixtures: Path, status: str = "OK") -> None:
        self.task = json.loads((fixtures / "sonar" / "ce-task.json").read_text())
        self.gate = json.loads((fixtures / "sonar" / "qualitygate-project-status.json").read_text())
        self.status = status
        self.redirect_to: str | None = None

    def __call__(self, request: Recorded) -> Answer:
        if self.redirect_to:
            return Answer(302, {"Location": self.redirect_to + request.path})
        path = request.path.split("?")[0]
        if request.authorization != f"bearer {TOKEN}":
            return Answer(401, {"Content-Type": "application/json"},
                          b'{"errors":[{"msg":"Insufficient privileges"}]}')
        if path == "/api/ce/task":
            body: dict[str, Any] = copy.deepcopy(self.task)
            body["task"]["status"] = "SUCCESS"
        elif path == "/api/qualitygates/project_status":
            body = copy.deepcopy(self.gate)
            body["projectStatus"]["status"] = self.status
            if self.status != "ERROR":
                body["projectStatus"]["conditions"] = []
        else:
            return Answer(404, {"Content-Type": "application/json"}, b'{"errors":[{"msg":"Unknown url"}]}')
        return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


@pytest.fixture
def sonar(shared_fixtures: Path) -> Iterator[tuple[RecordingServer, FakeSonar]]:
    fake = FakeSonar(shared_fixtures)
    with serving("127.0.0.1", fake) as server:
        yield server, fake


@pytest.fixture
def hostile() -> Iterator[RecordingServer]:
    """Poses as Sonar on another host: answers like the real one would, and records."""
    def looks_like_sonar(_request: Recorded) -> Answer:
        return Answer(200, {"Content-Type": "application/json"},
                      b'{"task":{"id":"AYhSC2-LY0CHkWJxvNA9","status":"SUCCESS","analysisId":"X"},'
                      b'"projectStatus":{"status":"OK","conditions":[]}}')

    with serving("127.0.0.2", looks_like_sonar) as server:
        yield server


def report_task(server: str, *, task_url: str | None = None, dashboard: str | None = None,
                task_id: str = TASK_ID) -> str:
    return (f"organization=techitfactory\nprojectKey=techitfactory_gates-test\nserverUrl={server}\n"
            f"serverVersion=8.0.0.46314\ndashboardUrl={dashboard or server + '/dashboard?id=x'}\n"
            f"ceTaskId={task_id}\nceTaskUrl={task_url or server + '/api/ce/task?id=' + task_id}\n")


def sonar_config(host: str, **extra: str) -> str:
    lines = [f"    host_url: {host}", "    project_key: sonarsource_test_AYhCAUXoEy1XQQcbVndf",  # the recorded task's project
             "    poll_initial_seconds: 0.01", "    poll_max_seconds: 0.02",
             "    timeout_seconds: 5", "    http_retries: 0", *(f"    {k}: {v}" for k, v in extra.items())]
    return "  sonar:\n" + "\n".join(lines) + "\n"


def write(project: Any, relative: Path | str, text: str) -> Path:
    path = project.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def with_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONAR_TOKEN", TOKEN)


# --- serverUrl must be host_url; nothing is sent otherwise ------------------------------------


@pytest.mark.usefixtures("with_token")
def test_report_task_naming_another_server_is_exit_2_and_nothing_is_sent(
        project, run_cli, sonar, hostile) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    path = write(project, WRITTEN, report_task(hostile.url))
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 2
    line = result.err.strip().splitlines()[-1]
    assert line.startswith(f"devops: error: {path}: serverUrl '{hostile.url}' is not gates.sonar.host_url "
                           f"({server.url}); nothing was sent")
    assert hostile.requests == [] and server.requests == []
    assert TOKEN not in result.out + result.err


@pytest.mark.usefixtures("with_token")
def test_control_report_task_of_the_configured_server_gets_the_token_there(
        project, run_cli, sonar, hostile) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    write(project, WRITTEN, report_task(server.url, task_url=f"{hostile.url}/api/ce/task?id={TASK_ID}",
                                        dashboard=f"{hostile.url}/phish"))
    result = run_cli("--json", "--config", str(project.config), "gate", "sonar")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["status"], data["verdict"], data["analysis_id"]) == ("OK", "pass", ANALYSIS_ID)
    assert [r.path.split("?")[0] for r in server.requests] == ["/api/ce/task", "/api/qualitygates/project_status"]
    assert set(server.authorizations()) == {f"bearer {TOKEN}"}
    # ceTaskUrl and dashboardUrl are data: the link shown is built from host_url.
    assert data["dashboard_url"].startswith(f"{server.url}/dashboard?id=")
    assert hostile.requests == [] and "127.0.0.2" not in result.out + result.err


@pytest.mark.parametrize("differs", ["scheme", "host", "port", "loopback-name", "userinfo", "path-only-same"])
@pytest.mark.usefixtures("with_token")
def test_server_must_match_scheme_host_and_port(project, run_cli, sonar, differs: str) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    other = {
        "scheme": f"https://127.0.0.1:{server.port}",
        "host": f"http://127.0.0.3:{server.port}",
        "port": f"http://127.0.0.1:{server.port + 1 if server.port < 65535 else server.port - 1}",
        "loopback-name": f"http://localhost:{server.port}",
        "userinfo": f"http://user:pw@127.0.0.1:{server.port}",
        "path-only-same": f"http://127.0.0.1:{server.port}/",  # the same origin: accepted (control)
    }[differs]
    write(project, WRITTEN, report_task(other))
    result = run_cli("--config", str(project.config), "gate", "sonar")
    if differs == "path-only-same":
        assert result.code == 0, result.err
        assert server.requests
    else:
        assert result.code == 2, result.err
        assert "report-task.txt" in result.err and server.requests == []
        assert "pw@" not in result.err


@pytest.mark.usefixtures("with_token")
def test_a_redirect_from_sonar_is_not_followed(project, run_cli, sonar, hostile) -> None:  # type: ignore[no-untyped-def]
    server, fake = sonar
    fake.redirect_to = hostile.url
    project.write_config(sonar_config(server.url))
    write(project, WRITTEN, report_task(server.url))
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 3
    assert "HTTP 302 redirect to" in result.err and "not followed" in result.err
    assert server.authorizations() == [f"bearer {TOKEN}"]  # control: the configured host got it
    assert hostile.requests == []


# --- the one place report-task.txt is read from ----------------------------------------------


@pytest.mark.usefixtures("with_token")
def test_report_tasks_in_scannerwork_folders_are_never_read(project, run_cli, sonar, hostile) -> None:  # type: ignore[no-untyped-def]
    """What a pull request can commit where the scanner used to write: ignored, whatever it says."""
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    for place in ("services/app/.scannerwork/report-task.txt", ".scannerwork/report-task.txt"):
        write(project, place, report_task(server.url, task_id="PLANTED"))
    result = run_cli("--config", str(project.config), "gate", "sonar", "--service", "app")
    assert result.code == 2
    assert "report-task.txt not found; looked in " in result.err and ".devops/sonar/services/app" in result.err
    assert server.requests == [] and hostile.requests == []
    write(project, WRITTEN, report_task(server.url))  # control: what `devops quality` writes
    result = run_cli("--config", str(project.config), "gate", "sonar", "--service", "app")
    assert result.code == 0, result.err
    assert all("PLANTED" not in r.path for r in server.requests)


@pytest.mark.usefixtures("with_token")
def test_a_report_task_committed_to_git_is_refused(project, run_cli, sonar) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    path = write(project, WRITTEN, report_task(server.url))

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=project.root,
                       check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 0, result.err  # control: in a git repository, not tracked
    git("add", "-f", str(path))  # .devops/ is ignored; a pull request would have to force it
    git("commit", "-qm", "planted")
    server.requests.clear()
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 2
    assert f"{path}: report-task.txt is committed to git" in result.err
    assert server.requests == []


@pytest.mark.usefixtures("with_token")
def test_a_symlink_on_the_way_is_refused(project, run_cli, sonar, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    elsewhere = tmp_path / "elsewhere" / "repository"
    elsewhere.mkdir(parents=True)
    (elsewhere / "report-task.txt").write_text(report_task(server.url))
    (project.root / ".devops").mkdir(exist_ok=True)
    (project.root / ".devops" / "sonar").symlink_to(elsewhere.parent)
    result = run_cli("--config", str(project.config), "gate", "sonar")
    assert result.code == 2
    assert "is a symbolic link" in result.err and server.requests == []


def test_scannerwork_is_ignored_by_git(repo_root: Path) -> None:
    ignored = (repo_root / ".gitignore").read_text().split()
    assert ".scannerwork/" in ignored and ".devops/" in ignored


# --- `devops quality` writes the one file, and clears what a new analysis supersedes -----------


@pytest.mark.usefixtures("with_token")
def test_quality_of_the_repository_supersedes_every_earlier_result(
        project, run_cli, sonar, fake_bin) -> None:  # type: ignore[no-untyped-def]
    server, _ = sonar
    project.write_config(sonar_config(server.url))
    fake_bin("pysonar", f"""
import sys
target = sys.argv[sys.argv.index("--sonar-scanner-metadata-filepath") + 1]
open(target, "w").write({report_task(server.url)!r})
""")
    older = write(project, Path(".devops/sonar/services/app/report-task.txt"),
                  report_task(server.url, task_id="OLDER"))
    result = run_cli("--config", str(project.config), "quality", "--no-gate")
    assert result.code == 0, result.err
    assert not older.exists(), "the per-service result of an older analysis was removed"
    assert (project.root / WRITTEN).is_file()
    result = run_cli("--config", str(project.config), "gate", "sonar", "--service", "app")
    assert result.code == 0, result.err
    assert all("OLDER" not in r.path for r in server.requests)


@pytest.mark.parametrize("arg", [
    "--sonar-host-url=https://evil.example", "-Dsonar.host.url=https://evil.example", "--sonar-host=https://x",
    "-Dsonar.scanner.apiBaseUrl=https://evil.example", "--sonar-scanner-api-url=https://evil.example",
    "-Dsonar.scanner.metadataFilepath=/tmp/x", "--token=abc", "-tabc", "-Dsonar.token=abc",
    "--sonar-scanner-cloud-url=https://evil.example",
])
def test_scanner_args_cannot_move_the_token_or_the_report(project, run_cli, arg: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--config", str(project.config), "quality", "--dry-run", "--scanner-arg", arg)
    assert result.code == 2
    assert "--scanner-arg" in result.err


def test_control_scanner_arg_that_moves_nothing(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("--json", "--config", str(project.config), "quality", "--dry-run",
                     "--scanner-arg", "-Dsonar.exclusions=**/vendor/**")
    assert result.code == 0, result.err
    args = result.json()["command"]
    assert "-Dsonar.exclusions=**/vendor/**" in args
    # The token's destinations are pinned on the command line, which pysonar ranks first.
    assert args[args.index("--sonar-scanner-api-url") + 1] == "https://api.sonarcloud.io"
    assert args[args.index("--sonar-scanner-cloud-url") + 1] == "https://sonarcloud.io"


# --- host_url at config load ------------------------------------------------------------------


@pytest.mark.parametrize(("host", "ok"), [
    ("https://sonarcloud.io", True),
    ("https://sonar.example.com:8443/sonarqube", True),
    ("http://127.0.0.1:9000", True),
    ("http://127.8.9.10:9000", True),
    ("http://[::1]:9000", True),
    ("http://localhost:9000", True),
    ("http://sonar.example.com", False),
    ("http://127.0.0.1.example.com", False),
    ("ftp://sonar.example.com", False),
    ("https://user:pw@sonar.example.com", False),
    ("https://sonar.example.com?x=1", False),
    ("https://", False),
    ("sonarcloud.io", False),
])
def test_host_url_is_https_except_loopback(project, run_cli, host: str, ok: bool) -> None:  # type: ignore[no-untyped-def]
    project.write_config(f"  sonar:\n    host_url: '{host}'\n")
    result = run_cli("--config", str(project.config), "config", "validate")
    assert result.code == (0 if ok else 2), result.err
    if not ok:
        assert "gates.sonar.host_url" in result.err and "pw@" not in result.err


def test_the_removed_report_task_key_says_where_the_file_is_now(project, run_cli) -> None:  # type: ignore[no-untyped-def]
    project.write_config("  sonar:\n    report_task: .scannerwork/report-task.txt\n")
    result = run_cli("--config", str(project.config), "config", "validate")
    assert result.code == 2
    assert "gates.sonar: report_task: removed" in result.err and ".devops/sonar/" in result.err


# --- one verdict: `devops gate sonar` and the release agree -----------------------------------

STATUSES = ("OK", "WARN", "ERROR", "NONE")
OUTCOMES = ("pass", "fail", "error")
EXIT = {"pass": 0, "fail": 1, "error": 3}


class FakeRepo:
    """The GitOps repository as a release sees it, in memory."""

    commit = ""

    def __init__(self) -> None:
        self.published: list[Any] = []

    def read_values(self, _service: str) -> None:
        return None

    def read_record(self) -> Any:
        from devops.domain.gitops.record import ReleaseRecord

        return ReleaseRecord.empty("dev")

    def publish(self, change: Any, dry_run: bool = False, mode: str | None = None) -> Any:
        from devops.domain.gitops.change import PublishResult

        self.published.append(change)
        return PublishResult("committed", (), "c" * 40, "main")


class Steps:
    """Release steps: build, scan, push and GitOps in memory; Sonar through the real CLI wiring."""

    def __init__(self, config_path: Path) -> None:
        from devops.cli.context import AppContext
        from devops.wiring.release import CliSteps

        app = AppContext(config_path=str(config_path), json_mode=True)
        self.cli = CliSteps(app.config, app.settings, app.reporter)
        self.repo = FakeRepo()
        self.pushed: list[str] = []  # the services whose image may_push let into the registry

    def plan(self, services: Any) -> list[Any]:
        from devops.app.plan import ServicePlan
        from devops.domain.images.identity import BuildInputs

        inputs = BuildInputs(Path("services/app"), Path("services/app/Dockerfile"), {}, (), 1, "0" * 64)
        return [ServicePlan(s, f"services/{s}", f"127.0.0.1:5000/gates-test/{s}", inputs, True, "new")
                for s in services]

    def registry_digest(self, _plan: Any) -> None:
        return None

    def deliver(self, plans: Any, _known: Any, may_push: Any) -> list[Any]:
        from devops.app.release import Delivered, ScanOutcome

        scan = ScanOutcome(True, {}, 0, "0.76.0", None)
        out = []
        for p in plans:
            allowed = may_push(p.service, scan)  # waits for the Sonar verdict, as the real steps do
            self.pushed += [p.service] if allowed else []
            out.append(Delivered(p.service, f"local/{p.service}", "built", scan=scan,
                                 digest="sha256:" + "a" * 64 if allowed else "", pushed=allowed))
        return out

    def sonar(self, service: str) -> Any:
        return self.cli.sonar(service)

    def tag_release(self, plans: Any, digests: Any) -> None:
        pass

    def human_tag(self, _plan: Any) -> str:
        return "sha-abcdef0"

    def source_commit(self) -> str:
        return "b" * 40

    def source_committed_at(self) -> str | None:
        return None

    def released_by(self) -> dict[str, Any]:
        return {"actor": "test", "via": "cli"}

    @contextmanager
    def open_repo(self, _environment: str) -> Iterator[FakeRepo]:
        yield self.repo


def release_exit(config_path: Path) -> tuple[int, dict[str, Any] | None]:
    """The exit code `devops release` would give, and the Sonar evidence it recorded."""
    from devops.app.release import release
    from devops.errors import DevopsError

    steps = Steps(config_path)
    try:
        release("dev", ["app"], ["app"], steps, now=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    except DevopsError as exc:
        assert not steps.repo.published, "nothing is written when the release stops"
        assert steps.pushed == [], "an image whose Sonar verdict did not pass never reaches the registry"
        return int(exc.exit_code), None
    assert steps.pushed == ["app"], "control: pushed when the verdict lets it through"
    (change,) = steps.repo.published
    return 0, change.record["services"]["app"]["sonar"]


@pytest.mark.parametrize(("status", "on_warn", "on_none"), list(itertools.product(STATUSES, OUTCOMES, OUTCOMES)))
@pytest.mark.usefixtures("with_token")
def test_gate_and_release_give_the_same_verdict(project, run_cli, shared_fixtures: Path, status: str,
                                                on_warn: str, on_none: str) -> None:  # type: ignore[no-untyped-def]
    expected = gate_outcome(status, SonarSettings(on_warn=on_warn, on_none=on_none).policy())  # type: ignore[arg-type]
    assert expected is not None
    with serving("127.0.0.1", FakeSonar(shared_fixtures, status)) as server:
        project.write_config(sonar_config(server.url, on_warn=on_warn, on_none=on_none))
        write(project, WRITTEN, report_task(server.url))
        gate = run_cli("--json", "--config", str(project.config), "gate", "sonar", "--service", "app")
        released, evidence = release_exit(project.config)
        assert set(server.authorizations()) == {f"bearer {TOKEN}"}
    assert gate.code == released == EXIT[expected], (gate.err, released)
    if expected == "pass":
        assert evidence is not None
        assert (evidence["verdict"], evidence["status"]) == ("PASSED", status)
        if status in ("WARN", "NONE"):
            assert f"gates.sonar.on_{status.lower()}" in evidence["reason"]


def test_release_never_maps_a_status_itself() -> None:
    """The release records the gate's outcome: an unknown or missing outcome is FAILED."""
    from devops.domain.release.evidence import sonar_evidence

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert sonar_evidence("WARN", "pass", "", now)["verdict"] == "PASSED"
    assert sonar_evidence("OK", "fail", "", now)["verdict"] == "FAILED"
    assert sonar_evidence("OK", "", "", now)["verdict"] == "FAILED"
    assert sonar_evidence("SKIPPED", "skipped", "not configured", now)["verdict"] == "SKIPPED"
