"""Bad inputs of the Sonar gate, the GitHub API URL and GitOps URLs with credentials.

Families, each with a control that passes: report-task.txt (foreign, plain-http or odd
serverUrls, missing, repeated or malformed keys, not UTF-8, huge, in the wrong place, committed
or behind a link), `gates.sonar.host_url`, `--scanner-arg`/`--timeout`, the GitHub API URL
(config and $GITHUB_API_URL), and GitOps URLs carrying credentials (refused where they would
leak, redacted in every message, and kept from hosts that were not configured).

Sonar and GitHub cannot run here: the "configured" Sonar is a local server on 127.0.0.1
answering with the documented examples of ../shared/fixtures/sonar, and a hostile one on
127.0.0.2 answers like Sonar wherever a file points; both record what reached them
(tests/support/recording_http.py). Git servers are the real `git http-backend`.
"""

from __future__ import annotations

import copy
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.security.badinput.harness import Case, CaseContext
from tests.support.cli import Outcome
from tests.support.recording_http import Answer, GitBackend, Recorded, RecordingServer

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures"
TOKEN = "sqp_badinput0123456789abcdef"
TASK_ID = "AYhSC2-LY0CHkWJxvNA9"
WRITTEN = ".devops/sonar/repository/report-task.txt"
SERVICE_WRITTEN = ".devops/sonar/services/alpha/report-task.txt"
SECRET = "glpat-BadInputSecret0123"
DIGEST = "sha256:" + "a" * 64
SET_IMAGE = ("gitops", "set-image", "--env", "dev", f"alpha=127.0.0.1:5000/test/alpha:v1@{DIGEST}")


# --- servers ------------------------------------------------------------------------------


def _fake_sonar(status: str = "OK") -> Callable[[Recorded], Answer]:
    task = json.loads((FIXTURES / "sonar" / "ce-task.json").read_text())
    gate = json.loads((FIXTURES / "sonar" / "qualitygate-project-status.json").read_text())

    def answer(request: Recorded) -> Answer:
        if request.authorization != f"bearer {TOKEN}":
            return Answer(401, {"Content-Type": "application/json"}, b'{"errors":[{"msg":"Unauthorized"}]}')
        path = request.path.split("?")[0]
        if path == "/api/ce/task":
            body: dict[str, Any] = copy.deepcopy(task)
            body["task"]["status"] = "SUCCESS"
        elif path == "/api/qualitygates/project_status":
            body = copy.deepcopy(gate)
            body["projectStatus"]["status"] = status
        else:
            return Answer(404, {"Content-Type": "application/json"}, b'{"errors":[{"msg":"Unknown url"}]}')
        return Answer(200, {"Content-Type": "application/json"}, json.dumps(body).encode())

    return answer


def _looks_like_sonar(_request: Recorded) -> Answer:
    return Answer(200, {"Content-Type": "application/json"},
                  b'{"task":{"id":"AYhSC2-LY0CHkWJxvNA9","status":"SUCCESS","analysisId":"AYhSC3WDE6ILQDIMAPIp"},'
                  b'"projectStatus":{"status":"OK","conditions":[]}}')


def _start(ctx: CaseContext, name: str, host: str, handler: Callable[[Recorded], Answer]) -> RecordingServer:
    server = RecordingServer(host, handler).start()
    ctx.cleanups.append(server.stop)
    servers: dict[str, RecordingServer] = getattr(ctx, "servers", {})
    servers[name] = server
    ctx.servers = servers  # type: ignore[attr-defined]
    return server


def _server(ctx: CaseContext, name: str) -> RecordingServer:
    server: RecordingServer = ctx.servers[name]  # type: ignore[attr-defined]
    return server


def _append_config(ctx: CaseContext, text: str) -> None:
    config = ctx.root / "pipelines" / "devops.yaml"
    config.write_text(config.read_text() + text)


SONAR_BLOCK = """\
gates:
  sonar:
    host_url: {host}
    project_key: sonarsource_test_AYhCAUXoEy1XQQcbVndf
    http_retries: 0
    poll_initial_seconds: 0.01
    poll_max_seconds: 0.02
    timeout_seconds: 5
"""


def report(server: str, task_id: str = TASK_ID, extra: str = "") -> str:
    return (f"organization=techitfactory\nprojectKey=testshop\nserverUrl={server}\n"
            f"dashboardUrl={server}/dashboard?id=testshop\nceTaskId={task_id}\n"
            f"ceTaskUrl={server}/api/ce/task?id={task_id}\n{extra}")


Content = Callable[[str, str], "str | bytes"]  # (configured sonar URL, hostile URL) -> file content


def sonar_case(case_id: str, content: Content | None, expect: int, *, where: str = WRITTEN,
               argv: tuple[str, ...] = ("gate", "sonar"), mentions: tuple[str, ...] = (),
               prepare: Callable[[CaseContext], None] | None = None, asks_server: bool = False) -> Case:
    """`devops gate sonar` with the configured fake Sonar and a hostile one running. A refusal
    (exit 2) must send nothing to either; anything else sends the token only to the configured."""

    def setup(ctx: CaseContext) -> None:
        sonar = _start(ctx, "sonar", "127.0.0.1", _fake_sonar())
        hostile = _start(ctx, "hostile", "127.0.0.2", _looks_like_sonar)
        _append_config(ctx, SONAR_BLOCK.format(host=sonar.url))
        if content is not None:
            ctx.write(where, content(sonar.url, hostile.url))
        ctx.env["SONAR_TOKEN"] = TOKEN
        if prepare is not None:
            prepare(ctx)

    def check(ctx: CaseContext, outcome: Outcome) -> None:
        sonar, hostile = _server(ctx, "sonar"), _server(ctx, "hostile")
        assert hostile.requests == [], f"{case_id}: the hostile server was contacted"
        if expect == 2 and not asks_server:
            assert sonar.requests == [], f"{case_id}: something was sent on a refusal"
        else:
            assert sonar.requests and set(sonar.authorizations()) == {f"bearer {TOKEN}"}
        assert TOKEN not in outcome.out + outcome.err

    return Case(f"sonar-{case_id}", argv, expect, setup=setup, check=check, outside=asks_server,
                mentions=mentions or (("report-task.txt",) if expect == 2 else ()))


def _git(ctx: CaseContext, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=ctx.root,
                   check=True, capture_output=True)


def _commit_it(ctx: CaseContext) -> None:
    _git(ctx, "add", "-f", WRITTEN)
    _git(ctx, "commit", "-qm", "a pull request plants its own analysis")


def _link_to_canary(ctx: CaseContext) -> None:
    (ctx.root / ".devops").mkdir(exist_ok=True)
    (ctx.root / ".devops" / "sonar").symlink_to(ctx.canary)


def _dir_instead(ctx: CaseContext) -> None:
    (ctx.root / WRITTEN).mkdir(parents=True)


REPORT_TASK_CASES = [
    sonar_case("control-report-task", lambda s, h: report(s), 0),
    sonar_case("control-service-falls-back-to-repository", lambda s, h: report(s), 0,
               argv=("gate", "sonar", "--service", "alpha")),
    sonar_case("control-service-analysis", lambda s, h: report(s), 0, where=SERVICE_WRITTEN,
               argv=("gate", "sonar", "--service", "alpha"),
               prepare=lambda ctx: _append_config(ctx, "  services:\n    alpha: {sonar_project_key: sonarsource_test_AYhCAUXoEy1XQQcbVndf}\n")),
    # The recorded task is of the repository's project: a service's own file naming it is refused.
    sonar_case("task-of-another-project", lambda s, h: report(s), 2, where=SERVICE_WRITTEN,
               argv=("gate", "sonar", "--service", "alpha"), mentions=("analysed project",), asks_server=True),
    sonar_case("control-links-are-data", lambda s, h: report(s).replace(f"{s}/dashboard", f"{h}/dashboard")
               .replace(f"ceTaskUrl={s}", f"ceTaskUrl={h}"), 0),
    sonar_case("server-foreign-host", lambda s, h: report(h), 2, mentions=("serverUrl", "gates.sonar.host_url")),
    sonar_case("server-plain-http-remote", lambda s, h: report("http://sonarcloud.io"), 2,
               mentions=("plain http",)),
    sonar_case("server-https-instead-of-http", lambda s, h: report(s.replace("http://", "https://")), 2),
    sonar_case("server-other-port", lambda s, h: report(s.rsplit(":", 1)[0] + ":1"), 2),
    sonar_case("server-localhost-alias", lambda s, h: report(s.replace("127.0.0.1", "localhost")), 2),
    sonar_case("server-lookalike-host", lambda s, h: report("https://sonarcloud.io.evil.example"), 2),
    sonar_case("server-userinfo", lambda s, h: report(s.replace("http://", "http://admin:pw@")), 2),
    sonar_case("server-ftp", lambda s, h: report("ftp://sonarcloud.io"), 2),
    sonar_case("server-no-scheme", lambda s, h: report("sonarcloud.io"), 2),
    sonar_case("server-javascript", lambda s, h: report("javascript:alert(1)"), 2),
    sonar_case("server-bad-port", lambda s, h: report("https://sonarcloud.io:99999"), 2),
    sonar_case("server-control-character", lambda s, h: report(s + "\x1b[31m"), 2),
    sonar_case("server-empty", lambda s, h: report(""), 2, mentions=("serverUrl",)),
    sonar_case("server-missing", lambda s, h: report(s).replace(f"serverUrl={s}\n", ""), 2,
               mentions=("serverUrl",)),
    sonar_case("server-twice", lambda s, h: report(s, extra=f"serverUrl={h}\n"), 2, mentions=("twice",)),
    sonar_case("task-id-missing", lambda s, h: report(s).replace(f"ceTaskId={TASK_ID}\n", ""), 2,
               mentions=("ceTaskId",)),
    sonar_case("task-id-path", lambda s, h: report(s, task_id="../../api/users/search"), 2,
               mentions=("ceTaskId",)),
    sonar_case("task-id-query", lambda s, h: report(s, task_id=f"{TASK_ID}&id=other"), 2, mentions=("ceTaskId",)),
    sonar_case("task-id-too-long", lambda s, h: report(s, task_id="A" * 500), 2, mentions=("ceTaskId",)),
    sonar_case("task-id-twice", lambda s, h: report(s, extra="ceTaskId=AAAAAAAAAAAAAAAAAAAA\n"), 2,
               mentions=("twice",)),
    sonar_case("file-empty", lambda s, h: "", 2),
    sonar_case("file-not-properties", lambda s, h: "<html><body>not a report</body></html>\n", 2),
    sonar_case("file-not-utf8", lambda s, h: b"serverUrl=" + s.encode() + b"\nceTaskId=\xff\xfe\xfd\n", 2,
               mentions=("UTF-8",)),
    sonar_case("file-nul-bytes", lambda s, h: report(s).replace(f"serverUrl={s}", f"serverUrl={s}\x00{h}"), 2),
    sonar_case("file-huge", lambda s, h: report(s) + "#" + "x" * 200_000 + "\n", 2, mentions=("KiB",)),
    sonar_case("file-is-a-directory", None, 2, prepare=_dir_instead, mentions=("not found",)),
    sonar_case("file-committed-to-git", lambda s, h: report(s), 2, prepare=_commit_it,
               mentions=("committed to git",)),
    sonar_case("folder-links-to-canary", None, 2, prepare=_link_to_canary, mentions=("symbolic link",)),
    sonar_case("scannerwork-only-root", lambda s, h: report(s), 2, where=".scannerwork/report-task.txt",
               mentions=("not found",)),
    sonar_case("scannerwork-only-service", lambda s, h: report(s), 2,
               where="services/alpha/.scannerwork/report-task.txt",
               argv=("gate", "sonar", "--service", "alpha"), mentions=("not found",)),
    sonar_case("explicit-missing", lambda s, h: report(s), 2, argv=("gate", "sonar", "--report-task", "{root}/nope.txt"),
               mentions=("nope.txt",)),
    sonar_case("explicit-device", lambda s, h: report(s), 2, argv=("gate", "sonar", "--report-task", "/dev/zero"),
               mentions=("/dev/zero",)),
    sonar_case("explicit-foreign-server", lambda s, h: report(h), 2, where="elsewhere.txt",
               argv=("gate", "sonar", "--report-task", "{root}/elsewhere.txt"), mentions=("serverUrl",)),
    sonar_case("unknown-service", lambda s, h: report(s), 2, argv=("gate", "sonar", "--service", "nope"),
               mentions=("nope",)),
    sonar_case("service-traversal", lambda s, h: report(s), 2, argv=("gate", "sonar", "--service", "../../etc"),
               mentions=("../../etc",)),
    sonar_case("timeout-nan", lambda s, h: report(s), 2, argv=("gate", "sonar", "--timeout", "nan"),
               mentions=("--timeout",)),
    sonar_case("timeout-inf", lambda s, h: report(s), 2, argv=("gate", "sonar", "--timeout", "inf"),
               mentions=("--timeout",)),
    sonar_case("timeout-negative", lambda s, h: report(s), 2, argv=("gate", "sonar", "--timeout", "-1"),
               mentions=("--timeout",)),
]


# --- gates.sonar.host_url and the scanner's options ------------------------------------------


def host_case(case_id: str, host: str, expect: int, *, mentions: tuple[str, ...] = ("gates.sonar.host_url",),
              secret: str = "") -> Case:
    def check(_ctx: CaseContext, outcome: Outcome) -> None:
        if secret:
            assert secret not in outcome.out + outcome.err

    return Case(f"sonar-host-{case_id}", ("config", "validate"), expect,
                config_extra=f"gates:\n  sonar:\n    host_url: {host}\n",
                mentions=mentions if expect else (), check=check)


HOST_CASES = [
    host_case("control-sonarcloud", "https://sonarcloud.io", 0),
    host_case("control-loopback-http", "http://127.0.0.1:9000", 0),
    host_case("control-loopback-v6", "'http://[::1]:9000'", 0),
    host_case("control-sonarqube-path", "https://sonar.example.com:8443/sonarqube", 0),
    host_case("plain-http-remote", "http://sonar.example.com", 2, mentions=("gates.sonar.host_url", "plain http")),
    host_case("localhost-lookalike", "http://localhost.evil.example", 2),
    host_case("loopback-lookalike", "http://127.0.0.1.evil.example", 2),
    host_case("ftp", "ftp://sonar.example.com", 2),
    host_case("userinfo", "https://admin:hunter2secret@sonar.example.com", 2, secret="hunter2secret"),
    host_case("query", "'https://sonar.example.com/?redirect=https://evil.example'", 2),
    host_case("no-host", "'https://'", 2),
    host_case("bad-port", "https://sonar.example.com:99999", 2),
    host_case("no-scheme", "sonar.example.com", 2),
    host_case("number", "443", 2),
    host_case("list", "[https://sonarcloud.io]", 2),
    host_case("spaces", "'https://sonar example.com'", 2),
    Case("sonar-report-task-key-removed", ("config", "validate"), 2,
         config_extra="gates:\n  sonar:\n    report_task: .scannerwork/report-task.txt\n",
         mentions=("report_task", ".devops/sonar")),
    Case("sonar-scanner-arg-host", ("quality", "--dry-run", "--scanner-arg", "-Dsonar.host.url=https://evil.example"),
         2, mentions=("--scanner-arg",)),
    Case("sonar-scanner-arg-api", ("quality", "--dry-run", "--scanner-arg", "--sonar-scanner-api-url=https://evil"),
         2, mentions=("--scanner-arg",)),
    Case("sonar-scanner-arg-token", ("quality", "--dry-run", "--scanner-arg", "--token=abc"), 2,
         mentions=("--scanner-arg",)),
    Case("sonar-scanner-arg-report", ("quality", "--dry-run", "--scanner-arg",
                                      "-Dsonar.scanner.metadataFilepath={canary}/x"), 2, mentions=("--scanner-arg",)),
    Case("sonar-control-scanner-arg", ("quality", "--dry-run", "--scanner-arg", "-Dsonar.verbose=true"), 0),
    Case("sonar-quality-timeout-nan", ("quality", "--dry-run", "--timeout", "nan"), 2, mentions=("--timeout",)),
]


# --- the GitHub API URL ---------------------------------------------------------------------


def _pull_request_config(api: str) -> str:
    return ("  staging:\n    url: https://staging.example.com\n    cluster: {name: test-staging}\n"
            "    gitops:\n      path: gitops/environments/dev\n"
            f"      pull_request: {{api_url: '{api}'}}\n")


def api_case(case_id: str, api: str, expect: int, secret: str = "") -> Case:
    def check(_ctx: CaseContext, outcome: Outcome) -> None:
        if secret:
            assert secret not in outcome.out + outcome.err

    return Case(f"github-api-{case_id}", ("config", "validate"), expect, config_extra=_pull_request_config(api),
                mentions=("pull_request.api_url",) if expect else (), check=check)


def _bare_remote(ctx: CaseContext) -> Path:
    """A bare GitOps repository beside the project (not in the canary), seeded from it."""
    bare = ctx.root.parent / "gitops-remote" / "org" / "gitops.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ctx.root), str(bare)], check=True, capture_output=True)
    return bare


def _env_api(ctx: CaseContext) -> None:
    ctx.env["DEVOPS_GITOPS_REPO"] = str(_bare_remote(ctx))
    ctx.env["GITHUB_API_URL"] = "http://api.github.example"
    ctx.env["GITHUB_TOKEN"] = "ghs_badinput0123456789"


API_CASES = [
    api_case("control-github", "https://api.github.com", 0),
    api_case("control-enterprise", "https://ghe.example.com/api/v3", 0),
    api_case("control-loopback", "http://127.0.0.1:8080/api/v3", 0),
    api_case("plain-http", "http://api.github.example", 2),
    api_case("ftp", "ftp://api.github.example", 2),
    api_case("userinfo", "https://x:ghp_sneaky0123@ghe.example.com/api/v3", 2, secret="ghp_sneaky0123"),
    api_case("fragment", "https://ghe.example.com/api/v3#x", 2),
    Case("github-api-env-plain-http", ("--json", *SET_IMAGE), 2, setup=_env_api,
         mentions=("$GITHUB_API_URL",)),
]


# --- GitOps URLs with credentials ----------------------------------------------------------


def _no_secret(_ctx: CaseContext, outcome: Outcome) -> None:
    assert SECRET not in outcome.out + outcome.err, "the credential reached the output"


def gitops_url_case(case_id: str, url: str, expect: int, argv: tuple[str, ...] = ("config", "validate"),
                    mentions: tuple[str, ...] = ("environments.dev.gitops.repo",)) -> Case:
    return Case(f"gitops-url-{case_id}", argv, expect, env={"DEVOPS_GITOPS_REPO": url},
                mentions=mentions if expect else (), check=_no_secret)


def _git_host_setup(*, redirect: bool = False, wrong: bool = False) -> Callable[[CaseContext], None]:
    def setup(ctx: CaseContext) -> None:
        bare = _bare_remote(ctx)
        root = bare.parent.parent
        if redirect:
            other = _start(ctx, "other", "127.0.0.2", GitBackend(root))
            configured = _start(ctx, "git", "127.0.0.1",
                                lambda r: Answer(302, {"Location": other.url + r.path}))
        else:
            configured = _start(ctx, "git", "127.0.0.1", GitBackend(root, ("deploy", SECRET)))
            configured.snapshot_processes = True
        password = "glpat-Wrong0123456789" if wrong else SECRET
        ctx.env["DEVOPS_GITOPS_REPO"] = f"http://deploy:{password}@127.0.0.1:{configured.port}/org/gitops.git"

    return setup


def _git_check(*, redirect: bool = False) -> Callable[[CaseContext, Outcome], None]:
    def check(ctx: CaseContext, outcome: Outcome) -> None:
        _no_secret(ctx, outcome)
        assert "glpat-Wrong0123456789" not in outcome.out + outcome.err
        configured = _server(ctx, "git")
        assert configured.authorizations(), "control: the configured host got the credentials"
        if redirect:
            assert _server(ctx, "other").requests == [], "the redirect target was contacted"
        else:
            assert not [line for line in configured.cmdlines if SECRET in line], "the credential was on argv"

    return check


GITOPS_CASES = [
    gitops_url_case("control-https-credentials", f"https://deploy:{SECRET}@git.example.com/org/gitops.git", 0),
    gitops_url_case("control-config-show-redacted", f"https://deploy:{SECRET}@git.example.com/org/gitops.git", 0,
                    argv=("--json", "config", "show")),
    gitops_url_case("credentials-plain-http", f"http://deploy:{SECRET}@git.example.com/org/gitops.git", 2),
    gitops_url_case("credentials-ssh-password", f"ssh://deploy:{SECRET}@git.example.com/org/gitops.git", 2),
    gitops_url_case("credentials-ftp", f"ftp://deploy:{SECRET}@git.example.com/org/gitops.git", 2),
    gitops_url_case("credentials-git-protocol", f"git://deploy:{SECRET}@git.example.com/org/gitops.git", 2),
    gitops_url_case("credentials-control-character", f"https://deploy:{SECRET}@git.example.com/\x1b[2J", 2),
    Case("gitops-url-credentials-in-config-file", ("config", "validate"), 2,
         config_extra=("  staging:\n    url: https://staging.example.com\n    cluster: {name: s}\n"
                       f"    gitops: {{path: gitops/environments/dev, repo: 'http://u:{SECRET}@git.example.com/g.git'}}\n"),
         mentions=("environments.staging.gitops.repo",), check=_no_secret),
    gitops_url_case("unreachable-host-redacted", f"https://deploy:{SECRET}@127.0.0.1:1/org/gitops.git", 3,
                    argv=SET_IMAGE, mentions=("https://***@127.0.0.1:1/org/gitops.git",)),
    Case("gitops-url-control-credentials-to-their-host", ("--json", *SET_IMAGE, "--dry-run"), 0,
         setup=_git_host_setup(), check=_git_check()),
    Case("gitops-url-wrong-credentials", SET_IMAGE, 3, setup=_git_host_setup(wrong=True), check=_git_check(),
         mentions=("***@127.0.0.1",)),
    Case("gitops-url-redirect-to-another-host", SET_IMAGE, 3, setup=_git_host_setup(redirect=True),
         check=_git_check(redirect=True), mentions=("302",)),
    Case("gitops-url-origin-credentials-plain-http", SET_IMAGE, 2,
         setup=lambda ctx: _git(ctx, "remote", "add", "origin", f"http://u:{SECRET}@git.example.com/g.git"),
         mentions=("origin",), check=_no_secret),
]


CASES = [*REPORT_TASK_CASES, *HOST_CASES, *API_CASES, *GITOPS_CASES]
