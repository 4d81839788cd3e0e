"""RegistryClient's token auth against recorded answers shaped exactly like Docker Hub's
(registry-1.docker.io challenges, auth.docker.io/token answers; Docker Hub cannot be reached
from here) and like other registries' (same-origin realms, GitLab's separate realm).

`responses` refuses any URL not registered, so "nothing was sent" is checked by the list of
calls it saw: a refused realm never appears there.
"""

from __future__ import annotations

import json
import re

import pytest
import responses

from devops.adapters.registry import RegistryClient, parse_challenge
from devops.errors import HttpError

HUB = "https://registry-1.docker.io/v2"
AUTH = "https://auth.docker.io/token"
REPO = "techitfactory/cart"
DIGEST = "sha256:" + "a" * 64
MANIFEST = b'{"schemaVersion": 2}'
MEDIA = "application/vnd.docker.distribution.manifest.v2+json"


def hub_challenge(actions: str, *, realm: str = AUTH, error: str = "") -> dict[str, str]:
    value = f'Bearer realm="{realm}",service="registry.docker.io",scope="repository:{REPO}:{actions}"'
    if error:
        value += f',error="{error}"'
    return {"WWW-Authenticate": value}


def hub(**kwargs: object) -> RegistryClient:
    return RegistryClient("docker.io", username="ci-bot", token="dckr_pat_secret", **kwargs)  # type: ignore[arg-type]


def token_answer(token: str) -> dict[str, object]:
    return {"token": token, "access_token": token, "expires_in": 300, "issued_at": "2026-11-25T18:40:00Z"}


class TokenRealm:
    """auth.docker.io/token: a token named after the scope asked, and who asked."""

    def __init__(self, url: str = AUTH) -> None:
        self.url = url
        self.asked: list[tuple[list[str], str]] = []

    def __call__(self, request):  # type: ignore[no-untyped-def]
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(request.url).query)
        self.asked.append((query.get("scope", []), request.headers.get("Authorization", "")))
        scope = query.get("scope", [""])[0]
        return 200, {"Content-Type": "application/json"}, json.dumps(
            token_answer("tok-" + scope.rsplit(":", 1)[-1].replace(",", "-")))


def bearer(request) -> str:  # type: ignore[no-untyped-def]
    return str(request.headers.get("Authorization", ""))


def test_docker_hub_is_https_even_when_the_file_says_insecure() -> None:
    assert hub(insecure=True).base_url == HUB


@responses.activate
def test_adding_a_tag_on_docker_hub_gets_a_pull_push_token_for_the_put() -> None:
    """The issue's failure: a pull token sent with the PUT; Hub asks for pull,push."""
    realm = TokenRealm()
    responses.add_callback(responses.GET, AUTH, callback=realm)

    def head(request):  # type: ignore[no-untyped-def]
        if "/manifests/sha-new" in request.url:
            return (404, {}, "") if bearer(request) else (401, hub_challenge("pull"), "")
        return (200, {"Docker-Content-Digest": DIGEST}, "") if bearer(request) else (401, hub_challenge("pull"), "")

    def put(request):  # type: ignore[no-untyped-def]
        if bearer(request) == "Bearer tok-pull-push":
            return 201, {"Docker-Content-Digest": DIGEST}, ""
        return 401, hub_challenge("pull,push", error="insufficient_scope"), ""

    responses.add_callback(responses.HEAD, re.compile(rf"{HUB}/{REPO}/manifests/.*"), callback=head)
    responses.add(responses.GET, f"{HUB}/{REPO}/manifests/{DIGEST}", body=MANIFEST, content_type=MEDIA)
    responses.add_callback(responses.PUT, re.compile(rf"{HUB}/{REPO}/manifests/.*"), callback=put)

    client = hub()
    assert client.tag(REPO, DIGEST, "sha-new") is True
    assert [scopes for scopes, _ in realm.asked] == [[f"repository:{REPO}:pull"], [f"repository:{REPO}:pull,push"]]
    assert all(auth.startswith("Basic ") for _, auth in realm.asked)
    puts = [c for c in responses.calls if c.request.method == "PUT"]
    assert [bearer(c.request) for c in puts] == ["Bearer tok-pull", "Bearer tok-pull-push"]
    assert puts[-1].request.body == MANIFEST

    # The pull,push token is cached per (repository, scope): the next tag asks for nothing new.
    assert client.tag(REPO, DIGEST, "sha-new") is True
    assert len(realm.asked) == 2


@responses.activate
def test_a_second_401_names_the_scope_and_the_credentials() -> None:
    responses.add(responses.GET, AUTH, json=token_answer("tok-useless"))
    responses.add(responses.DELETE, f"{HUB}/{REPO}/manifests/{DIGEST}", status=401, headers=hub_challenge("delete"))
    client = hub(credentials_hint="check $DOCKERHUB_USERNAME and $DOCKERHUB_TOKEN")
    with pytest.raises(HttpError, match=rf"401 again with a token for scope 'repository:{REPO}:delete'.*'ci-bot'"):
        client.delete(REPO, DIGEST)
    assert len([c for c in responses.calls if c.request.url.startswith(AUTH)]) == 1, "retried once, not forever"


@pytest.mark.parametrize("realm, why", [
    ("https://evil.example/token", "neither Docker Hub's token service"),
    ("https://auth.docker.io.evil.example/token", "neither"),
    ("https://auth.docker.io:8443/token", "neither"),
    ("https://auth.docker.io/elsewhere", "neither"),
    ("http://auth.docker.io/token", "plain http"),
    ("https://ci-bot:pw@auth.docker.io/token", "user or password"),
    ("https://auth.docker.io/token?steal=1", "query"),
    ("ftp://auth.docker.io/token", "must start with https://"),
    ("", "no realm"),
])
@responses.activate
def test_docker_hub_credentials_go_to_auth_docker_io_only(realm: str, why: str) -> None:
    responses.add(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", status=401,
                  headers={"WWW-Authenticate": f'Bearer realm="{realm}",service="registry.docker.io",'
                                               f'scope="repository:{REPO}:pull"'})
    with pytest.raises(HttpError, match="nothing was sent to it") as raised:
        hub().manifest_digest(REPO, "latest")
    assert why in str(raised.value) and "registry.token_realms" in str(raised.value)
    assert [c.request.url.split("?")[0] for c in responses.calls] == [f"{HUB}/{REPO}/manifests/latest"]


@pytest.mark.parametrize("host, realm, token_realms, allowed", [
    ("registry.example.com", "https://registry.example.com/token", (), True),        # same origin (Harbor, Quay)
    ("registry.example.com", "https://registry.example.com:443/v2/token", (), True),
    ("registry.example.com:5000", "https://registry.example.com:5000/auth", (), True),
    ("registry.example.com:5000", "https://registry.example.com/auth", (), False),   # another port
    ("registry.example.com", "http://registry.example.com/token", (), False),       # plain http, not loopback
    ("registry.example.com", "https://auth.docker.io/token", (), False),            # Hub's realm is Hub's only
    ("registry.gitlab.com", "https://gitlab.com/jwt/auth", (), False),
    ("registry.gitlab.com", "https://gitlab.com/jwt/auth", ("https://gitlab.com/jwt/auth",), True),
    ("registry.gitlab.com", "https://gitlab.com/other", ("https://gitlab.com/jwt/auth",), False),
    ("registry.gitlab.com", "https://gitlab.com/other", ("https://gitlab.com",), True),  # an origin: any path
    ("registry.gitlab.com", "http://gitlab.com/jwt/auth", ("https://gitlab.com/jwt/auth",), False),
    ("127.0.0.1:5000", "http://127.0.0.1:5000/token", (), True),                    # loopback may be http
    ("127.0.0.1:5000", "http://127.0.0.2:5000/token", (), False),
    ("127.0.0.1:5000", "http://localhost:5000/token", (), False),                   # names are not resolved
])
def test_realm_rules(host: str, realm: str, token_realms: tuple[str, ...], allowed: bool) -> None:
    client = RegistryClient(host, insecure=host.startswith("127."), token_realms=token_realms)
    assert (client.realm_refusal(realm) is None) is allowed, client.realm_refusal(realm)


@responses.activate
def test_a_realm_that_redirects_is_not_followed() -> None:
    responses.add(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", status=401, headers=hub_challenge("pull"))
    responses.add(responses.GET, AUTH, status=302, headers={"Location": "https://evil.example/token"})
    with pytest.raises(HttpError, match="HTTP 302"):
        hub().manifest_digest(REPO, "latest")
    assert not [c for c in responses.calls if "evil.example" in c.request.url]


@responses.activate
def test_a_challenge_for_another_repository_is_refused_without_asking_for_a_token() -> None:
    responses.add(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", status=401, headers={
        "WWW-Authenticate": f'Bearer realm="{AUTH}",service="registry.docker.io",scope="repository:victim/app:push"'})
    with pytest.raises(HttpError, match="not one on techitfactory/cart"):
        hub().manifest_digest(REPO, "latest")
    assert len(responses.calls) == 1


@pytest.mark.parametrize("answer", [{"json": {"details": "ok"}}, {"body": "<html>"}, {"json": {"token": "a b\r\nX: y"}},
                                    {"json": ["token"]}])
@responses.activate
def test_a_token_answer_without_a_usable_token_is_exit_3(answer: dict[str, object]) -> None:
    responses.add(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", status=401, headers=hub_challenge("pull"))
    responses.add(responses.GET, AUTH, **answer)  # type: ignore[arg-type]
    with pytest.raises(HttpError, match="token service's answer") as raised:
        hub().manifest_digest(REPO, "latest")
    assert raised.value.exit_code == 3


@responses.activate
def test_a_basic_challenge_is_a_credentials_error_and_no_credentials_are_sent() -> None:
    responses.add(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", status=401,
                  headers={"WWW-Authenticate": 'Basic realm="Registry Realm"'})
    with pytest.raises(HttpError, match="no Bearer challenge"):
        hub().manifest_digest(REPO, "latest")
    assert all("Authorization" not in c.request.headers for c in responses.calls)


@responses.activate
def test_anonymous_pull_tokens_need_no_credentials() -> None:
    """Without credentials the realm is still asked (anonymous pull of a public image), no auth."""
    realm = TokenRealm()
    responses.add_callback(responses.GET, AUTH, callback=realm)
    responses.add_callback(responses.HEAD, f"{HUB}/{REPO}/manifests/latest", callback=lambda r: (
        (200, {"Docker-Content-Digest": DIGEST}, "") if bearer(r) else (401, hub_challenge("pull"), "")))
    assert RegistryClient("docker.io").manifest_digest(REPO, "latest") == DIGEST
    assert realm.asked == [([f"repository:{REPO}:pull"], "")]


def test_challenge_parsing() -> None:
    parsed = parse_challenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                             'scope="repository:a/b:pull,push",error="insufficient_scope"')
    assert parsed == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                      "scope": "repository:a/b:pull,push", "error": "insufficient_scope"}
    assert parse_challenge('bearer realm=https://x/t, scope="repository:a:pull"') == {
        "realm": "https://x/t", "scope": "repository:a:pull"}
    assert parse_challenge('Basic realm="x"') is None
    assert parse_challenge("") is None
    # the first of a repeated parameter wins: a second realm cannot override the first
    assert parse_challenge('Bearer realm="https://a/t",realm="https://b/t"') == {"realm": "https://a/t"}
