"""Registry inputs: `registry.host`, `registry.namespace`, `registry.token_realms` (and their
environment overrides), release records naming another repository for promotion and rollback,
and hostile registries whose token challenge points the credentials elsewhere.

The servers are small local HTTP servers that record what reached them
(tests/support/recording_http.py): a registry answering as the distribution API does, its token
realm, and an attacker on 127.0.0.2. A case's `check` proves no credential (the token below)
reached a host that was not configured, and that nothing was written to the GitOps repository.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.security.badinput.harness import Case, CaseContext
from tests.support.cli import Outcome
from tests.support.project import commit_all, git
from tests.support.recording_http import Answer, Recorded, RecordingServer
from tests.support.tokenserver import address, carried, json_answer

TOKEN = "dckr_pat_badinput-canary-token"
CREDENTIALS = {"DOCKERHUB_USERNAME": "ci-bot", "DOCKERHUB_TOKEN": TOKEN}
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def validate(id: str, expect: int, registry_lines: str, *mentions: str, env: dict[str, str] | None = None) -> Case:
    """`devops config validate` with the registry block replaced by `registry_lines`."""
    config = _base_config().split("registry:\n", 1)[0] + "registry:\n" + registry_lines + _after_registry()
    return Case(id, ("config", "validate"), expect, config=config, env=env or {}, mentions=mentions)


def _base_config() -> str:
    from tests.security.badinput.project import ENVIRONMENTS
    from tests.support.project import config_text

    head = config_text().partition("environments:\n")[0]
    return head + ENVIRONMENTS


def _after_registry() -> str:
    text = _base_config()
    return text[text.index("build:\n"):]


LOCAL = '  host: "127.0.0.1:5000"\n  namespace: test\n  insecure: true\n'

CONFIG_CASES = [
    validate("registry-control-host-with-port-and-realms", 0,
             '  host: "registry.example.com:5443"\n  namespace: team.a-b_c\n'
             '  token_realms: ["https://auth.example.com/token", "http://127.0.0.1:9999", "https://[::1]:8443/t"]\n'),
    validate("registry-control-docker-hub", 0, '  host: docker.io\n  namespace: techitfactory\n'),
    validate("registry-host-with-scheme", 2, '  host: "https://registry.example.com"\n  namespace: test\n',
             "registry.host", "without a scheme"),
    validate("registry-host-with-user-and-password", 2, '  host: "ci:secret@registry.example.com"\n  namespace: test\n',
             "registry.host", "without user or password"),
    validate("registry-host-with-path", 2, '  host: "registry.example.com/team"\n  namespace: test\n',
             "registry.host", "registry.namespace"),
    validate("registry-host-upper-case", 2, '  host: "Registry.Example.com"\n  namespace: test\n',
             "registry.host", "lower-case"),
    validate("registry-host-port-zero", 2, '  host: "registry.example.com:0"\n  namespace: test\n',
             "registry.host", "1 to 65535"),
    validate("registry-host-port-too-big", 2, '  host: "registry.example.com:70000"\n  namespace: test\n',
             "registry.host", "1 to 65535"),
    validate("registry-host-port-empty", 2, '  host: "registry.example.com:"\n  namespace: test\n',
             "registry.host", "registry.example.com:"),
    validate("registry-host-with-space", 2, '  host: "registry example.com"\n  namespace: test\n', "registry.host", "spaces"),
    validate("registry-host-empty", 2, '  host: ""\n  namespace: test\n', "registry.host"),
    validate("registry-host-with-newline", 2, '  host: "registry.example.com\\nX-Evil: 1"\n  namespace: test\n',
             "registry.host", "control characters"),
    validate("registry-host-double-dot", 2, '  host: "registry..example.com"\n  namespace: test\n', "registry.host"),
    validate("registry-host-not-a-string", 2, '  host: [a, b]\n  namespace: test\n', "registry.host", "string"),
    validate("registry-host-override-from-environment", 2, LOCAL, "registry.host", "DEVOPS_REGISTRY_HOST",
             env={"DEVOPS_REGISTRY_HOST": "evil.example/x"}),
    validate("registry-namespace-upper-case", 2, '  host: docker.io\n  namespace: Team\n', "registry.namespace"),
    validate("registry-namespace-with-slash", 2, '  host: docker.io\n  namespace: team/sub\n', "registry.namespace"),
    validate("registry-namespace-dot-dot", 2, '  host: docker.io\n  namespace: ".."\n', "registry.namespace"),
    validate("registry-namespace-empty", 2, '  host: docker.io\n  namespace: ""\n', "registry.namespace"),
    validate("registry-namespace-too-long", 2, f'  host: docker.io\n  namespace: {"a" * 300}\n',
             "registry.namespace", "255"),
    validate("registry-namespace-override-from-environment", 2, LOCAL, "registry.namespace",
             env={"DEVOPS_REGISTRY_NAMESPACE": "../../etc"}),
    validate("registry-token-realm-plain-http-remote", 2, LOCAL + '  token_realms: ["http://auth.example.com/token"]\n',
             "registry.token_realms", "plain http"),
    validate("registry-token-realm-with-user", 2, LOCAL + '  token_realms: ["https://u:p@auth.example.com/token"]\n',
             "registry.token_realms", "user or password"),
    validate("registry-token-realm-with-query", 2, LOCAL + '  token_realms: ["https://auth.example.com/t?x=1"]\n',
             "registry.token_realms", "query"),
    validate("registry-token-realm-with-fragment", 2, LOCAL + '  token_realms: ["https://auth.example.com/t#x"]\n',
             "registry.token_realms", "fragment"),
    validate("registry-token-realm-ftp", 2, LOCAL + '  token_realms: ["ftp://auth.example.com/token"]\n',
             "registry.token_realms", "https://"),
    validate("registry-token-realm-no-host", 2, LOCAL + '  token_realms: ["https:///token"]\n',
             "registry.token_realms"),
    validate("registry-token-realm-bad-port", 2, LOCAL + '  token_realms: ["https://auth.example.com:99999/t"]\n',
             "registry.token_realms"),
    validate("registry-token-realm-port-zero", 2, LOCAL + '  token_realms: ["https://auth.example.com:0/t"]\n',
             "registry.token_realms", "1 to 65535"),
    validate("registry-token-realm-control-character", 2, LOCAL + '  token_realms: ["https://auth.example.com/\\tt"]\n',
             "registry.token_realms", "control"),
    validate("registry-token-realm-not-a-list", 2, LOCAL + '  token_realms: "https://auth.example.com/token"\n',
             "registry.token_realms", "list"),
    validate("registry-token-realm-not-a-string", 2, LOCAL + '  token_realms: [443]\n',
             "registry.token_realms", "string"),
    validate("registry-token-realm-bare-host", 2, LOCAL + '  token_realms: ["auth.example.com"]\n',
             "registry.token_realms"),
    validate("registry-insecure-not-a-boolean", 2, '  host: docker.io\n  namespace: test\n  insecure: [yes]\n',
             "registry.insecure"),
]


# -- servers -----------------------------------------------------------------------------------

class FakeRegistry:
    """The distribution API's answer to what promotion and rollback ask (HEAD of a manifest by
    digest): 200 with Docker-Content-Digest for a token it accepts, else 401 with a Bearer
    challenge naming `realm` and the scope; `realm` None means no auth (the local registry)."""

    def __init__(self, realm: str | None = None, *, scope_repository: str | None = None) -> None:
        self.realm = realm
        self.scope_repository = scope_repository  # a hostile registry asks for another repository's scope

    def __call__(self, request: Recorded) -> Answer:
        path = request.path.split("?")[0]
        if "/manifests/" not in path:
            return json_answer({"errors": [{"code": "NOT_FOUND"}]}, 404)
        repository, _, reference = path.removeprefix("/v2/").partition("/manifests/")
        if self.realm is not None and request.authorization != "bearer good-token":
            scope = f"repository:{self.scope_repository or repository}:pull"
            challenge = f'Bearer realm="{self.realm}",service="registry",scope="{scope}"'
            return json_answer({"errors": [{"code": "UNAUTHORIZED"}]}, 401, {"WWW-Authenticate": challenge})
        return json_answer({}, 200, {"Docker-Content-Digest": reference})


def _record(services: dict[str, tuple[str, str]], env: str = "dev") -> str:
    """A release record whose entries (service -> (repository, digest)) pass every evidence check."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = {
        name: {"repository": repository, "tag": "sha-1234567", "digest": digest, "source_commit": "1234567",
               "built_at": now,
               "scan": {"verdict": "PASSED", "counts": {"CRITICAL": 0}, "checked_at": now,
                        "trivy_version": "0.76.0", "db_updated_at": now},
               "sonar": {"verdict": "SKIPPED", "reason": "not configured", "checked_at": now}}
        for name, (repository, digest) in services.items()}
    return json.dumps({"schema": 1, "environment": env, "released_at": now,
                       "released_by": {"actor": "t", "via": "cli", "run_url": None}, "source_commit": "1234567",
                       "promoted_from": None, "services": entries}, indent=2) + "\n"


def _publish_gitops(ctx: CaseContext) -> Path:
    """Commit the project and serve it as the GitOps remote (a bare clone beside the project)."""
    commit_all(ctx.root, "records")
    remote = ctx.root.parent / "gitops.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(ctx.root), str(remote)], check=True, capture_output=True)
    ctx.env["DEVOPS_GITOPS_REPO"] = str(remote)
    return remote


def _server(ctx: CaseContext, host: str, handler: Callable[[Recorded], Answer]) -> RecordingServer:
    server = RecordingServer(host, handler).start()
    ctx.cleanups.append(server.stop)
    return server


def _token(value: str) -> Callable[[Recorded], Answer]:
    return lambda request: json_answer({"token": value})


STATE: dict[str, dict[str, Any]] = {}  # case id -> its servers and the remote's head, for `check`


def _promotion(id: str, expect: int, alpha_repository: Callable[[str], str], *mentions: str,
               realm: str | None = None, hostile_scope: bool = False, allow_attacker: bool = False,
               rollback: bool = False, override_host: bool = False, extra_entries: bool = False,
               attacker_answers_token: bool = False, refused: str = "alpha") -> Case:
    """A promotion (or rollback) whose record names `alpha_repository(registry host)` for alpha.

    Servers: `registry` (the configured registry), `realm` (its own token service, listed in
    token_realms) and `attacker` (127.0.0.2). `realm` = "attacker" makes the registry's challenge
    name the attacker; "own" its own realm; None no auth.
    """

    def setup(ctx: CaseContext) -> None:
        attacker = _server(ctx, "127.0.0.2", _token("good-token" if attacker_answers_token else "stolen"))
        own = _server(ctx, "127.0.0.1", _token("good-token"))
        challenge = {"attacker": f"{attacker.url}/token", "own": f"{own.url}/token", None: None}[realm]
        registry = _server(ctx, "127.0.0.1",
                           FakeRegistry(challenge, scope_repository="victim/app" if hostile_scope else None))
        host = "127.0.0.1:5000" if override_host else address(registry)
        realms = [f"{own.url}/token"] + ([f"{attacker.url}/token"] if allow_attacker else [])
        config = ctx.root / "pipelines" / "devops.yaml"
        text = config.read_text().replace('  host: "127.0.0.1:5000"\n', f'  host: "{host}"\n')
        config.write_text(text.replace("  insecure: true\n", f"  insecure: true\n  token_realms: {json.dumps(realms)}\n"))
        if override_host:  # the record was written for 127.0.0.1:5000; this run's registry is another
            ctx.env["DEVOPS_REGISTRY_HOST"] = address(registry)
        configured = f"{host}/test"
        entries = {"alpha": (alpha_repository(host), DIGEST_A), "beta": (f"{configured}/beta", DIGEST_A)}
        if extra_entries:
            entries["gamma"] = (f"{configured}/gamma", DIGEST_A)
        dev = ctx.root / "gitops" / "environments" / "dev"
        if rollback:  # history: the record under test, then a newer one rollback --to previous undoes
            (dev / "release.json").write_text(_record(entries))
            commit_all(ctx.root, "the release to roll back to")
            newer = {"alpha": (f"{configured}/alpha", DIGEST_B), "beta": (f"{configured}/beta", DIGEST_B)}
            (dev / "release.json").write_text(_record(newer))
            for service in ("alpha", "beta"):
                (dev / "values" / f"{service}.yaml").write_text(
                    f"image:\n  repository: {configured}/{service}\n  tag: ''\n  digest: '{DIGEST_B}'\n")
        else:
            (dev / "release.json").write_text(_record(entries))
        ctx.env.update(CREDENTIALS)
        remote = _publish_gitops(ctx)
        STATE[id] = {"attacker": attacker, "own": own, "registry": registry, "remote": remote,
                     "head": git(remote, "rev-parse", "HEAD").strip()}

    def check(ctx: CaseContext, outcome: Outcome) -> None:
        state = STATE.pop(id)
        attacker, own, registry = state["attacker"], state["own"], state["registry"]
        assert git(state["remote"], "rev-parse", "HEAD").strip() == state["head"], f"{id}: something was written"
        if allow_attacker:
            assert carried(attacker, TOKEN), f"{id}: control: a realm listed in token_realms gets the credentials"
        else:
            assert attacker.requests == [], f"{id}: the attacker's host received {attacker.requests}"
        if expect == 1:
            asked = [r.path for r in registry.requests if f"/{refused}/" in r.path]
            assert asked == [], f"{id}: the registry was asked about the refused repository: {asked}"
        assert not carried(registry, TOKEN), f"{id}: the registry got the Basic credentials (only its realm may)"
        if realm == "own" and expect == 0:
            assert carried(own, TOKEN), f"{id}: control: the registry's own realm got the credentials"
        if expect == 0:
            assert registry.requests, f"{id}: control: the registry was asked"

    argv = ("rollback", "--env", "dev", "--to", "previous", "--dry-run") if rollback else \
        ("release", "--env", "prod", "--dry-run")
    return Case(id, argv, expect, mentions=mentions, setup=setup, check=check)


def _same(host: str) -> str:
    return f"{host}/test/alpha"


RECORD_CASES = [
    _promotion("registry-control-promotion-of-the-configured-repositories", 0, _same),
    _promotion("registry-control-promotion-through-the-registrys-own-token-realm", 0, _same, realm="own"),
    _promotion("registry-promotion-record-names-another-host", 1, lambda h: "127.0.0.2:5000/test/alpha",
               "alpha", "127.0.0.2:5000/test/alpha", "not the configured"),
    _promotion("registry-promotion-record-names-another-namespace", 1, lambda h: f"{h}/someone/alpha",
               "alpha", "not the configured", "someone/alpha"),
    _promotion("registry-promotion-record-names-another-services-image", 1, lambda h: f"{h}/test/beta",
               "alpha", "not the configured", "test/beta"),
    _promotion("registry-promotion-record-names-docker-hub", 1, lambda h: "docker.io/test/alpha",
               "alpha", "not the configured", "docker.io/test/alpha"),
    _promotion("registry-promotion-record-names-a-lookalike-host", 1, lambda h: f"{h}.evil.example/test/alpha",
               "alpha", "not the configured", "evil.example"),
    _promotion("registry-promotion-record-repository-with-credentials", 1, lambda h: f"u:p@{h}/test/alpha",
               "alpha", "not the configured"),
    _promotion("registry-promotion-record-repository-with-a-tag", 1, lambda h: f"{h}/test/alpha:latest",
               "alpha", "not the configured", "alpha:latest"),
    _promotion("registry-promotion-record-repository-upper-case", 1, lambda h: f"{h}/TEST/alpha",
               "alpha", "not the configured", "TEST/alpha"),
    # A control character in a record is a malformed file (exit 2), like a record without a digest.
    _promotion("registry-promotion-record-repository-with-newline", 2, lambda h: f"{h}/test/alpha\nDevops-Env: x",
               "services.alpha.repository", "one line"),
    _promotion("registry-promotion-record-from-another-registry-configuration", 1, _same,
               "alpha", "not the configured", "127.0.0.1:5000/test/alpha", override_host=True),
    _promotion("registry-promotion-record-names-an-unconfigured-service", 1, _same,
               "gamma", "not in the configuration", extra_entries=True, refused="gamma"),
    _promotion("registry-rollback-record-names-another-host", 1, lambda h: "127.0.0.2:5000/test/alpha",
               "alpha", "127.0.0.2:5000/test/alpha", "refused", rollback=True),
    _promotion("registry-rollback-record-names-another-namespace", 1, lambda h: f"{h}/other/alpha",
               "alpha", "not the configured", "other/alpha", rollback=True),
    _promotion("registry-control-rollback-of-the-configured-repositories", 0, _same, rollback=True),
    # Hostile registries: the configured host's challenge tries to send the credentials elsewhere.
    _promotion("registry-challenge-realm-on-another-host", 3, _same,
               "not allowed", "nothing was sent", "registry.token_realms", realm="attacker"),
    _promotion("registry-challenge-scope-of-another-repository", 3, _same,
               "victim/app", "no token requested", realm="own", hostile_scope=True),
    _promotion("registry-control-realm-listed-in-token-realms", 0, _same, realm="attacker", allow_attacker=True,
               attacker_answers_token=True),
    _promotion("registry-rollback-challenge-realm-on-another-host", 3, _same,
               "not allowed", realm="attacker", rollback=True),
]

CASES = CONFIG_CASES + RECORD_CASES
