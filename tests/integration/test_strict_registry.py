"""Every authenticated registry path of `devops build --push` against a registry as strict as
Docker Hub: the real CNCF distribution registry with `auth: token`, its token service issuing
JWTs for exactly the scopes asked and granted (tests/support/strictregistry.py), the real Docker
engine and CLI (`docker login --password-stdin`, `docker push`), and a fault proxy in front.

What reached the token service and any hostile server is read from their own records; digests
and tags are read back from the registry directly, never only from devops' output.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from devops.config import load_config
from devops.errors import HttpError
from devops.wiring import adapters as wiring
from tests.support.cli import Outcome, run_cli
from tests.support.faultproxy import Rule
from tests.support.project import commit_all, git, make_project
from tests.support.recording_http import RecordingServer
from tests.support.strictregistry import NthRule, StrictRegistry, TimedProxy, normal_scope, use_token_realm
from tests.support.tokenserver import address, basic_user, carried, decode_claims, json_answer, query

pytestmark = pytest.mark.docker


@pytest.fixture
def project(tmp_path: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, namespace: str,
            standin_build_args: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One service, `registry.host` = the proxy in front of the strict registry, the token realm
    allowed in `registry.token_realms`, the writer's credentials, a Docker config of its own."""
    root = make_project(tmp_path / "shop", namespace=namespace, registry=strict_proxy.address, services=("alpha",),
                        commit=False)
    use_token_realm(root, strict_registry.tokens.realm)
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "initial")
    monkeypatch.setenv("DEVOPS_BUILD_ARGS", f"DEBIAN_IMAGE={standin_build_args['DEBIAN_IMAGE']}")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    for name, value in strict_registry.env("writer").items():
        monkeypatch.setenv(name, value)
    yield root
    images = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    mine = [image for image in images if f"/{namespace}/" in image]
    if mine:
        subprocess.run(["docker", "rmi", "-f", *mine], capture_output=True)


def build_push(root: Path) -> Outcome:
    return run_cli("--json", "build", "--push", cwd=root)


def new_commit_with_the_same_inputs(root: Path) -> str:
    (root / "NOTES.md").write_text("not a build input\n")
    commit_all(root, "docs only")
    git(root, "tag", "v2.0.0")
    return git(root, "rev-parse", "HEAD").strip()


def as_user(monkeypatch: pytest.MonkeyPatch, registry: StrictRegistry, user: str) -> None:
    for name, value in registry.env(user).items():
        monkeypatch.setenv(name, value)


def test_login_push_and_readback_use_exactly_the_scopes_they_need(
        project: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, namespace: str,
        tmp_path: Path) -> None:
    result = build_push(project)
    assert result.code == 0, result.err
    entry = result.json()["services"][0]  # type: ignore[index]
    repository = f"{namespace}/alpha"
    tag = entry["image"].rsplit(":", 1)[1]
    assert entry["digest"] == strict_registry.digest(repository, tag), "the registry holds what devops reports"

    tokens = strict_registry.tokens
    login = [r for r in tokens.requests if query(r).get("offline_token") == ["true"]]
    assert login, "docker login asked the token service (the daemon does that for the CLI)"
    assert basic_user(login[0]) == ("writer", strict_registry.password("writer")), "with the token from stdin"
    auths = json.loads((tmp_path / "docker-config" / "config.json").read_text())["auths"]
    assert strict_proxy.address in auths, "docker login stored the login for the configured host only"
    assert list(auths) == [strict_proxy.address]

    pushed = tokens.scopes_asked("writer", agent="docker/")
    assert [f"repository:{repository}:push,pull"] in pushed, "the engine asked for push to push"
    # devops' own calls: the build's existence check and the digest read-back read; the image's
    # other tags are added through the registry API after the one docker push, with the
    # pull,push scope the manifest PUT's challenge names.
    assert strict_registry.devops_scopes("writer") == [[f"repository:{repository}:pull"],
                                                       [f"repository:{repository}:pull,push"]]
    assert {basic_user(r) for r in tokens.requests if r.headers.get("User-Agent", "").startswith("devops/")} == {
        ("writer", strict_registry.password("writer"))}, "devops asked the allowed realm with the configured login"
    granted = [c["access"] for c in tokens.issued if c["sub"] == "writer"]
    assert [{"type": "repository", "name": repository, "actions": ["pull"]}] in granted, "exactly what was asked"


def test_a_wrong_token_fails_docker_login_with_exit_3_and_is_not_shown(
        project: Path, strict_registry: StrictRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKERHUB_TOKEN", "dckr_pat_wrong-and-secret")
    result = build_push(project)
    assert result.code == 3, result.err
    assert "docker login" in result.err and "failed" in result.err
    assert "dckr_pat_wrong-and-secret" not in result.err + result.out
    refused = [r for r in strict_registry.tokens.requests if basic_user(r) == ("writer", "dckr_pat_wrong-and-secret")]
    assert refused, "the daemon did present the wrong token to the token service (and got 401)"


def test_same_inputs_on_a_new_commit_add_tags_with_a_push_scoped_token_and_no_push(
        project: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, namespace: str) -> None:
    first = build_push(project)
    assert first.code == 0, first.err
    digest = first.json()["services"][0]["digest"]  # type: ignore[index]
    commit = new_commit_with_the_same_inputs(project)
    strict_registry.tokens.clear()
    strict_proxy.log.clear()
    strict_proxy.times.clear()

    again = build_push(project)
    assert again.code == 0, again.err
    entry = again.json()["services"][0]  # type: ignore[index]
    assert entry["push"]["skipped"] == "already in the registry"
    repository = f"{namespace}/alpha"
    for tag in (f"sha-{commit[:7]}", "2.0.0", "2.0", "2"):
        assert strict_registry.digest(repository, tag) == digest
    assert not [p for m, p, _ in strict_proxy.log if "/blobs/" in p], "no layer moved"
    # The pull token of the HEADs, then exactly the wider scope the registry's challenge named
    # for the manifest PUT, once: it is cached per (repository, scope) for the other tags.
    assert strict_registry.devops_scopes("writer") == [
        [f"repository:{repository}:pull"], [f"repository:{repository}:pull,push"]]
    puts = [p for m, p, _ in strict_proxy.log if m == "PUT" and "/manifests/" in p]
    assert len(puts) == 4 + 1, "four tags, and the first PUT once more after the challenge"


def test_a_read_only_token_cannot_add_tags_and_the_error_names_the_scope(
        project: Path, strict_registry: StrictRegistry, namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_push(project).code == 0
    new_commit_with_the_same_inputs(project)
    as_user(monkeypatch, strict_registry, "reader")
    strict_registry.tokens.clear()
    result = build_push(project)
    assert result.code == 3, result.err
    repository = f"{namespace}/alpha"
    named = re.search(r"401 again with a token for scope '([^']+)'", result.err)
    assert named and normal_scope(named.group(1)) == f"repository:{repository}:pull,push", result.err
    assert "$DOCKERHUB_USERNAME" in result.err, "the hint names the credential variables"
    # The token service was asked for exactly pull,push and granted the reader only pull.
    assert [f"repository:{repository}:pull,push"] in strict_registry.devops_scopes("reader")
    assert all(a["actions"] == ["pull"] for c in strict_registry.tokens.issued for a in c["access"])
    assert strict_registry.digest(repository, "2.0.0") is None, "no tag was added"


def test_429_with_retry_after_on_the_nth_manifest_request_is_honoured(
        project: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, namespace: str) -> None:
    assert build_push(project).code == 0
    new_commit_with_the_same_inputs(project)
    # Docker Hub's pull limit: the second manifest read of the run is throttled for 2 s.
    rule = strict_proxy.add(NthRule("HEAD", "/manifests/", status=429, times=1, after=1,
                                    headers={"Retry-After": "2"}))
    assert isinstance(rule, NthRule)
    result = build_push(project)
    assert result.code == 0, result.err
    assert len(rule.at) == 1, "one request was throttled"
    after = [t for t, method, path, what in strict_proxy.timed()
             if t > rule.at[0] and "/manifests/" in path and what == "forwarded"]
    assert after, "the throttled request was sent again"
    assert after[0] - rule.at[0] >= 2.0, "not before the Retry-After the registry asked for"
    assert strict_registry.digest(f"{namespace}/alpha", "2.0.0") is not None


def test_delete_gets_a_delete_scoped_token_and_a_reader_is_refused_naming_it(
        project: Path, strict_registry: StrictRegistry, namespace: str, monkeypatch: pytest.MonkeyPatch) -> None:
    result = build_push(project)
    assert result.code == 0, result.err
    entry = result.json()["services"][0]  # type: ignore[index]
    repository, digest = f"{namespace}/alpha", entry["digest"]

    as_user(monkeypatch, strict_registry, "reader")
    reader = wiring.registry_client(load_config(start=project))
    with pytest.raises(HttpError, match=f"scope 'repository:{repository}:delete'"):
        reader.delete(repository, digest)
    assert strict_registry.digest(repository, digest) == digest, "still there"

    as_user(monkeypatch, strict_registry, "writer")
    strict_registry.tokens.clear()
    writer = wiring.registry_client(load_config(start=project))
    writer.delete(repository, digest)
    assert strict_registry.digest(repository, digest) is None, "deleted"
    assert strict_registry.devops_scopes("writer") == [[f"repository:{repository}:delete"]]
    issued = [c["access"] for c in strict_registry.tokens.issued if c["sub"] == "writer"]
    assert issued == [[{"type": "repository", "name": repository, "actions": ["delete"]}]]


@pytest.fixture
def elsewhere() -> Iterator[RecordingServer]:
    """A hostile token realm on another loopback host, recording whatever reaches it."""
    with RecordingServer("127.0.0.2", lambda request: json_answer({"token": "stolen"})) as server:
        yield server


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_challenge_naming_a_realm_on_another_host_is_refused_with_nothing_sent(
        project: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, elsewhere: RecordingServer,
        namespace: str, scheme: str) -> None:
    realm = f"{scheme}://{address(elsewhere)}/token"
    strict_proxy.add(Rule("HEAD", "/manifests/", status=401, headers={
        "WWW-Authenticate": f'Bearer realm="{realm}",service="hub",scope="repository:{namespace}/alpha:pull"'}))
    result = build_push(project)
    assert result.code == 3, result.err
    assert realm in result.err and "not allowed" in result.err and "nothing was sent" in result.err
    assert "registry.token_realms" in result.err
    assert elsewhere.requests == [], "the hostile realm received nothing at all"
    assert strict_registry.devops_scopes("writer") == [], "and no token was asked for anywhere"


def test_control_a_realm_listed_in_token_realms_does_receive_the_credentials(
        project: Path, strict_registry: StrictRegistry, strict_proxy: TimedProxy, elsewhere: RecordingServer,
        namespace: str) -> None:
    """The recording server would see a leak: listed in the config, it gets the Basic auth."""
    config = project / "pipelines" / "devops.yaml"
    config.write_text(config.read_text().replace(
        "token_realms: [", f'token_realms: ["http://{address(elsewhere)}/token", '))
    strict_proxy.add(Rule("HEAD", "/manifests/", status=401, headers={
        "WWW-Authenticate": f'Bearer realm="http://{address(elsewhere)}/token",service="hub",'
                            f'scope="repository:{namespace}/alpha:pull"'}))
    result = build_push(project)
    assert result.code == 3, result.err  # its "stolen" token does not satisfy the registry
    assert "401 again" in result.err
    assert carried(elsewhere, strict_registry.password("writer")), "the allowed realm got the credentials"
    assert query(elsewhere.requests[0])["scope"] == [f"repository:{namespace}/alpha:pull"]


def test_the_registry_verifies_the_tokens_signature(strict_registry: StrictRegistry, namespace: str) -> None:
    """The registry is strict: a token with the right claims signed by another key is refused."""
    import requests

    from tests.support.tokenserver import Signer

    answer = requests.get(strict_registry.tokens.realm, timeout=10,
                          params={"service": "devops-strict-registry", "scope": f"repository:{namespace}/x:pull"},
                          auth=("auditor", strict_registry.password("auditor")))
    claims = decode_claims(answer.json()["token"])
    url = f"http://{strict_registry.address}/v2/{namespace}/x/tags/list"
    good = requests.get(url, headers={"Authorization": f"Bearer {answer.json()['token']}"}, timeout=10)
    assert good.status_code == 404, "a good token gets through to 'repository unknown'"
    forged = Signer.create().jwt(claims)
    bad = requests.get(url, headers={"Authorization": f"Bearer {forged}"}, timeout=10)
    assert bad.status_code == 401
